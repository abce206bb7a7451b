package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/attrconform/attrconform/report"
)

// A run writes conformance-report.yaml: the implementation from the
// target file with the flags over it, the run's profile and label
// filter, a result per catalogue group. verify-report accepts it as
// written, and names what an edit changed.
func TestConformanceReportVerifiesAndAnEditDoesNot(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tenant, err := os.ReadFile(filepath.Join("..", "fixtures", "reference.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fixture := filepath.Join(dir, "tenant.yaml")
	os.WriteFile(fixture, append(tenant, "implementation: {organization: Acme Inc., project: chat-api, version: v3.2.0, contact: api@acme.example}\n"...), 0o644)
	reports := filepath.Join(dir, "reports")
	res := runRunner(t, "--reference", "inprocess", "--fixture", fixture, "--label-filter", "batch", "--project-version", "v3.3.0-rc1", "--report-dir", reports)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	file := filepath.Join(reports, report.ConformanceFile)
	written, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var c report.ConformanceReport
	if err := yaml.Unmarshal(written, &c); err != nil {
		t.Fatal(err)
	}
	var groups []string
	var batch report.GroupResult
	for _, g := range c.Groups {
		groups = append(groups, g.Name)
		if g.Name == "BATCH" {
			batch = g
		}
	}
	if got := strings.Join(groups, " "); got != "GEN AUTH PUT LIMIT GET BATCH CAP DEL CONC RATE ERR NAME" {
		t.Errorf("groups %s", got)
	}
	if c.Kind != report.ConformanceKind || c.APIVersion != report.APIVersion || c.Implementation.Organization != "Acme Inc." || c.Implementation.Version != "v3.3.0-rc1" ||
		c.Implementation.Contact != "api@acme.example" || c.Profile.Name != "lenient" || c.LabelFilter != "batch" || c.SuiteVersion == "" || len(c.ContractSHA256) != 64 {
		t.Errorf("header: %+v", c)
	}
	if batch.Counts.Passed == 0 || batch.Counts.Failed+batch.Counts.Errored != 0 || c.Result != report.ResultPartial || c.Counts.Disabled == 0 {
		t.Errorf("BATCH %+v, run %s %+v: want BATCH passed, the rest disabled by the label filter", batch, c.Result, c.Counts)
	}

	if res := runRunner(t, "verify-report", reports); res.code != 0 || !strings.Contains(res.stdout, "matches the run's junit.xml: partial") {
		t.Fatalf("verify-report as written: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	group := func(doc map[string]any, name string) map[string]any {
		for _, g := range doc["groups"].([]any) {
			if g.(map[string]any)["name"] == name {
				return g.(map[string]any)
			}
		}
		t.Fatalf("no group %s", name)
		return nil
	}
	for _, c := range []struct {
		edit func(doc map[string]any)
		want string
	}{
		{func(doc map[string]any) { group(doc, "BATCH")["result"] = "failure" }, "groups[BATCH].result: the report says failure; junit.xml gives " + string(batch.Result)},
		{func(doc map[string]any) {
			group(doc, "BATCH")["counts"].(map[string]any)["passed"] = batch.Counts.Passed + 1
		},
			fmt.Sprintf("groups[BATCH].counts.passed: the report says %d; junit.xml gives %d", batch.Counts.Passed+1, batch.Counts.Passed)},
		{func(doc map[string]any) { doc["implementation"].(map[string]any)["version"] = "v3.3.0" }, "implementation.version: the report says v3.3.0; junit.xml gives v3.3.0-rc1"},
	} {
		var doc map[string]any
		if err := yaml.Unmarshal(written, &doc); err != nil {
			t.Fatal(err)
		}
		c.edit(doc)
		edited, _ := yaml.Marshal(doc)
		os.WriteFile(file, edited, 0o644)
		res := runRunner(t, "verify-report", reports)
		if res.code != 1 || strings.Count(res.stdout, "\n  ") != 1 || !strings.Contains(res.stdout, "does not match the run's junit.xml:\n  "+c.want) {
			t.Errorf("edited: exit %d, want 1 naming %q\n%s%s", res.code, c.want, res.stdout, res.stderr)
		}
	}
	os.Remove(filepath.Join(reports, report.JUnitFile))
	if res := runRunner(t, "verify-report", reports); res.code != 2 || !strings.Contains(res.stderr, "junit.xml: no such file") {
		t.Errorf("without junit.xml: exit %d, want 2\n%s%s", res.code, res.stdout, res.stderr)
	}
	if res := runRunner(t, "verify-report"); res.code != 2 || !strings.Contains(res.stderr, "want one report directory") {
		t.Errorf("without a directory: exit %d, want 2\n%s", res.code, res.stderr)
	}
}
