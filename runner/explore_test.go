package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/attrconform/attrconform/report"
)

// runner explore against the faithful reference: exit 0, the seed printed,
// the reports written, no requirement failed.
func TestExploreAgreesWithTheFaithfulReference(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := runRunner(t, "explore", "--reference", "inprocess", "--race-window", "0", "--seed", "5", "--steps", "300", "--report-dir", dir)
	if res.code != 0 || !strings.Contains(res.stdout, "seed 5") {
		t.Fatalf("exit %d (want 0, the seed printed)\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	s, err := report.ReadSummary(filepath.Join(dir, "requirements.json"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Failed > 0 || s.Passed == 0 {
		t.Fatalf("%d requirements failed, %d passed", s.Failed, s.Passed)
	}
}

// Against a mutant: exit 1, the disagreement names the requirement broken,
// and its record file replays: the same answers from the same defect, a
// different one from the faithful reference.
func TestExploreFindsAMutantAndItsRecordReplays(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := runRunner(t, "explore", "--reference", "inprocess", "--race-window", "0", "--mutant", "put-replaces", "--seed", "11", "--steps", "2000", "--shrink-time", "10s", "--report-dir", dir)
	if res.code != 1 || !strings.Contains(res.stdout, "DISAGREEMENT") || !strings.Contains(res.stdout, "UA-PUT-004") {
		t.Fatalf("exit %d (want 1, a disagreement naming UA-PUT-004)\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	for _, f := range []string{"counterexample.txt", "counterexample.jsonl", "requirements.json", "junit.xml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("no %s: %v", f, err)
		}
	}
	record := filepath.Join(dir, "counterexample.jsonl")
	if same := runRunner(t, "replay", record, "--reference", "inprocess", "--mutant", "put-replaces"); same.code != 0 {
		t.Errorf("replayed to the same mutant: exit %d, want 0 (the same answers)\n%s\n%s", same.code, same.stdout, same.stderr)
	}
	if faithful := runRunner(t, "replay", record, "--reference", "inprocess"); faithful.code != 1 {
		t.Errorf("replayed to the faithful reference: exit %d, want 1 (an answer differs)\n%s\n%s", faithful.code, faithful.stdout, faithful.stderr)
	}
}

func TestExploreRefusesBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--target", "../fixtures/reference.yaml", "--mutant", "put-replaces"},
		{"--seed", "abc"},
		{"--group", "nope"},
		{"--steps", "0"},
		{"--clients", "9"},
		{"--clients", "-1"},
		{"--clients", "4", "--history-time", "0s"},
	} {
		if res := runRunner(t, append([]string{"explore"}, args...)...); res.code != 2 || res.stderr == "" {
			t.Errorf("explore %v: exit %d (want 2 with a reason)\n%s", args, res.code, res.stderr)
		}
	}
}

// runner explore --clients: after the sequential exploration, concurrent
// histories; against the faithful reference (in this process, and in a
// container when a Docker engine answers) every one is linearizable, and
// the race requirements pass on them.
func TestExploreClientsFindTheReferenceLinearizable(t *testing.T) {
	t.Parallel()
	for _, where := range []string{"inprocess", "container"} {
		t.Run(where, func(t *testing.T) {
			if where == "container" {
				requireDocker(t)
			}
			dir := t.TempDir()
			res := runRunner(t, "explore", "--reference", where, "--steps", "40", "--clients", "6", "--history-time", "2s", "--report-dir", dir)
			m := histories.FindStringSubmatch(res.stdout)
			if res.code != 0 || m == nil || m[1] == "0" || m[2] != "0" || m[3] != "0" {
				t.Fatalf("exit %d, histories %v: want exit 0 and every history linearizable\n%s\n%s", res.code, m, res.stdout, res.stderr)
			}
			s := readSummary(t, filepath.Join(dir, "requirements.json"))
			if r := requirement(s, "UA-CONC-003"); r.Verdict != report.Pass {
				t.Errorf("UA-CONC-003: %s (%s)", r.Verdict, r.Reason)
			}
			t.Log(m[0])
		})
	}
}

var histories = regexp.MustCompile(`porcupine: (\d+) linearizable, (\d+) not, (\d+) ran out of time`)

// Against a lost update: exit 1, the race requirements FAIL, and the
// visualization is in the report directory, linked from their rows.
func TestExploreClientsFindALostUpdate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := runRunner(t, "explore", "--reference", "inprocess", "--mutant", "no-version-check", "--race-window", "10ms", "--steps", "40", "--clients", "6", "--history-time", "5s", "--report-dir", dir)
	if res.code != 1 || !strings.Contains(res.stdout, "NOT LINEARIZABLE") {
		t.Fatalf("exit %d (want 1, NOT LINEARIZABLE)\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	r := requirement(readSummary(t, filepath.Join(dir, "requirements.json")), "UA-CONC-001")
	if r.Verdict != report.Fail || len(r.Artifacts) != 1 {
		t.Fatalf("UA-CONC-001: %s, artifacts %v", r.Verdict, r.Artifacts)
	}
	if _, err := os.Stat(filepath.Join(dir, r.Artifacts[0])); err != nil {
		t.Errorf("the visualization: %v", err)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "requirements.html"))
	if !strings.Contains(string(page), `<a href="`+r.Artifacts[0]+`">`) {
		t.Errorf("the matrix does not link %s", r.Artifacts[0])
	}
}

// The judge's single-exchange rules run on every exchange of an
// exploration too: a 409 with a vague text, which the histories'
// linearizability cannot see, fails UA-CONC-002 and exits 1.
func TestExploreReportsWhatTheSingleExchangeRulesFind(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := runRunner(t, "explore", "--reference", "inprocess", "--mutant", "conflict-text-vague", "--race-window", "5ms",
		"--time", "2s", "--clients", "4", "--history-time", "3s", "--report-dir", dir)
	if res.code != 1 || !strings.Contains(res.stdout, "BROKEN RULE UA-CONC-002 (the single-exchange rules, on the concurrent histories") ||
		strings.Contains(res.stdout, "agreed with the model on every answer") {
		t.Fatalf("exit %d (want 1, the rule named)\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if r := requirement(readSummary(t, filepath.Join(dir, "requirements.json")), "UA-CONC-002"); r.Verdict != report.Fail {
		t.Errorf("UA-CONC-002: %s, want FAIL", r.Verdict)
	}
}
