package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/attrconform/attrconform/report"
)

// A second opinion on the race: the race specs judged against the
// reference with windows of 0, 1 and 10 ms between reading and committing.
// A correct server never FAILs at any window (no collision is NOT
// OBSERVED, a SKIP); the lost-update and torn-write mutants are killed
// wherever a collision was produced, and otherwise say NOT OBSERVED. At
// window 0 a mutant may also PASS: no-version-check then loses nothing
// (each write reads and commits at once) yet may answer 409 when another
// commit lands between its own read and commit, which the spec counts as
// a collision that kept every write.
func TestRaceSpecsAtEveryWindow(t *testing.T) {
	for _, window := range []string{"0", "1ms", "10ms"} {
		for _, m := range []string{"", "no-version-check", "torn-write"} {
			name := "window " + window + " faithful"
			if m != "" {
				name = "window " + window + " " + m
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				args := []string{"--reference", "inprocess", "--race-window", window, "--label-filter", "race", "--report-dir", dir}
				if m != "" {
					args = append(args, "--mutant", m)
				}
				res := runRunner(t, args...)
				s := readSummary(t, filepath.Join(dir, "requirements.json"))
				lost, refused := requirement(s, "UA-CONC-001"), requirement(s, "UA-CONC-004")
				if refused.Verdict != report.Pass {
					t.Errorf("UA-CONC-004: %s (%s)", refused.Verdict, refused.Reason)
				}
				switch {
				case m == "" && res.code != 0:
					t.Fatalf("the faithful reference failed at window %s (exit %d):\n%s", window, res.code, res.stdout)
				case m == "" && lost.Verdict != report.Pass && !notObserved(lost):
					t.Errorf("faithful UA-CONC-001: %s (%s)", lost.Verdict, lost.Reason)
				case m != "" && lost.Verdict == report.Fail:
					if res.code != 1 || requirement(s, "UA-CONC-003").Verdict != report.Fail {
						t.Errorf("killed, but exit %d and UA-CONC-003 %s", res.code, requirement(s, "UA-CONC-003").Verdict)
					}
				case m != "" && window == "0" && lost.Verdict == report.Pass:
				case m != "" && !notObserved(lost):
					t.Errorf("the mutant neither failed UA-CONC-001 nor went unobserved: %s (%s)\n%s", lost.Verdict, lost.Reason, res.stdout)
				}
			})
		}
	}
}

func notObserved(r report.Requirement) bool {
	return r.Verdict == report.Skip && strings.Contains(r.Reason, "NOT OBSERVED")
}
