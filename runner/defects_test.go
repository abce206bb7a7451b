package main

import (
	"strings"
	"testing"
)

// `go test` builds this package without -tags mutants, as the shipped
// runner is built: --mutant is refused with the way to a runner that has
// them.
func TestShippedRunnerCarriesNoMutants(t *testing.T) {
	_, err := bundledOptions("batch-cap-101", 0)
	if err == nil || !strings.Contains(err.Error(), "-tags mutants") {
		t.Fatalf("--mutant in a runner built without mutants: %v", err)
	}
	if o, err := bundledOptions("", 0); err != nil || o.Defect != nil {
		t.Fatalf("no --mutant: %+v, %v", o, err)
	}
}
