package main

import (
	"testing"

	"github.com/attrconform/attrconform/report"
)

// --allow-errors lets ERROR verdicts pass and nothing else: a FAIL still
// exits 1, and a setup failure or a run where nothing was judged still 2.
func TestAllowErrorsForgivesErrorsOnly(t *testing.T) {
	for _, c := range []struct {
		name        string
		s           report.Summary
		strict, lax int
	}{
		{"passed", report.Summary{Passed: 3}, 0, 0},
		{"failed", report.Summary{Passed: 3, Failed: 1}, 1, 1},
		{"errored", report.Summary{Passed: 3, Errored: 1}, 2, 0},
		{"failed and errored", report.Summary{Passed: 3, Failed: 1, Errored: 1}, 2, 1},
		{"only errored", report.Summary{Errored: 4}, 2, 2},
		{"data left behind", report.Summary{Passed: 3, Errored: 1, SetupFailure: "AfterSuite: left behind"}, 2, 2},
	} {
		if got := exitCode(c.s, false); got != c.strict {
			t.Errorf("%s: exit %d, want %d", c.name, got, c.strict)
		}
		if got := exitCode(c.s, true); got != c.lax {
			t.Errorf("%s with --allow-errors: exit %d, want %d", c.name, got, c.lax)
		}
	}
}
