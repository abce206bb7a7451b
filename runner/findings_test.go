package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/reporters"

	"github.com/attrconform/attrconform/internal/mutant"
	"github.com/attrconform/attrconform/report"
	"github.com/attrconform/attrconform/report/suiterun"
)

// The judge's single-exchange rules run on every exchange of the suite,
// as runner proxy runs them on a client's: against a mutant whose defect
// one exchange shows, they name the mutant's requirement, as a FAIL of
// that requirement of its own beside the spec verdicts, in
// requirements.json, the terminal summary, junit.xml and the conformance
// report, which still verifies. (The faithful reference gives them
// nothing: see suites.TestConformance.)
func TestSingleExchangeRulesNameTheMutantsRequirement(t *testing.T) {
	for name, filter := range map[string]string{"batch-cap-101": "batch", "timestamp-in-seconds": "envelope"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m, err := mutant.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			res := runRunner(t, "--mutant", name, "--label-filter", filter, "--report-dir", dir)
			if res.code != 1 {
				t.Fatalf("exit %d, want 1\n%s\n%s", res.code, res.stdout, res.stderr)
			}
			var found []report.Spec
			for _, sp := range readSummary(t, filepath.Join(dir, "requirements.json")).Specs {
				if strings.HasPrefix(sp.Name, suiterun.FindingsContainer) {
					found = append(found, sp)
				}
			}
			if len(found) == 0 {
				t.Fatalf("the single-exchange rules found nothing against %s\n%s", name, res.stdout)
			}
			named := false
			for _, sp := range found {
				if sp.Verdict != report.Fail || len(sp.IDs) != 1 || sp.Exchange == nil || !strings.Contains(sp.Reason, "made in: ") {
					t.Errorf("finding %+v: want a FAIL of one requirement, with its exchange and where it was made", sp)
					continue
				}
				id := sp.IDs[0]
				if !slices.Contains(m.Breaks, id) && !slices.Contains(m.Also, id) {
					t.Errorf("the rules blame %s, which %s does not break: %s", id, name, sp.Reason)
				}
				named = named || slices.Contains(m.Breaks, id)
				if !strings.Contains(res.stdout, sp.Name) {
					t.Errorf("the terminal summary does not show %q", sp.Name)
				}
			}
			if !named {
				t.Errorf("the findings %v name none of %v, which %s breaks", found, m.Breaks, name)
			}
			var junit reporters.JUnitTestSuites
			data, _ := os.ReadFile(filepath.Join(dir, report.JUnitFile))
			if err := xml.Unmarshal(data, &junit); err != nil {
				t.Fatal(err)
			}
			failedCases := 0
			for _, tc := range junit.TestSuites[0].TestCases {
				if strings.Contains(tc.Name, suiterun.FindingsContainer) && tc.Failure != nil {
					failedCases++
				}
			}
			if failedCases != len(found) {
				t.Errorf("junit.xml has %d failed cases of the rules, requirements.json %d findings", failedCases, len(found))
			}
			if res := runRunner(t, "verify-report", dir); res.code != 0 {
				t.Errorf("verify-report: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
		})
	}
}
