package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"

	"github.com/attrconform/attrconform/bundled"
	"github.com/attrconform/attrconform/catalog"
	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/report"
	"github.com/attrconform/attrconform/target"

	_ "github.com/attrconform/attrconform/suites"
)

func run(args []string) int {
	fs := flag.NewFlagSet("runner", flag.ContinueOnError)
	targetFile := fs.String("target", "", "target file describing a live endpoint; empty runs against the bundled reference")
	labelFilter := fs.String("label-filter", "", "Ginkgo label filter selecting specs, e.g. 'write && !burst' or 'UA-PUT-004'")
	reportDir := fs.String("report-dir", "", "directory for junit.xml, report.json (Ginkgo) and requirements.json")
	profileName := fs.String("profile", "", "profile overriding the target's: lenient, current or legacy")
	verbose := fs.Bool("v", false, "print every spec as it runs")
	mutantName := fs.String("mutant", "", "start the bundled reference with this deliberate defect, to prove the suite fails (see reference/mutant)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q (subcommands: serve)", fs.Arg(0))
	}

	if *mutantName != "" && *targetFile != "" {
		return usageError("--mutant applies to the bundled reference only; leave out --target")
	}
	tgt, where, stop, err := resolveTarget(*targetFile, *profileName, *mutantName)
	if err != nil {
		return usageError("%v", err)
	}
	defer stop()
	env, err := framework.NewEnv(tgt)
	if err != nil {
		return usageError("%v", err)
	}
	framework.Use(env)
	cat, err := catalog.Load()
	if err != nil {
		return usageError("%v", err)
	}

	suiteConfig, reporterConfig := ginkgo.GinkgoConfiguration()
	suiteConfig.LabelFilter = *labelFilter
	reporterConfig.Verbose = *verbose
	if st, err := os.Stdout.Stat(); err == nil && st.Mode()&os.ModeCharDevice == 0 {
		reporterConfig.NoColor = true // CI logs and pipes get no escape codes
	}
	if *reportDir != "" {
		if err := os.MkdirAll(*reportDir, 0o755); err != nil {
			return usageError("report dir: %v", err)
		}
		reporterConfig.JUnitReport = filepath.Join(*reportDir, "junit.xml")
		reporterConfig.JSONReport = filepath.Join(*reportDir, "report.json")
	}

	var captured types.Report
	ginkgo.ReportAfterSuite("requirement verdicts", func(r ginkgo.Report) { captured = r })
	gomega.RegisterFailHandler(ginkgo.Fail)
	fmt.Printf("Judging %s (profile %s)\n", where, env.Profile.Name)
	ginkgo.RunSpecs(&suiteT{}, "user-attributes conformance", suiteConfig, reporterConfig)

	summary := report.Build(captured, cat, tgt.Redact)
	summary.Target, summary.Profile = tgt.Redact(where), env.Profile.Name
	if *reportDir != "" {
		if err := summary.WriteJSON(filepath.Join(*reportDir, "requirements.json")); err != nil {
			fmt.Fprintf(os.Stderr, "runner: writing requirements.json: %v\n", err)
			return 2
		}
	}
	summary.WriteTerminal(os.Stdout)
	return summary.ExitCode()
}

// resolveTarget loads the target file, or starts the bundled reference
// in-process when there is none. It returns the target, a description of
// it for the report, and a function that stops what it started.
func resolveTarget(file, profileName, mutantName string) (*target.Target, string, func(), error) {
	if file != "" {
		t, err := target.Load(file)
		if err != nil {
			return nil, "", nil, err
		}
		if err := overrideProfile(t, profileName); err != nil {
			return nil, "", nil, err
		}
		return t, t.BaseURL, func() {}, nil
	}
	t, err := bundled.Target()
	if err != nil {
		return nil, "", nil, err
	}
	if err := overrideProfile(t, profileName); err != nil {
		return nil, "", nil, err
	}
	srv, err := bundled.Start(t, bundled.Options{Mutant: mutantName})
	if err != nil {
		return nil, "", nil, err
	}
	t.BaseURL = srv.URL
	where := "the bundled reference (in-process) at " + srv.URL
	if mutantName != "" {
		where += " with mutant " + mutantName
	}
	return t, where, func() { srv.Close() }, nil
}

func overrideProfile(t *target.Target, name string) error {
	if name == "" {
		return nil
	}
	t.Profile = name
	if _, err := t.ResolveProfile(); err != nil {
		return fmt.Errorf("--profile: %w", err)
	}
	return nil
}

// suiteT stands in for *testing.T: Ginkgo only needs to be told of failure,
// and the verdict comes from the report instead.
type suiteT struct{}

func (*suiteT) Fail() {}
