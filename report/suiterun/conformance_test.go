package suiterun

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
	"sigs.k8s.io/yaml"

	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/report"
	"github.com/attrconform/attrconform/target"
)

// sampleRun is what the sample run judged with.
func sampleRun() report.Run {
	return report.Run{SuiteVersion: "0.1.0+abc", ContractSHA256: "5ab5", CatalogSHA256: report.CatalogHash(), Profile: "current",
		Knobs: map[string]string{"get_unknown_user": "404"}, LabelFilter: "!burst",
		Implementation: target.Implementation{Organization: "Acme Inc.", Project: "chat-api", Version: "v3.2.0", Contact: "api@acme.example"},
		Date:           time.Date(2026, 11, 22, 20, 28, 33, 0, time.UTC)}
}

// specsOfEachVerdict is a Ginkgo report with a spec of each verdict, a
// setup node, and a token in a message.
func specsOfEachVerdict() types.Report {
	it := func(text string, state types.SpecState, msg string, labels ...string) types.SpecReport {
		return types.SpecReport{ContainerHierarchyTexts: []string{"Batch"}, LeafNodeText: text, LeafNodeType: types.NodeTypeIt,
			LeafNodeLabels: labels, State: state, Failure: types.Failure{Message: msg}, RunTime: 1500 * time.Millisecond}
	}
	return types.Report{SuiteDescription: "user-attributes conformance", StartTime: time.Now(), SpecReports: types.SpecReports{
		{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStatePassed},
		it("passes", types.SpecStatePassed, "", "batch", "UA-BATCH-001"),
		it("fails [with brackets]", types.SpecStateFailed, "expected 400, got 200\nwith SECRET-TOKEN-1", "batch", "UA-BATCH-006"),
		it("errs", types.SpecStateFailed, evidence.HarnessErrorPrefix+"the request budget ran out", "UA-BATCH-002"),
		it("is interrupted", types.SpecStateInterrupted, "interrupted by the user", "UA-BATCH-003"),
		it("skips", types.SpecStateSkipped, "NOT OBSERVED: 0 of 10", "UA-BATCH-004"),
		it("is disabled", types.SpecStateSkipped, evidence.DisabledPrefix+"opt in to burst", "UA-BATCH-005"),
		it("is not selected", types.SpecStateSkipped, "", "UA-BATCH-007"),
		{LeafNodeType: types.NodeTypeReportAfterSuite, LeafNodeText: "requirement verdicts", State: types.SpecStatePassed},
	}}
}

// The JUnit file Ginkgo writes, stamped with the run, gives back the
// run and every spec's verdict, requirement and reason; the stamp
// redacts what the file held.
func TestJUnitCarriesTheRun(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, report.JUnitFile)
	r := specsOfEachVerdict()
	if err := reporters.GenerateJUnitReport(r, path); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadRunJUnit(path); err == nil || !strings.Contains(err.Error(), "carries no attrconform.dev/apiVersion property") {
		t.Errorf("an unstamped junit.xml: %v", err)
	}
	redact := func(s string) string { return strings.ReplaceAll(s, "SECRET-TOKEN-1", "[REDACTED]") }
	for range 2 { // stamping again replaces the stamp
		if err := StampJUnit(path, sampleRun(), redact); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "SECRET-TOKEN-1") || strings.Count(string(data), "attrconform.dev/apiVersion") != 1 {
		t.Fatalf("stamped junit.xml:\n%s", data)
	}
	back, run, err := ReadRunJUnit(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(run, sampleRun()) {
		t.Errorf("run %+v\nwant %+v", run, sampleRun())
	}
	cat := testCatalog(t)
	want, got := Build(r, cat, redact), Build(back, cat, func(s string) string { return s })
	if len(got.Specs) != 7 || got.SetupFailure != "" {
		t.Fatalf("read back %d specs (setup %q)", len(got.Specs), got.SetupFailure)
	}
	for i := range want.Specs {
		w, g := want.Specs[i], got.Specs[i]
		if g.Name != w.Name || !reflect.DeepEqual(g.IDs, w.IDs) || g.Verdict != w.Verdict || g.Reason != w.Reason || g.Duration != w.Duration {
			t.Errorf("spec %d read back as %+v\nwant %+v", i, g, w)
		}
	}
	if !reflect.DeepEqual(report.BuildConformance(got, run), report.BuildConformance(want, sampleRun())) {
		t.Errorf("the conformance report from junit.xml differs from the one from Ginkgo's report")
	}

	for _, c := range []struct{ from, to, err string }{
		{`name="attrconform.dev/apiVersion" value="attrconform.dev/v2"`, `name="attrconform.dev/apiVersion" value="attrconform.dev/v1"`,
			`apiVersion property is "attrconform.dev/v1"; this runner reads attrconform.dev/v2`},
		{`name="[It] Batch passes [batch, UA-BATCH-001]"`, `name="Batch passes"`, `test case "Batch passes" is not named as Ginkgo names specs`},
		{`name="[It] Batch passes`, `name="[Spec] Batch passes`, `node "Spec" or status "passed" is not Ginkgo's`},
		{`name="attrconform.dev/date" value="2026-11-22T20:28:33Z"`, `name="attrconform.dev/date" value="yesterday"`, `its attrconform.dev/date property`},
		{string(data), "{}", "not a JUnit file"},
	} {
		if !strings.Contains(string(data), c.from) {
			t.Fatalf("junit.xml has no %s", c.from)
		}
		other := filepath.Join(dir, "other.xml")
		os.WriteFile(other, []byte(strings.Replace(string(data), c.from, c.to, 1)), 0o644)
		if _, _, err := ReadRunJUnit(other); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("want an error with %q, got %v", c.err, err)
		}
	}
}

// writeRunDir writes the report directory of a stamped run of r.
func writeRunDir(t *testing.T, r types.Report, run report.Run) string {
	t.Helper()
	dir := t.TempDir()
	if err := reporters.GenerateJUnitReport(r, filepath.Join(dir, report.JUnitFile)); err != nil {
		t.Fatal(err)
	}
	if err := StampJUnit(filepath.Join(dir, report.JUnitFile), run, func(s string) string { return s }); err != nil {
		t.Fatal(err)
	}
	if err := WriteConformance(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A conformance report verifies against the junit.xml it was computed
// from; an edit is named by its path, whatever it touched; what cannot
// be compared is an error, not a difference.
func TestVerifyConformanceNamesEachEdit(t *testing.T) {
	dir := writeRunDir(t, specsOfEachVerdict(), sampleRun())
	file := filepath.Join(dir, report.ConformanceFile)
	original, _ := os.ReadFile(file)
	if !strings.HasPrefix(string(original), "# ") || !strings.Contains(string(original), "kind: ConformanceReport") {
		t.Fatalf("conformance-report.yaml:\n%s", original)
	}
	if c, diffs, err := VerifyConformance(dir); err != nil || len(diffs) != 0 || c.Result != report.ResultFailure {
		t.Fatalf("the report as written: %v %v %s", err, diffs, c.Result)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(original, &doc); err != nil {
		t.Fatal(err)
	}
	batch := func(d map[string]any) map[string]any {
		for _, g := range d["groups"].([]any) {
			if g := g.(map[string]any); g["name"] == "BATCH" {
				return g
			}
		}
		t.Fatal("no BATCH group")
		return nil
	}
	for _, c := range []struct {
		edit func(map[string]any)
		want []string
	}{
		{func(d map[string]any) { batch(d)["result"] = "success" }, []string{"groups[BATCH].result: the report says success; junit.xml gives failure"}},
		{func(d map[string]any) { batch(d)["counts"].(map[string]any)["failed"] = 0 }, []string{"groups[BATCH].counts.failed: the report says 0; junit.xml gives 1"}},
		{func(d map[string]any) { d["implementation"].(map[string]any)["version"] = "v3.3.0" }, []string{"implementation.version: the report says v3.3.0; junit.xml gives v3.2.0"}},
		{func(d map[string]any) { delete(batch(d), "failed") }, []string{"groups[BATCH].failed: missing; junit.xml gives - id: UA-BATCH-006"}},
		{func(d map[string]any) { batch(d)["failed"].([]any)[0].(map[string]any)["id"] = "UA-BATCH-008" },
			[]string{"groups[BATCH].failed[UA-BATCH-006]: missing", "groups[BATCH].failed[UA-BATCH-008]: the report says"}},
		{func(d map[string]any) { d["badge"] = "gold" }, []string{"badge: the report says gold, which junit.xml does not give"}},
		{func(d map[string]any) { d["groups"] = d["groups"].([]any)[:0] }, []string{"groups[BATCH]: missing", "groups[GEN]: missing"}},
	} {
		var d map[string]any
		yaml.Unmarshal(original, &d)
		c.edit(d)
		data, _ := yaml.Marshal(d)
		os.WriteFile(file, data, 0o644)
		_, diffs, err := VerifyConformance(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(strings.Join(diffs, "\n"), w) {
				t.Errorf("differences %q lack %q", diffs, w)
			}
		}
		if len(c.want) == 1 && len(diffs) != 1 {
			t.Errorf("one edit, differences %q", diffs)
		}
	}

	for _, c := range []struct {
		name    string
		prepare func(dir string)
		want    string
	}{
		{"no report", func(dir string) { os.Remove(filepath.Join(dir, report.ConformanceFile)) }, "no such file"},
		{"no junit.xml", func(dir string) { os.Remove(filepath.Join(dir, report.JUnitFile)) }, "no such file"},
		{"another kind", func(dir string) {
			os.WriteFile(filepath.Join(dir, report.ConformanceFile), []byte(strings.Replace(string(original), "kind: ConformanceReport", "kind: RequirementsReport", 1)), 0o644)
		}, `kind "RequirementsReport"; this runner verifies kind ConformanceReport of attrconform.dev/v2`},
		{"another version", func(dir string) {
			os.WriteFile(filepath.Join(dir, report.ConformanceFile), []byte(strings.Replace(string(original), "apiVersion: attrconform.dev/v2", "apiVersion: attrconform.dev/v1", 1)), 0o644)
		}, `format "attrconform.dev/v1" kind "ConformanceReport"`},
		{"not YAML", func(dir string) { os.WriteFile(filepath.Join(dir, report.ConformanceFile), []byte("\t{"), 0o644) }, "not a conformance report"},
		{"another catalogue", func(dir string) {
			run := sampleRun()
			run.CatalogSHA256 = "0000"
			StampJUnit(filepath.Join(dir, report.JUnitFile), run, func(s string) string { return s })
		}, "the run used another requirement catalogue than this runner's (suite 0.1.0+abc)"},
	} {
		dir := writeRunDir(t, specsOfEachVerdict(), sampleRun())
		c.prepare(dir)
		_, _, err := VerifyConformance(dir)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}
