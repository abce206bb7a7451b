package suiterun

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/attrconform/attrconform/catalog"
	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/report"
)

func testCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func failedSpecReport() types.SpecReport {
	x := evidence.Exchange{Method: "POST", Path: "/acme/chat/metadata/user/get", Principal: "admin of chat",
		RequestBody: `{"targets":[]}`, Status: 200, ResponseBody: `{"token":"SECRET-TOKEN"}`}
	return types.SpecReport{
		ContainerHierarchyTexts: []string{"Batch"}, LeafNodeText: "refuses 101 targets",
		LeafNodeType: types.NodeTypeIt, LeafNodeLabels: []string{"batch", "UA-BATCH-006"},
		State:   types.SpecStateFailed,
		Failure: types.Failure{Message: "expected status 400 or 403, got 200 SECRET-TOKEN"},
		ReportEntries: types.ReportEntries{
			{Name: evidence.EntryExchange, Value: types.WrapEntryValue(x)},
			{Name: evidence.EntryAlternative, Value: types.WrapEntryValue("batch_over_limit_status=200 (profile allows 400|403)")},
			{Name: evidence.EntryArtifact, Value: types.WrapEntryValue("history-7-round-1.html")},
		},
	}
}

// A failed spec's exchange reaches its requirement, redacted, whether the
// report comes from this process or was decoded from report.json.
func TestBuildCarriesTheFailingExchange(t *testing.T) {
	redact := func(s string) string { return strings.ReplaceAll(s, "SECRET-TOKEN", "[REDACTED]") }
	live := types.Report{SpecReports: types.SpecReports{failedSpecReport()}}
	data, err := json.Marshal(live)
	if err != nil {
		t.Fatal(err)
	}
	var decoded types.Report
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]types.Report{"in process": live, "decoded": decoded} {
		s := Build(r, testCatalog(t), redact)
		i := slices.IndexFunc(s.Requirements, func(r report.Requirement) bool { return r.ID == "UA-BATCH-006" })
		if i < 0 {
			t.Fatalf("%s: no UA-BATCH-006", name)
		}
		req := s.Requirements[i]
		if req.Verdict != report.Fail || len(req.Failures) != 1 || req.Failures[0].Exchange == nil {
			t.Fatalf("%s: %+v", name, req)
		}
		x := req.Failures[0].Exchange
		if x.Status != 200 || x.ResponseBody != `{"token":"[REDACTED]"}` || x.Method != "POST" {
			t.Errorf("%s: exchange %+v", name, x)
		}
		if req.Text == "" || len(req.Operations) == 0 || !strings.Contains(req.Failures[0].Reason, "[REDACTED]") {
			t.Errorf("%s: requirement without text, operations or redacted reason: %+v", name, req)
		}
		if len(s.Specs[0].Notes) != 0 {
			t.Errorf("%s: the exchange and the artifact are not notes: %v", name, s.Specs[0].Notes)
		}
		if len(req.Artifacts) != 1 || req.Artifacts[0] != "history-7-round-1.html" {
			t.Errorf("%s: the spec's artifact does not reach its requirement: %v", name, req.Artifacts)
		}
	}
}
