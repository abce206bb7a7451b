package main

import (
	"fmt"
	"time"

	"github.com/attrconform/attrconform/internal/bundled"
)

// defect resolves --mutant. The shipped runner carries no mutants: only a
// runner built with -tags mutants (make mutation, the runner's own tests)
// replaces this with the registry of package mutant (mutants.go).
var defect = func(name string) (*bundled.Defect, error) {
	return nil, fmt.Errorf("--mutant %s: this runner carries no mutants; build one that does with -tags mutants (go run -tags mutants ./runner --mutant %s)", name, name)
}

// bundledOptions are the options of the bundled reference for --mutant
// and --race-window.
func bundledOptions(mutant string, raceWindow time.Duration) (bundled.Options, error) {
	o := bundled.Options{RaceWindow: raceWindow}
	if mutant != "" {
		d, err := defect(mutant)
		if err != nil {
			return o, err
		}
		o.Defect = d
	}
	return o, nil
}
