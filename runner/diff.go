package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/attrconform/attrconform/report"
)

// diff compares two runs: `runner diff OLD.json NEW.json` reads the
// requirements.json each run wrote with --report-dir and lists the
// requirements that regressed (FAIL now, not before), recovered (FAIL
// before, PASS now) or otherwise changed verdict, and those whose verdict
// held while the target showed other documented alternatives.
//
// Exit status: 0 nothing regressed, 1 a requirement regressed, 2 a file
// could not be read.
func diff(args []string, w io.Writer) int {
	fs := flag.NewFlagSet("runner diff", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: runner diff OLD/requirements.json NEW/requirements.json")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 2 {
		return usageError("diff: want two files, the old run's requirements.json and the new one's (got %d arguments)", fs.NArg())
	}
	oldName, newName := fs.Arg(0), fs.Arg(1)
	old, err := report.ReadSummary(oldName)
	if err != nil {
		return usageError("diff: %v", err)
	}
	new, err := report.ReadSummary(newName)
	if err != nil {
		return usageError("diff: %v", err)
	}
	d := report.Compare(old, new)
	d.Write(w, oldName, old, newName, new)
	if len(d.Regressed) > 0 {
		return 1
	}
	return 0
}
