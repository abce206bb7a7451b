package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `runner diff` reads two requirements.json files: a requirement that
// fails now and passed before regressed (exit 1); the other way round it
// recovered (exit 0).
func TestDiffComparesTwoRuns(t *testing.T) {
	t.Parallel()
	failing, _ := sharedFailingRun(t)
	passing := t.TempDir()
	if res := runRunner(t, "--label-filter", "batch", "--report-dir", passing, "--reference", "inprocess"); res.code != 0 {
		t.Fatalf("the faithful run: exit %d\n%s", res.code, res.stdout)
	}
	oldFile, newFile := filepath.Join(passing, "requirements.json"), filepath.Join(failing, "requirements.json")

	res := runRunner(t, "diff", oldFile, newFile)
	if res.code != 1 {
		t.Fatalf("diff passing -> failing: exit %d, want 1\n%s%s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{"old: " + oldFile, "new: " + newFile, "Regressed (2):", "UA-BATCH-006  MUST    PASS -> FAIL", "UA-ERR-002"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("diff output lacks %q:\n%s", want, res.stdout)
		}
	}
	if !strings.HasPrefix(lastLine(res.stdout), "2 regressed, 0 recovered,") {
		t.Errorf("last line %q", lastLine(res.stdout))
	}

	res = runRunner(t, "diff", newFile, oldFile)
	if res.code != 0 || !strings.Contains(res.stdout, "Recovered (2):") || !strings.Contains(res.stdout, "UA-BATCH-006  MUST    FAIL -> PASS") {
		t.Fatalf("diff failing -> passing: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	// Across the rename of the fields: the old run's file in the first
	// format compares as it did; a format this runner does not know is
	// refused, naming the ones it reads.
	data, err := os.ReadFile(oldFile)
	if err != nil {
		t.Fatal(err)
	}
	v1 := strings.NewReplacer(`"attrconform.dev/v2"`, `"attrconform.dev/v1"`, `"suiteVersion"`, `"suite_version"`, `"contractSHA256"`, `"contract_sha256"`,
		`"durationNanoseconds"`, `"duration_ns"`, `"requestBody"`, `"request_body"`, `"responseBody"`, `"response_body"`).Replace(string(data))
	oldV1, later := filepath.Join(passing, "v1.json"), filepath.Join(passing, "v9.json")
	os.WriteFile(oldV1, []byte(v1), 0o644)
	if res := runRunner(t, "diff", oldV1, newFile); res.code != 1 || !strings.Contains(res.stdout, "UA-BATCH-006  MUST    PASS -> FAIL") || !strings.Contains(res.stdout, ", suite ") {
		t.Errorf("diff v1 -> v2: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	os.WriteFile(later, []byte(strings.Replace(string(data), `"attrconform.dev/v2"`, `"attrconform.dev/v9"`, 1)), 0o644)
	if res := runRunner(t, "diff", later, newFile); res.code != 2 || !strings.Contains(res.stderr, "this runner reads kind RequirementsReport of attrconform.dev/v2 or attrconform.dev/v1") {
		t.Errorf("diff v9 -> v2: exit %d, stderr %q", res.code, res.stderr)
	}

	for _, args := range [][]string{{"diff", oldFile}, {"diff", oldFile, filepath.Join(passing, "absent.json")}, {"diff", oldFile, filepath.Join(passing, "junit.xml")}} {
		if res := runRunner(t, args...); res.code != 2 || res.stderr == "" {
			t.Errorf("%v: exit %d, stderr %q: want 2 and a reason", args, res.code, res.stderr)
		}
	}
}

// --baseline accepts known failures of a target: the run passes when every
// failure is listed, and fails on a failure outside the list or on a
// listed requirement that passes now.
func TestBaselineAcceptsKnownFailuresOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	known := "failures:\n  - id: UA-BATCH-006\n    reason: the vendor lets 101 targets through (ticket 12)\n  - id: UA-ERR-002\n    reason: same defect\n"
	cases := []struct {
		name, baseline string
		code           int
		want           []string
	}{
		{"every failure is known", known, 0, []string{"2 known failures accepted, 0 new failures, 0 stale entries", "FAIL  UA-BATCH-006  MUST    More than 100 targets is refused  [known failure]"}},
		{"a failure outside the baseline", "failures:\n  - {id: UA-BATCH-006, reason: ticket 12}\n", 1, []string{"1 known failures accepted, 1 new failures", "new failures, not in the baseline:\n    UA-ERR-002"}},
		{"an entry that passes now", known + "  - {id: UA-BATCH-001, reason: fixed since}\n", 1, []string{"1 stale entries", "stale entries (these pass now; remove them from the baseline):\n    UA-BATCH-001"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := write("baseline"+string(rune('a'+i))+".yaml", c.baseline)
			reports := t.TempDir()
			res := runRunner(t, "--mutant", "batch-cap-101", "--label-filter", "UA-BATCH-006 || UA-BATCH-001", "--baseline", file, "--report-dir", reports)
			if res.code != c.code {
				t.Fatalf("exit %d, want %d\n%s%s", res.code, c.code, res.stdout, res.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(res.stdout, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			if m := closing.FindStringSubmatch(lastLine(res.stdout)); m == nil || m[2] == "0" {
				t.Errorf("last line %q: the failures still count as failed", lastLine(res.stdout))
			}
			if s := readSummary(t, filepath.Join(reports, "requirements.json")); s.Baseline == nil || s.Baseline.File != file {
				t.Errorf("requirements.json does not record the baseline: %+v", s.Baseline)
			}
		})
	}
	for _, bad := range []struct{ body, want string }{
		{"failures:\n  - {id: UA-BATCH-006}\n", "reason is missing"},
		{"failures:\n  - {id: UA-NOPE-001, reason: r}\n", "UA-NOPE-001 is not in the requirement catalogue"},
		{"falures: []\n", `unknown field "falures"`},
	} {
		res := runRunner(t, "--baseline", write("bad.yaml", bad.body), "--label-filter", "UA-BATCH-006")
		if res.code != 2 || !strings.Contains(res.stderr, bad.want) || strings.Contains(res.stdout, "passed,") {
			t.Errorf("baseline %q: exit %d, stderr %q: want exit 2 before any spec, naming %q", bad.body, res.code, res.stderr, bad.want)
		}
	}
}
