package suiterun

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/report"
)

// Findings become one failed spec per requirement: labelled with it,
// named the same from run to run, its message saying what was wrong, the
// first exchange, where it was made and the other places; the requirement
// FAILs beside the verdict of the spec that made the exchange, with the
// exchange, in the report built in process and in the one read back from
// junit.xml; the progress counts them.
func TestFindingsFailTheirOwnRequirement(t *testing.T) {
	x := &evidence.Exchange{Method: "GET", Path: "/acme/chat/metadata/user/alice", Principal: "admin", Status: 200, ResponseBody: `{"timestamp":1716268800,"data":{},"duration":0}`}
	found := FindingSpecs([]evidence.Finding{
		{Requirement: "UA-GEN-003", Problem: "timestamp 1716268800 is not in milliseconds", In: "Reading reads", Exchange: x, Count: 3},
		{Requirement: "UA-BATCH-006", Problem: "101 targets were answered 200", In: "Batch refuses", Exchange: x, Count: 1},
		{Requirement: "UA-GEN-003", Problem: "timestamp 1716268801 is not in milliseconds", In: "Writing writes", Exchange: x, Count: 2},
	})
	if len(found) != 2 {
		t.Fatalf("%d specs, want one per requirement", len(found))
	}
	gen := found[0]
	if gen.FullText() != FindingsContainer+" keeps UA-GEN-003" || gen.State != types.SpecStateFailed || len(gen.Labels()) != 1 || gen.Labels()[0] != "UA-GEN-003" {
		t.Errorf("spec %q %s %v", gen.FullText(), gen.State, gen.Labels())
	}
	for _, want := range []string{"timestamp 1716268800 is not in milliseconds", "exchange: GET /acme/chat/metadata/user/alice as admin -> 200", "made in: Reading reads", "5 exchanges broke it, in: Reading reads (3); Writing writes (2)"} {
		if !strings.Contains(gen.Failure.Message, want) {
			t.Errorf("message lacks %q:\n%s", want, gen.Failure.Message)
		}
	}

	passed := types.SpecReport{ContainerHierarchyTexts: []string{"Reading"}, LeafNodeText: "reads", LeafNodeType: types.NodeTypeIt, LeafNodeLabels: []string{"UA-GET-001"}, State: types.SpecStatePassed}
	r := types.Report{SuiteDescription: "user-attributes conformance", SpecReports: append(types.SpecReports{passed}, found...)}
	dir := t.TempDir()
	path := filepath.Join(dir, report.JUnitFile)
	if err := reporters.GenerateJUnitReport(r, path); err != nil {
		t.Fatal(err)
	}
	if err := StampJUnit(path, sampleRun(), func(s string) string { return s }); err != nil {
		t.Fatal(err)
	}
	back, _, err := ReadRunJUnit(path)
	if err != nil {
		t.Fatal(err)
	}
	cat := testCatalog(t)
	for name, s := range map[string]report.Summary{"in process": Build(r, cat, func(s string) string { return s }), "from junit.xml": Build(back, cat, func(s string) string { return s })} {
		if s.Failed != 2 || s.Passed != 1 {
			t.Errorf("%s: %d failed, %d passed", name, s.Failed, s.Passed)
		}
		for _, req := range s.Requirements {
			switch req.ID {
			case "UA-GEN-003", "UA-BATCH-006":
				if req.Verdict != report.Fail || len(req.Failures) != 1 || !strings.Contains(req.Reason, "made in: ") {
					t.Errorf("%s: %s %s %q", name, req.ID, req.Verdict, req.Reason)
				}
				if name == "in process" && req.Failures[0].Exchange == nil {
					t.Errorf("%s: %s carries no exchange", name, req.ID)
				}
			case "UA-GET-001":
				if req.Verdict != report.Pass {
					t.Errorf("%s: the spec that made the exchange is %s", name, req.Verdict)
				}
			}
		}
	}

	var b bytes.Buffer
	p := NewProgress(&b, true)
	p.Start(1)
	p.SpecDone(passed)
	p.Added(found)
	if lines := strings.Split(strings.TrimSpace(b.String()), "\n"); lines[len(lines)-1] != "progress: 3/3 specs done, 2 failed (FAIL: UA-BATCH-006)" {
		t.Errorf("progress:\n%s", b.String())
	}
}
