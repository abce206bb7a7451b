package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"

	attrconform "github.com/attrconform/attrconform"
	"github.com/attrconform/attrconform/catalog"
	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/report"
	"github.com/attrconform/attrconform/target"

	_ "github.com/attrconform/attrconform/suites"
)

// options are the flags of a run.
type options struct {
	targetFile, labelFilter, reportDir, profile, mutant, optIn, reference string
	baseline, fixture                                                     string
	verbose, dryRun                                                       bool
	raceWindow                                                            time.Duration // bundled.Options.RaceWindow; 0 keeps the default
}

func parseRunFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("runner", flag.ContinueOnError)
	fs.StringVar(&o.targetFile, "target", "", "target file describing a live endpoint; empty runs against the bundled reference")
	fs.StringVar(&o.labelFilter, "label-filter", "", "Ginkgo label filter selecting specs, e.g. 'write && !burst' or 'UA-PUT-004'")
	fs.StringVar(&o.reportDir, "report-dir", "", "directory for junit.xml, report.json (Ginkgo), requirements.json and the requirement matrix (requirements.md, requirements.html)")
	fs.StringVar(&o.baseline, "baseline", "", "YAML file of accepted failures (failures: [{id, reason}]); the run then fails only on a failure outside it or an entry that passes now")
	fs.StringVar(&o.profile, "profile", "", "profile overriding the target's: lenient, current or legacy")
	fs.StringVar(&o.optIn, "opt-in", "", "comma-separated spec groups to enable against a target: burst (races, rate limits), hooks (fault hooks)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the plan (specs, requests per operation, users touched) and send nothing to the target")
	fs.BoolVar(&o.verbose, "v", false, "print every spec as it runs")
	fs.StringVar(&o.reference, "reference", refAuto, "how to run the bundled reference: auto (a container when a Docker engine answers, else in-process), container, or inprocess")
	fs.DurationVar(&o.raceWindow, "race-window", reference.DefaultRaceWindow, "the bundled reference's pause between reading a user's version and committing a PUT; 0 commits at once (runs the reference in-process)")
	fs.StringVar(&o.mutant, "mutant", "", "start the bundled reference with this deliberate defect, to prove the suite fails (see internal/mutant)")
	fs.StringVar(&o.fixture, "fixture", "", "tenant file (target-file format) the bundled reference serves and the suite judges it by, instead of fixtures/reference.yaml (e.g. fixtures/variants/minimal.yaml)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q (subcommands: diff, proxy, replay, explore; the emulator is go run ./reference/cmd/reference)", fs.Arg(0))
	}
	if o.mutant != "" && o.targetFile != "" {
		return o, errors.New("--mutant applies to the bundled reference only; leave out --target")
	}
	raceWindowSet := false
	fs.Visit(func(f *flag.Flag) { raceWindowSet = raceWindowSet || f.Name == "race-window" })
	switch {
	case o.raceWindow < 0:
		return o, fmt.Errorf("--race-window %v: give a duration of 0 or more, e.g. 5ms", o.raceWindow)
	case raceWindowSet && o.targetFile != "":
		return o, errors.New("--race-window applies to the bundled reference only; leave out --target")
	case o.fixture != "" && o.targetFile != "":
		return o, errors.New("--fixture is the tenant of the bundled reference; leave out --target (a target file describes its own endpoint)")
	case raceWindowSet:
		o.raceWindow = reference.RaceWindowOf(o.raceWindow)
	default:
		o.raceWindow = 0 // the reference's default
	}
	if _, err := types.ParseLabelFilter(o.labelFilter); err != nil {
		return o, fmt.Errorf("--label-filter %q: %s", o.labelFilter, plainGinkgoError(err))
	}
	switch o.reference {
	case refAuto, refContainer, refInProcess:
	default:
		return o, fmt.Errorf("--reference %q: use auto, container or inprocess", o.reference)
	}
	return o, nil
}

// plainGinkgoError is the explanation of a Ginkgo error without its
// colour markup and the echo of the input.
func plainGinkgoError(err error) string {
	var g types.GinkgoError
	if !errors.As(err, &g) {
		return err.Error()
	}
	msg := formatter.NewWithNoColorBool(true).F(g.Message)
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	return g.Heading + ": " + lines[len(lines)-1]
}

func run(args []string) int {
	o, err := parseRunFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return usageError("%v", err)
	}
	tgt, err := loadTarget(o)
	if err != nil {
		return usageError("%v", err)
	}
	var baseline *report.Baseline
	if o.baseline != "" {
		cat, err := catalog.Load()
		if err != nil {
			return usageError("%v", err)
		}
		if baseline, err = report.LoadBaseline(o.baseline, cat); err != nil {
			return usageError("%v", err)
		}
	}
	if o.dryRun {
		return dryRun(tgt, o)
	}
	where, stop := redactURL(tgt.BaseURL), func() {}
	if o.targetFile == "" {
		opts, err := bundledOptions(o.mutant, o.raceWindow)
		if err != nil {
			return usageError("%v", err)
		}
		if where, stop, err = startBundled(tgt, o.reference, o.fixture, opts, true); err != nil {
			return usageError("%v", err)
		}
		stop = sync.OnceFunc(stop)
		defer stop()
	}
	env, err := framework.NewEnv(tgt)
	if err != nil {
		return usageError("%v", err)
	}
	env.Disposable, env.ReportDir = o.targetFile == "", o.reportDir
	if err := env.Preflight(); err != nil {
		return usageError("%v", err)
	}
	fmt.Printf("Judging %s (profile %s)\n", tgt.Redact(where), env.Profile.Name)
	summary, err := runSpecs(env, o, os.Stdout)
	if err != nil {
		return usageError("%v", err)
	}
	stop() // before the summary, whose last line closes the output
	summary.Target = tgt.Redact(where)
	if baseline != nil {
		summary.ApplyBaseline(baseline, o.baseline)
	}
	if o.reportDir != "" {
		for _, r := range []struct {
			name  string
			write func(string) error
		}{
			{"requirements.json", summary.WriteJSON},
			{"requirements.md", summary.WriteMarkdownFile},
			{"requirements.html", summary.WriteHTMLFile},
		} {
			if err := r.write(filepath.Join(o.reportDir, r.name)); err != nil {
				return usageError("writing %s: %v", r.name, err)
			}
		}
	}
	summary.WriteTerminal(os.Stdout)
	return summary.ExitCode()
}

// redactURL hides a password in a base URL's user information.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// loadTarget reads the target file, or the bundled reference's tenant
// (--fixture, else the embedded one) when there is none, and applies the
// profile and opt-in flags. In a dry run, variables that are not set get
// placeholders: a plan needs no secrets.
func loadTarget(o options) (*target.Target, error) {
	var t *target.Target
	var err error
	file := o.targetFile
	if file == "" {
		file = o.fixture
	}
	switch {
	case file == "":
		t, err = reference.BundledTarget()
	case o.dryRun:
		var data []byte
		if data, err = os.ReadFile(file); err == nil {
			t, err = target.Parse(data, placeholderEnv)
		}
		if err != nil {
			err = fmt.Errorf("target file %s: %w", file, err)
		}
	default:
		t, err = target.Load(file)
	}
	if err != nil {
		return nil, err
	}
	if o.profile != "" {
		t.Profile = o.profile
	}
	for _, g := range strings.Split(o.optIn, ",") {
		if g = strings.TrimSpace(g); g != "" && !t.OptedIn(g) {
			t.OptIn = append(t.OptIn, g)
		}
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("with --profile/--opt-in: %w", err)
	}
	return t, nil
}

func placeholderEnv(name string) (string, bool) {
	if v, ok := os.LookupEnv(name); ok {
		return v, true
	}
	return "dry-run-" + name, true
}

// runSpecs runs the selected specs against env and turns Ginkgo's report
// into verdicts per requirement. Ginkgo runs once per process.
func runSpecs(env *framework.Env, o options, out *os.File) (report.Summary, error) {
	framework.Use(env)
	cat, err := catalog.Load()
	if err != nil {
		return report.Summary{}, err
	}
	suiteConfig, reporterConfig := ginkgo.GinkgoConfiguration()
	suiteConfig.LabelFilter = o.labelFilter
	reporterConfig.Verbose = o.verbose
	if st, err := out.Stat(); err == nil && st.Mode()&os.ModeCharDevice == 0 {
		reporterConfig.NoColor = true // CI logs and pipes get no escape codes
	}
	if o.reportDir != "" {
		if err := os.MkdirAll(o.reportDir, 0o755); err != nil {
			return report.Summary{}, fmt.Errorf("report dir: %w", err)
		}
		reporterConfig.JUnitReport = filepath.Join(o.reportDir, "junit.xml")
		reporterConfig.JSONReport = filepath.Join(o.reportDir, "report.json")
	}
	var captured types.Report
	progress := report.NewProgress(out, o.verbose)
	ginkgo.ReportBeforeSuite(func(r ginkgo.Report) { progress.Start(r.PreRunStats.SpecsThatWillRun) })
	ginkgo.ReportAfterEach(func(sr ginkgo.SpecReport) { progress.SpecDone(sr) })
	ginkgo.ReportAfterSuite("requirement verdicts", func(r ginkgo.Report) { captured = r })
	gomega.RegisterFailHandler(ginkgo.Fail)
	ginkgo.RunSpecs(&suiteT{}, "user-attributes conformance", suiteConfig, reporterConfig)
	summary := report.Build(captured, cat, env.Target.Redact)
	summary.Profile = env.Profile.Name
	summary.SuiteVersion = report.SuiteVersion()
	summary.ContractSHA256 = report.ContractHash(attrconform.Contract)
	summary.Coverage = report.BuildCoverage(env.Contract.Operations(), env.Coverage.Seen())
	return summary, nil
}

// suiteT stands in for *testing.T: Ginkgo only needs to be told of failure,
// and the verdict comes from the report instead.
type suiteT struct{}

func (*suiteT) Fail() {}
