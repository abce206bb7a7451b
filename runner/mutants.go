//go:build mutants

package main

import "github.com/attrconform/attrconform/internal/mutant"

// A runner built with -tags mutants starts the bundled reference with the
// deliberate defects of package mutant (--mutant NAME).
func init() { defect = mutant.Defect }
