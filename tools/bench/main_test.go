package main

import (
	"os"
	"path/filepath"
	"testing"
)

// A rerun of make bench keeps the figures measured by hand at the end of
// BENCHMARKS.md, and only those.
func TestByHandKeepsTheTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "BENCHMARKS.md")
	if got := byHand(path); got != "" {
		t.Errorf("no file yet: kept %q", got)
	}
	tail := "\n" + byHandHeading + "\n\n| figure | before | after |\n"
	if err := os.WriteFile(path, []byte("# Benchmarks\n\ngenerated ## Measured by hand in a line\n"+tail), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := byHand(path); got != tail {
		t.Errorf("kept %q, want %q", got, tail)
	}
	if err := os.WriteFile(path, []byte("# Benchmarks\n\ngenerated only\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := byHand(path); got != "" {
		t.Errorf("a file without the heading: kept %q", got)
	}
}
