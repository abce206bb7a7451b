// Command mutation proves the suite. It runs the hand-written specs (the
// whole suite but its bounded exploration) against the faithful reference
// and against the reference with each mutant of package mutant and, with
// -explore, runner explore alone against each of them, and prints a table
// of the mutants killed or survived by each, the requirements that
// failed, and the time of each run. It exits 1 unless the faithful
// reference passes and agrees with the model; every mutant is killed by a
// spec of a requirement it breaks (a blind mutant, by the specs or the
// exploration); the exploration kills at least 90% of the mutants in its
// scope (all but the rate limit's) and at least 80% of its shrunk
// counterexamples have 5 requests or fewer; and, over every mutant and
// spec, every testable MUST/SHOULD requirement has a precise killing
// mutant (one whose run failed only requirements among its Breaks and
// Also, that requirement among its Breaks).
//
//	go run ./tools/mutation -explore 60s        # the table (make mutation)
//	go run ./tools/mutation -soak 50 \
//	    -label-filter 'race || ratelimit' -mutants no-version-check,no-rate-limit   # make soak
//
// It builds the runner once, then runs it as separate processes, a few at
// a time, each with its own report directory and a time limit. With -soak
// N every target runs N times and must prove its point every time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/attrconform/attrconform/catalog"
	"github.com/attrconform/attrconform/internal/mutant"
)

func main() { os.Exit(mainCode(os.Args[1:], os.Stdout, os.Stderr)) }

type options struct {
	runner, pkg, work, labelFilter, mutants string
	root                                    string // the repository root, which mutants' fixtures are relative to
	fixture, raceWindow                     string // runner flags for every run; "" leaves them out
	exploreBlind                            bool   // explore the blind mutants only
	workers, soak                           int
	timeout, deadline, explore              time.Duration
	seed                                    uint64 // runner explore's --seed
}

func mainCode(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mutation", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.runner, "runner", "", "a runner binary to use; default: build -pkg once")
	fs.StringVar(&o.pkg, "pkg", "./runner", "the runner's package, built when -runner is not given")
	fs.StringVar(&o.work, "work", "", "directory for the runs' reports; default a temporary one, removed unless a run went wrong")
	fs.StringVar(&o.mutants, "mutants", "", "comma-separated mutants to run; default every registered one; none runs the faithful reference only")
	fs.StringVar(&o.fixture, "fixture", "", "tenant file (relative to the repository root) every run serves and is judged by, in place of the mutants' own")
	fs.StringVar(&o.raceWindow, "race-window", "", "the runner's --race-window for every run (the reference's pause between reading and committing a PUT)")
	fs.StringVar(&o.labelFilter, "label-filter", "", "the runner's --label-filter for every run")
	fs.IntVar(&o.workers, "workers", 2, "runs at the same time")
	fs.IntVar(&o.soak, "soak", 0, "run every target this many times; each run must prove its point")
	fs.DurationVar(&o.timeout, "timeout", 3*time.Minute, "time limit of one run")
	fs.DurationVar(&o.deadline, "deadline", 0, "time limit of the whole command; 0 means none (runs still have -timeout)")
	fs.DurationVar(&o.explore, "explore", 0, "time of runner explore alone against each target (the exploration column); 0 leaves it out")
	fs.Uint64Var(&o.seed, "seed", 1, "runner explore's --seed in every exploration")
	fs.BoolVar(&o.exploreBlind, "explore-blind", false, "with -explore: explore the faithful reference and the blind mutants only, and judge the blind ones by the exploration alone (their specs are not run; the exploration's shares are not enforced)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || o.workers < 1 || o.soak < 0 || o.timeout <= 0 || o.explore < 0 || o.seed == 0 || (o.explore > 0 && o.soak > 0) {
		fmt.Fprintln(stderr, "mutation: bad arguments (see -h)")
		return 2
	}
	targets, err := plan(o.mutants, o.fixture)
	if err != nil {
		fmt.Fprintln(stderr, "mutation:", err)
		return 2
	}
	if o.root, err = moduleRoot(); err != nil {
		fmt.Fprintln(stderr, "mutation:", err)
		return 2
	}
	for _, t := range targets {
		if _, err := os.Stat(filepath.Join(o.root, t.fixture)); t.fixture != "" && err != nil {
			fmt.Fprintf(stderr, "mutation: %s: fixture %v\n", t.name, err)
			return 2
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.deadline)
		defer cancel()
	}

	work, cleanup, err := workDir(o.work)
	if err != nil {
		fmt.Fprintln(stderr, "mutation:", err)
		return 2
	}
	bin := o.runner
	if bin == "" {
		bin = filepath.Join(work, "runner-bin")
		fmt.Fprintf(stderr, "mutation: building %s\n", o.pkg)
		build := exec.CommandContext(ctx, "go", "build", "-tags", "mutants", "-o", bin, o.pkg)
		build.Stdout, build.Stderr = stderr, stderr
		if err := build.Run(); err != nil {
			fmt.Fprintf(stderr, "mutation: building the runner: %v\n", err)
			cleanup(false)
			return 2
		}
	}

	start := time.Now()
	times := max(o.soak, 1)
	jobs := make([]job, 0, len(targets)*times)
	// Round-major order: every target makes progress together.
	for i := range times {
		for ti, t := range targets {
			dir := filepath.Join(work, "runs", strings.NewReplacer(" --", "_", " ", "-", "/", "-").Replace(t.name))
			if o.soak > 0 {
				dir = filepath.Join(dir, fmt.Sprint(i+1))
			}
			if !(o.exploreBlind && t.blind) {
				jobs = append(jobs, job{target: ti, round: i, soak: o.soak > 0, t: t, dir: dir})
			}
			if o.explore > 0 && (t.faithful() || (t.inScope() && (t.blind || !o.exploreBlind))) {
				jobs = append(jobs, job{target: ti, explore: true, t: t, dir: filepath.Join(dir, "explore")})
			}
		}
	}
	runs := execute(ctx, bin, o, jobs, stderr)
	wall := time.Since(start)

	var ok bool
	if o.soak > 0 {
		byTarget := make([][]run, len(targets))
		for i, j := range jobs {
			byTarget[j.target] = append(byTarget[j.target], runs[i])
		}
		ok = writeSoak(stdout, targets, byTarget, wall)
	} else {
		specs, explorations := make([]run, len(targets)), make([]*run, len(targets))
		for i := range specs {
			specs[i].notRun = true
		}
		for i, j := range jobs {
			if j.explore {
				explorations[j.target] = &runs[i]
			} else {
				specs[j.target] = runs[i]
			}
		}
		cat, err := catalog.Load()
		if err != nil {
			fmt.Fprintln(stderr, "mutation:", err)
			return 2
		}
		// Coverage decides only a run over every mutant and every spec.
		everything := o.mutants == "" && o.labelFilter == "" && o.fixture == "" && o.raceWindow == ""
		ok = writeTable(stdout, targets, specs, explorations, wall, cat.Requirements, gates{coverage: everything, exploration: everything && !o.exploreBlind})
	}
	if ctx.Err() != nil {
		fmt.Fprintf(stdout, "mutation: stopped early (%v)\n", context.Cause(ctx))
		ok = false
	}
	cleanup(ok)
	if !ok {
		return 1
	}
	return 0
}

// plan lists the targets: the faithful reference once per (profile,
// fixture) pair a selected mutant is judged with, then the mutants in the
// order given (name order by default).
func plan(names, fixture string) ([]target, error) {
	selected := mutant.Names()
	switch names {
	case "":
	case "none":
		selected = nil
	default:
		selected = nil
		for _, n := range strings.Split(names, ",") {
			if n = strings.TrimSpace(n); n != "" && !slices.Contains(selected, n) {
				selected = append(selected, n)
			}
		}
	}
	faithful := []target{faithfulUnder("", fixture)}
	var mutants []target
	for _, n := range selected {
		m, err := mutant.Lookup(n)
		if err != nil {
			return nil, err
		}
		if fixture != "" {
			m.Fixture = fixture
		}
		mutants = append(mutants, target{name: m.Name, mutant: m.Name, breaks: m.Breaks, also: m.Also, profile: m.Profile, fixture: m.Fixture, blind: m.Blind})
		if !slices.ContainsFunc(faithful, func(t target) bool { return t.profile == m.Profile && t.fixture == m.Fixture }) {
			faithful = append(faithful, faithfulUnder(m.Profile, m.Fixture))
		}
	}
	return append(faithful, mutants...), nil
}

// faithfulUnder is the faithful reference judged with a profile and a
// fixture, named by the runner flags that say so.
func faithfulUnder(profile, fixture string) target {
	name := "faithful"
	if profile != "" {
		name += " --profile " + profile
	}
	if fixture != "" {
		name += " --fixture " + fixture
	}
	return target{name: name, profile: profile, fixture: fixture}
}

// moduleRoot is the directory of the go.mod above the working directory:
// the repository root, which mutants name their fixtures relative to.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run from the repository")
		}
		dir = parent
	}
}

// workDir makes the report directory; cleanup removes it when the command
// made it and everything went well, else says where it is.
func workDir(dir string) (string, func(ok bool), error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", nil, err
		}
		return dir, func(bool) {}, nil
	}
	dir, err := os.MkdirTemp("", "mutation-")
	if err != nil {
		return "", nil, err
	}
	return dir, func(ok bool) {
		if ok {
			os.RemoveAll(dir)
		} else {
			fmt.Fprintf(os.Stderr, "mutation: reports kept in %s\n", dir)
		}
	}, nil
}

type job struct {
	target, round int
	soak          bool
	explore       bool // runner explore, not the specs
	t             target
	dir           string
}

// execute runs the jobs on o.workers workers and returns their runs in
// job order. Jobs not started before ctx ends are errors.
func execute(ctx context.Context, bin string, o options, jobs []job, progress io.Writer) []run {
	runs := make([]run, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range min(o.workers, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				runs[i] = runOnce(ctx, bin, o, jobs[i])
				verdict := judge(jobs[i].t, runs[i])
				if jobs[i].explore {
					verdict = explored(jobs[i].t, &runs[i])
				}
				mu.Lock()
				done++
				fmt.Fprintf(progress, "[%d/%d] %s: %s (%s)\n", done, len(jobs), jobs[i].label(), verdict.result, seconds(runs[i].elapsed))
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range jobs {
		select {
		case next <- i:
		case <-ctx.Done():
			for j := i; j < len(jobs); j++ {
				runs[j] = run{exit: -1, err: fmt.Errorf("not run: %v", context.Cause(ctx))}
			}
			break feed
		}
	}
	close(next)
	wg.Wait()
	return runs
}

func (j job) label() string {
	if j.explore {
		return j.t.name + " (explore)"
	}
	if j.soak {
		return fmt.Sprintf("%s #%d", j.t.name, j.round+1)
	}
	return j.t.name
}

// specsFilter is the runner's --label-filter of a run. The table judges
// the hand-written specs: the bounded exploration of the default run
// (label explore) fails requirements by what it happens to reach, and
// would blur which specs kill a mutant; runner explore is its own
// measure. A soak runs everything, exploration included.
func specsFilter(o options) string {
	switch {
	case o.soak > 0:
		return o.labelFilter
	case o.labelFilter == "":
		return "!explore"
	}
	return "(" + o.labelFilter + ") && !explore"
}

// runOnce runs the runner for one job with the per-run time limit.
func runOnce(ctx context.Context, bin string, o options, j job) run {
	r := run{exit: -1, dir: j.dir}
	if err := os.MkdirAll(j.dir, 0o755); err != nil {
		r.err = err
		return r
	}
	args := append([]string{"--reference", "inprocess", "--report-dir", j.dir}, targetArgs(o, j.t)...)
	if filter := specsFilter(o); filter != "" {
		args = append(args, "--label-filter", filter)
	}
	if o.raceWindow != "" {
		args = append(args, "--race-window", o.raceWindow)
	}
	timeout := o.timeout
	if j.explore {
		args = exploreArgs(o, j)
		timeout = o.explore + time.Minute // the reference's start, the restore and the reports
	}
	out, err := os.Create(filepath.Join(j.dir, "output.txt"))
	if err != nil {
		r.err = err
		return r
	}
	defer out.Close()
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(rctx, bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	err = cmd.Run()
	r.elapsed = time.Since(start)
	var exit *exec.ExitError
	switch {
	case rctx.Err() != nil:
		r.timedOut = errors.Is(rctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		r.err = fmt.Errorf("stopped: %v", context.Cause(rctx))
		return r
	case errors.As(err, &exit):
		r.exit = exit.ExitCode()
	case err != nil:
		r.err = err
		return r
	default:
		r.exit = 0
	}
	r.summary, r.err = readSummary(filepath.Join(j.dir, "requirements.json"))
	if j.explore {
		readExploration(&r)
	}
	return r
}

// targetArgs are the runner flags that start the reference t names.
func targetArgs(o options, t target) []string {
	var args []string
	if t.mutant != "" {
		args = append(args, "--mutant", t.mutant)
	}
	if t.profile != "" {
		args = append(args, "--profile", t.profile)
	}
	if t.fixture != "" {
		args = append(args, "--fixture", filepath.Join(o.root, t.fixture))
	}
	return args
}
