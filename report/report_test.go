package report

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/attrconform/attrconform/framework"
)

func failedSpecReport() types.SpecReport {
	x := framework.Exchange{Method: "POST", Path: "/acme/chat/metadata/user/get", Principal: "admin of chat",
		RequestBody: `{"targets":[]}`, Status: 200, ResponseBody: `{"token":"SECRET-TOKEN"}`}
	return types.SpecReport{
		ContainerHierarchyTexts: []string{"Batch"}, LeafNodeText: "refuses 101 targets",
		LeafNodeType: types.NodeTypeIt, LeafNodeLabels: []string{"batch", "UA-BATCH-006"},
		State:   types.SpecStateFailed,
		Failure: types.Failure{Message: "expected status 400 or 403, got 200 SECRET-TOKEN"},
		ReportEntries: types.ReportEntries{
			{Name: framework.ReportEntryExchange, Value: types.WrapEntryValue(x)},
			{Name: framework.ReportEntryAlternative, Value: types.WrapEntryValue("batch_over_limit_status=200 (profile allows 400|403)")},
			{Name: framework.ReportEntryArtifact, Value: types.WrapEntryValue("history-7-round-1.html")},
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
		req := requirementOf(s, "UA-BATCH-006")
		if req.Verdict != Fail || len(req.Failures) != 1 || req.Failures[0].Exchange == nil {
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

// requirements.json names its format; a reader refuses another version
// instead of misreading it, and still reads files from before versioning.
func TestRequirementsJSONIsVersioned(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/requirements.json"
	s := Summary{Requirements: []Requirement{{ID: "UA-GEN-002", Verdict: Pass}}}
	if err := s.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), `"apiVersion": "`+APIVersion+`"`) || !strings.Contains(string(data), `"kind": "`+Kind+`"`) {
		t.Fatalf("no apiVersion and kind in %s", data)
	}
	if _, err := ReadSummary(path); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"unversioned": `{"requirements":[{"id":"UA-GEN-002","verdict":"PASS"}]}`,
		"other":       `{"apiVersion":"attrconform.dev/v9","kind":"RequirementsReport","requirements":[{"id":"UA-GEN-002","verdict":"PASS"}]}`,
	} {
		os.WriteFile(path, []byte(body), 0o644)
		_, err := ReadSummary(path)
		if (name == "other") != (err != nil) {
			t.Errorf("%s: %v", name, err)
		}
		if name == "other" && !strings.Contains(fmt.Sprint(err), "this runner reads "+APIVersion) {
			t.Errorf("the error does not say which format is read: %v", err)
		}
	}
}
