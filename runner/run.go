package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
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
	"github.com/attrconform/attrconform/report/suiterun"
	"github.com/attrconform/attrconform/target"

	_ "github.com/attrconform/attrconform/suites"
)

// options are the flags of a run.
type options struct {
	targetFile, labelFilter, reportDir, profile, mutant, optIn, reference string
	baseline, fixture                                                     string
	verbose, dryRun, allowErrors                                          bool
	raceWindow                                                            time.Duration // bundled.Options.RaceWindow; 0 keeps the default
	timeout, requestTimeout                                               time.Duration

	implementation target.Implementation // the flags' fields over the target file's
}

// defaultTimeout is the whole run's deadline unless --timeout says
// otherwise: a run against the bundled reference takes seconds, one
// against a live target a few minutes at its request budget.
const defaultTimeout = 30 * time.Minute

func parseRunFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("runner", flag.ContinueOnError)
	fs.StringVar(&o.targetFile, "target", "", "target file describing a live endpoint; empty runs against the bundled reference")
	fs.StringVar(&o.labelFilter, "label-filter", "", "Ginkgo label filter selecting specs, e.g. 'write && !burst' or 'UA-PUT-004'")
	fs.StringVar(&o.reportDir, "report-dir", "", "directory for junit.xml, report.json (Ginkgo), requirements.json, the requirement matrix (requirements.md, requirements.html) and conformance-report.yaml")
	fs.StringVar(&o.baseline, "baseline", "", "YAML file of accepted failures (failures: [{id, reason}]); the run then fails only on a failure outside it or an entry that passes now")
	fs.StringVar(&o.profile, "profile", "", "profile overriding the target's: lenient, current or legacy")
	fs.StringVar(&o.optIn, "opt-in", "", "comma-separated spec groups to enable against a target: burst (races, rate limits), hooks (fault hooks)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the plan (specs, requests per operation, users touched) and send nothing to the target")
	fs.BoolVar(&o.verbose, "v", false, "print every spec as it runs")
	fs.BoolVar(&o.allowErrors, "allow-errors", false, "judge the run on its failures alone: ERROR verdicts do not make the exit status 2 (a configuration error, a failed preflight, data left behind or a run where nothing passed or failed still do)")
	fs.StringVar(&o.reference, "reference", refAuto, "how to run the bundled reference: auto (a container when a Docker engine answers, else in-process), container, or inprocess")
	fs.DurationVar(&o.raceWindow, "race-window", reference.DefaultRaceWindow, "the bundled reference's pause between reading a user's version and committing a PUT; 0 commits at once (runs the reference in-process)")
	fs.StringVar(&o.mutant, "mutant", "", "start the bundled reference with this deliberate defect, to prove the suite fails (see internal/mutant)")
	fs.StringVar(&o.implementation.Organization, "organization", "", "the conformance report's implementation.organization, over the target file's")
	fs.StringVar(&o.implementation.Project, "project", "", "the conformance report's implementation.project, over the target file's")
	fs.StringVar(&o.implementation.Version, "project-version", "", "the conformance report's implementation.version (the release judged), over the target file's")
	fs.StringVar(&o.implementation.Contact, "contact", "", "the conformance report's implementation.contact, over the target file's")
	fs.DurationVar(&o.timeout, "timeout", defaultTimeout, "deadline of the whole run; then the running spec is interrupted, the rest are not run, the listed users are cleaned up (within 30s) and the reports written, exit 2")
	fs.DurationVar(&o.requestTimeout, "request-timeout", framework.DefaultRequestTimeout, "how long one request may take, its answer read to the end; "+fmt.Sprint(framework.MaxTransportErrors)+" requests in a row without an answer stop the run (exit 2)")
	fs.StringVar(&o.fixture, "fixture", "", "tenant file (target-file format) the bundled reference serves and the suite judges it by, instead of fixtures/reference.yaml (e.g. fixtures/variants/minimal.yaml)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q (subcommands: diff, proxy, replay, verify-report, explore; the emulator is go run ./reference/cmd/reference)", fs.Arg(0))
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
	if o.timeout <= 0 || o.requestTimeout <= 0 {
		return o, errors.New("--timeout and --request-timeout take a duration above 0, e.g. 30m or 30s")
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
	deadline := time.Now()
	o, err := parseRunFlags(args)
	deadline = deadline.Add(o.timeout)
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
	where, stop := tgt.BaseURL, func() {}
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
	env.RequestTimeout = o.requestTimeout
	defer stopAt(env, deadline, o.timeout)()
	warnShortSecrets()
	env.Disposable, env.ReportDir = o.targetFile == "", o.reportDir
	if err := env.Preflight(); err != nil {
		return usageError("%v", err)
	}
	fmt.Fprintf(stdout, "Judging %s (profile %s)\n", where, env.Profile.Name)
	summary, err := runSpecs(env, o, stdout, terminal(os.Stdout), time.Until(deadline))
	if err != nil {
		return usageError("%v", err)
	}
	stop() // before the summary, whose last line closes the output
	summary.Target = secrets.Redact(where)
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
		if err := publish(o.reportDir, tgt, o.labelFilter, summary); err != nil {
			return usageError("writing %s: %v", report.ConformanceFile, err)
		}
	}
	summary.WriteTerminal(stdout)
	return exitCode(summary, o.allowErrors)
}

// exitCode is the run's exit status. With --allow-errors, ERROR verdicts
// alone do not make it 2, so that a CI job can fail on FAILs only.
func exitCode(s report.Summary, allowErrors bool) int {
	if allowErrors {
		s.Errored = 0
	}
	return s.ExitCode()
}

// stopAt interrupts the run at its deadline or at SIGINT or SIGTERM, the
// moments Ginkgo interrupts its specs (runSpecs), so that no request
// outlives them but the cleanup's; it returns the function that lets go.
func stopAt(env *framework.Env, deadline time.Time, timeout time.Duration) func() {
	timer := time.AfterFunc(time.Until(deadline), func() {
		env.Interrupt(fmt.Errorf("the run's deadline (--timeout %v) passed", timeout))
	})
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range signals {
			name := "SIGTERM"
			if s == os.Interrupt {
				name = "SIGINT, Ctrl-C"
			}
			env.Interrupt(fmt.Errorf("interrupted (%s)", name))
		}
	}()
	return func() {
		timer.Stop()
		signal.Stop(signals)
		close(signals)
	}
}

// terminal reports whether f is a terminal, which gets colours; CI logs
// and pipes get no escape codes.
func terminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// loadTarget reads the target file, or the bundled reference's tenant
// (--fixture, else the embedded one) when there is none, and applies the
// profile, opt-in and implementation flags. In a dry run, variables that
// are not set get placeholders: a plan needs no secrets.
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
	t.Implementation = o.implementation.Over(t.Implementation)
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("with the flags given: %w", err)
	}
	secrets.Add(t.Secrets()...)
	return t, nil
}

func placeholderEnv(name string) (string, bool) {
	if v, ok := os.LookupEnv(name); ok {
		return v, true
	}
	return "dry-run-" + name, true
}

// runSpecs runs the selected specs against env, within timeout, and turns
// Ginkgo's report into verdicts per requirement; Ginkgo's console output
// goes to console (with colours when color). Ginkgo runs once per
// process. Its own reports are written from a redacted copy of its report.
func runSpecs(env *framework.Env, o options, console io.Writer, color bool, timeout time.Duration) (report.Summary, error) {
	framework.Use(env)
	cat, err := catalog.Load()
	if err != nil {
		return report.Summary{}, err
	}
	if o.reportDir != "" {
		if err := os.MkdirAll(o.reportDir, 0o755); err != nil {
			return report.Summary{}, fmt.Errorf("report dir: %w", err)
		}
	}
	suiteConfig, reporterConfig := ginkgo.GinkgoConfiguration()
	suiteConfig.LabelFilter = o.labelFilter
	// The run's deadline is stopAt's: at it every request fails, the
	// running spec ends, no other starts and the cleanup has its own
	// CleanupTimeout. Ginkgo's deadline, which would cut the cleanup short
	// too, comes only after that; a spec it interrupts (or a signal) gets
	// a grace period longer than the cleanup's.
	suiteConfig.Timeout = timeout + framework.CleanupTimeout + 10*time.Second
	suiteConfig.GracePeriod = framework.CleanupTimeout + 5*time.Second
	reporterConfig.Verbose = o.verbose
	reporterConfig.NoColor = !color
	formatter.ColorableStdOut, formatter.ColorableStdErr = console, stderr
	var captured types.Report
	progress := suiterun.NewProgress(console, o.verbose)
	ginkgo.ReportBeforeSuite(func(r ginkgo.Report) { progress.Start(r.PreRunStats.SpecsThatWillRun) })
	ginkgo.ReportAfterEach(func(sr ginkgo.SpecReport) { progress.SpecDone(sr) })
	ginkgo.ReportAfterSuite("requirement verdicts", func(r ginkgo.Report) { captured = r })
	gomega.RegisterFailHandler(framework.FailHandler)
	ginkgo.RunSpecs(&suiteT{}, "user-attributes conformance", suiteConfig, reporterConfig)
	// What the judge's rules found on the run's exchanges joins the
	// verdicts, each a FAIL of its own requirement, in every report.
	found := suiterun.FindingSpecs(env.Findings())
	captured.SpecReports = append(captured.SpecReports, found...)
	progress.Added(found)
	if o.reportDir != "" {
		if err := suiterun.WriteGinkgoReports(captured, o.reportDir, func(s string) string { return secrets.Excerpt(s, maxReportString) }); err != nil {
			return report.Summary{}, err
		}
	}
	summary := suiterun.Build(captured, cat, secrets.Redact)
	summary.Profile = env.Profile.Name
	summary.SuiteVersion = report.SuiteVersion()
	summary.ContractSHA256 = report.ContractHash(attrconform.Contract)
	summary.Coverage = report.BuildCoverage(env.Contract.Operations(), env.Coverage.Seen())
	return summary, nil
}

// maxReportString bounds each text of Ginkgo's reports (a failure message,
// a report entry): the specs' own messages are capped smaller.
const maxReportString = 16 << 10

// suiteT stands in for *testing.T: Ginkgo only needs to be told of failure,
// and the verdict comes from the report instead.
type suiteT struct{}

func (*suiteT) Fail() {}
