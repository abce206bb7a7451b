package main

import (
	"os"
	"path/filepath"
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
	} {
		if res := runRunner(t, append([]string{"explore"}, args...)...); res.code != 2 || res.stderr == "" {
			t.Errorf("explore %v: exit %d (want 2 with a reason)\n%s", args, res.code, res.stderr)
		}
	}
}
