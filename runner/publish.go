package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/report"
	"github.com/attrconform/attrconform/report/suiterun"
	"github.com/attrconform/attrconform/target"
)

// publish stamps the run's junit.xml with what the run judged with and
// writes conformance-report.yaml from it (suiterun.WriteConformance).
func publish(dir string, tgt *target.Target, labelFilter string, s report.Summary) error {
	p, err := profile.Named(tgt.Profile)
	if err != nil {
		return err
	}
	run := report.Run{
		SuiteVersion: s.SuiteVersion, ContractSHA256: s.ContractSHA256, CatalogSHA256: report.CatalogHash(),
		Profile: p.Name, Knobs: tgt.Knobs, LabelFilter: labelFilter, Implementation: tgt.Implementation, Date: s.Start,
	}
	if err := suiterun.StampJUnit(filepath.Join(dir, report.JUnitFile), run, secrets.Redact); err != nil {
		return err
	}
	return suiterun.WriteConformance(dir)
}

// verifyReport is `runner verify-report DIR`: it computes the
// conformance report of the run in DIR again from its junit.xml and
// compares it with DIR/conformance-report.yaml.
//
// Exit status: 0 the report matches, 1 it differs (each difference is
// listed), 2 a file is missing or unreadable, or from a run this runner
// cannot recompute.
func verifyReport(args []string, w io.Writer) int {
	fs := flag.NewFlagSet("runner verify-report", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: runner verify-report DIR (the --report-dir of a run: its junit.xml and conformance-report.yaml)")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		return usageError("verify-report: want one report directory (got %d arguments)", fs.NArg())
	}
	dir := fs.Arg(0)
	c, diffs, err := suiterun.VerifyConformance(dir)
	if err != nil {
		return usageError("verify-report: cannot verify: %v", err)
	}
	file := filepath.Join(dir, report.ConformanceFile)
	if len(diffs) > 0 {
		fmt.Fprintf(w, "%s does not match the run's %s:\n", file, report.JUnitFile)
		for _, d := range diffs {
			fmt.Fprintln(w, "  "+d)
		}
		return 1
	}
	i := c.Implementation
	fmt.Fprintf(w, "%s matches the run's %s: %s for %q %q %q (suite %s, profile %s)\n", file, report.JUnitFile, c.Result, i.Organization, i.Project, i.Version, c.SuiteVersion, c.Profile.Name)
	return 0
}
