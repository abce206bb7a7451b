package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/attrconform/attrconform/catalog"
	"github.com/attrconform/attrconform/explore"
	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/history"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/report"
	"github.com/attrconform/attrconform/target"
)

// exploreCmd is `runner explore`: generated sequences of requests sent to
// the target (or the bundled reference), every answer held to the model
// of the documents; a disagreement is shrunk to a minimal sequence and
// reported with a record file runner replay sends again. With --compare,
// the same requests go to a second target (OLD) first, and the target
// explored (NEW) must also keep OLD's alternatives where the documents
// allow several.
//
// Exit status: 0 the target agreed with the model (and with OLD), 1 a
// disagreement or a difference, 2 a configuration or harness error (or
// data left behind).
func exploreCmd(args []string) int {
	fs := flag.NewFlagSet("runner explore", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.targetFile, "target", "", "target file of the endpoint to explore; empty explores the bundled reference")
	fs.StringVar(&o.reportDir, "report-dir", "", "directory for requirements.json, .md, .html, junit.xml and, on a disagreement, counterexample.txt and counterexample.jsonl (for runner replay)")
	fs.StringVar(&o.profile, "profile", "", "profile overriding the target's: lenient, current or legacy")
	fs.StringVar(&o.reference, "reference", refAuto, "without --target, how to run the bundled reference: auto, container or inprocess")
	fs.StringVar(&o.mutant, "mutant", "", "without --target, start the bundled reference with this deliberate defect (see internal/mutant)")
	fs.StringVar(&o.fixture, "fixture", "", "without --target, the tenant file the bundled reference serves and is explored by")
	fs.DurationVar(&o.raceWindow, "race-window", reference.DefaultRaceWindow, "the bundled reference's pause between reading and committing a PUT; 0 commits at once (with --seed, a run is then reproduced exactly)")
	seed := fs.String("seed", "", "seed of the generated sequences (default: drawn, and printed); the same seed and --steps replay the same requests against a deterministic target")
	steps := fs.Int("steps", 10000, "generated requests at most (the requests emptying users between sequences and the shrinking are not counted)")
	duration := fs.Duration("time", 30*time.Second, "time the exploration may take at most, shrinking not counted")
	shrink := fs.Duration("shrink-time", explore.DefaultShrinkTime, "time shrinking a disagreement may take at most (a run takes at most --time and this)")
	group := fs.String("group", explore.All.Name, "requests aimed at one requirement group: "+groupNames())
	exclusive := fs.Bool("exclusive", false, "with --target or --compare: nothing else writes to those targets' apps during the run, so capacity values are judged exactly (always so for the bundled reference)")
	clients := fs.Int("clients", 0, fmt.Sprintf("after the sequential exploration, this many clients (at most %d) race generated operations at a few listed users, and each history is checked for linearizability against the model; 0: none", history.MaxClients))
	historyTime := fs.Duration("history-time", 10*time.Second, "with --clients: time the concurrent histories may take at most, checks included")
	compare := fs.String("compare", "", "target file of an OLD endpoint: every request goes to it first, then to the target explored (NEW: --target's, or the bundled reference), each answer is held to the model, and NEW to the alternatives OLD showed where the documents allow several; both targets need the same app roles and listed users; not with --clients (histories are not compared); the record file holds NEW's exchanges")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		return usageError("explore: unexpected argument %q", fs.Arg(0))
	}
	raceWindowSet := false
	fs.Visit(func(f *flag.Flag) { raceWindowSet = raceWindowSet || f.Name == "race-window" })
	bundled := o.targetFile == ""
	switch {
	case !bundled && (o.mutant != "" || o.fixture != "" || raceWindowSet):
		return usageError("explore: --mutant, --fixture and --race-window apply to the bundled reference only; leave out --target")
	case o.raceWindow < 0:
		return usageError("explore: --race-window %v: give a duration of 0 or more", o.raceWindow)
	case *steps <= 0 || *duration <= 0 || *shrink <= 0 || *historyTime <= 0:
		return usageError("explore: --steps, --time, --shrink-time and --history-time must be positive")
	case *compare != "" && *clients > 0:
		return usageError("explore: --compare with --clients: concurrent histories are not compared; leave out --clients")
	case *clients < 0 || *clients > history.MaxClients:
		return usageError("explore: --clients %d: give 0 to %d (porcupine's search grows quickly with the clients of one user)", *clients, history.MaxClients)
	case o.reference != refAuto && o.reference != refContainer && o.reference != refInProcess:
		return usageError("explore: --reference %q: use auto, container or inprocess", o.reference)
	}
	g, ok := explore.GroupNamed(*group)
	if !ok {
		return usageError("explore: --group %q: use one of %s", *group, groupNames())
	}
	s := explore.NewSeed()
	if *seed != "" {
		v, err := strconv.ParseUint(*seed, 10, 64)
		if err != nil || v == 0 {
			return usageError("explore: --seed %q: give a positive integer", *seed)
		}
		s = v
	}
	if raceWindowSet {
		o.raceWindow = reference.RaceWindowOf(o.raceWindow)
	} else {
		o.raceWindow = 0
	}
	tgt, err := loadTarget(o)
	if err != nil {
		return usageError("explore: %v", err)
	}
	var old *target.Target
	if *compare != "" {
		if old, err = loadTarget(options{targetFile: *compare, profile: o.profile}); err != nil {
			return usageError("explore: --compare: %v", err)
		}
		if err := explore.SameShape(old, tgt); err != nil {
			return usageError("explore: --compare %s: %v", *compare, err)
		}
	}
	if o.reportDir != "" {
		if err := os.MkdirAll(o.reportDir, 0o755); err != nil {
			return usageError("explore: report dir: %v", err)
		}
	}
	where, stop := tgt.BaseURL, func() {}
	if bundled {
		opts, err := bundledOptions(o.mutant, o.raceWindow)
		if err != nil {
			return usageError("explore: %v", err)
		}
		if o.reference == refInProcess || opts.Defect != nil || opts.RaceWindow != 0 {
			unthrottled(tgt)
		}
		if where, stop, err = startBundled(tgt, o.reference, o.fixture, opts, true); err != nil {
			return usageError("explore: %v", err)
		}
		stop = sync.OnceFunc(stop)
		defer stop()
	}
	env, err := framework.NewEnv(tgt)
	if err != nil {
		return usageError("explore: %v", err)
	}
	// Every target explored, OLD first when comparing.
	envs, profiles := []*framework.Env{env}, env.Profile.Name
	if old != nil {
		oldEnv, err := framework.NewEnv(old)
		if err != nil {
			return usageError("explore: --compare: %v", err)
		}
		envs = []*framework.Env{oldEnv, env}
		where = fmt.Sprintf("NEW %s compared with OLD %s", where, old.BaseURL)
		profiles = fmt.Sprintf("%s, OLD's %s", profiles, oldEnv.Profile.Name)
	}
	// The exploration ends by its own bounds; the deadline is a backstop
	// for a target that stops answering, and Ctrl-C stops it the same way.
	backstop := *duration + *shrink + 2*time.Minute
	for _, e := range envs {
		defer stopAt(e, time.Now().Add(backstop), backstop)()
	}
	warnShortSecrets()
	snapshots, err := prepare(envs)
	if err != nil {
		return usageError("explore: %v", err)
	}
	env.Attribute("the exploration")
	opts := explore.Options{Env: env, Seed: s, Steps: *steps, Time: *duration, ShrinkTime: *shrink, Group: g,
		Exclusive: bundled || *exclusive, Disposable: bundled && old == nil, Log: stdout}
	if old != nil {
		opts.Old, opts.OldExclusive = envs[0], *exclusive
	}
	fmt.Fprintf(stdout, "explore: %s (profile %s), seed %d, group %s, at most %d requests or %v\n", secrets.Redact(where), profiles, s, g.Name, *steps, *duration)
	res, runErr := explore.Run(opts)
	fmt.Fprintf(stdout, "explore: seed %d: %d sequences, %d generated requests (%d in all) in %v\n", res.Seed, res.Sequences, res.Steps, res.Requests, res.Elapsed.Round(time.Millisecond))
	var hist *history.Result
	if *clients > 0 && runErr == nil {
		env.Attribute("the concurrent histories")
		h, err := history.Run(history.Options{Env: env, Seed: s, Clients: *clients, Rounds: maxHistories, Time: *historyTime,
			Exclusive: opts.Exclusive, Dir: o.reportDir, Log: stdout})
		hist, runErr = &h, err
	}
	var leaks []string
	var restoreErr error
	for i, e := range envs {
		l, err := e.RestoreUsers(snapshots[i])
		for _, leak := range l {
			leaks = append(leaks, label(e, envs)+leak)
		}
		if err != nil {
			restoreErr = errors.Join(restoreErr, fmt.Errorf("%s%w", label(e, envs), err))
		}
	}
	stop()
	if runErr != nil {
		return usageError("%v", runErr)
	}
	if restoreErr != nil {
		return usageError("explore: %v", restoreErr)
	}
	summary, err := exploreSummary(res, hist, env, secrets.Redact(where), o.reportDir)
	if err != nil {
		return usageError("explore: %v", err)
	}
	if err := writeTrafficReports(summary, o.reportDir); err != nil {
		return usageError("explore: %v", err)
	}
	summary.WriteTerminal(stdout)
	for _, n := range res.Notes {
		fmt.Fprintln(stdout, "note: "+secrets.Redact(n))
	}
	if len(res.OldChoices) > 0 {
		fmt.Fprintf(stdout, "alternatives OLD showed: %s\n", joinChoices(res.OldChoices))
	}
	if len(res.Choices) > 0 {
		fmt.Fprintf(stdout, "alternatives the target showed: %s\n", joinChoices(res.Choices))
	}
	code := summary.ExitCode()
	if res.Disagreement != nil {
		code = 1 // a difference breaks no requirement, and fails no row of the summary
	}
	if hist != nil {
		fmt.Fprintln(stdout, "histories: "+hist.String())
		if v := hist.Race(); v.Failed {
			fmt.Fprintf(stdout, "\nNOT LINEARIZABLE: %s\n", secrets.Redact(v.Text))
		}
	}
	if d := res.Disagreement; d != nil {
		fmt.Fprint(stdout, "\n"+d.Report(secrets.Redact))
		if err := writeCounterexample(d, tgt, o.reportDir); err != nil {
			return usageError("explore: %v", err)
		}
		again := ""
		if old != nil {
			again = " --compare " + *compare
		}
		fmt.Fprintf(stdout, "reproduce: runner explore --seed %d --steps %d --group %s%s (against a target in the same state, deterministic: e.g. the bundled reference with --race-window 0)\n", res.Seed, *steps, g.Name, again)
	}
	findings := env.Findings()
	for _, f := range findings {
		fmt.Fprintf(stdout, "\nBROKEN RULE %s (the single-exchange rules, on %s, %d exchanges): %s\n", f.Requirement, f.In, f.Count, secrets.Redact(f.Problem))
		if f.Exchange != nil {
			fmt.Fprintf(stdout, "  first: %s\n", secrets.Redact(f.Exchange.String()))
		}
	}
	switch {
	case len(findings) > 0:
	case hist != nil && hist.Illegal != nil:
		fmt.Fprintf(stdout, "the same operations: runner explore --seed %d --steps %d --group %s --clients %d (their interleaving is the target's, and no seed replays it)\n", res.Seed, *steps, g.Name, *clients)
	case res.Disagreement == nil && old != nil:
		fmt.Fprintf(stdout, "both targets agreed with the model on every answer, and NEW kept every alternative OLD showed (seed %d)\n", res.Seed)
	case res.Disagreement == nil:
		fmt.Fprintf(stdout, "the target agreed with the model on every answer (seed %d)\n", res.Seed)
	}
	if len(leaks) > 0 {
		// Data left behind is a harness failure, unless a disagreement
		// already says why (a delete that deletes nothing leaves data too).
		fmt.Fprintf(os.Stderr, "runner: explore: leak check: the run left data behind: %s\n", strings.Join(leaks, "; "))
		if code == 0 {
			code = 2
		}
	}
	return code
}

// label names a target in messages when two are compared: "OLD: " for the
// first of envs, "NEW: " for the second; nothing for a single target.
func label(e *framework.Env, envs []*framework.Env) string {
	switch {
	case len(envs) < 2:
		return ""
	case e == envs[0]:
		return "OLD: "
	}
	return "NEW: "
}

// prepare checks every target answers, then records and empties the
// listed users of each; when one fails, those already emptied are
// restored.
func prepare(envs []*framework.Env) ([]framework.Snapshot, error) {
	for _, e := range envs {
		if err := e.Preflight(); err != nil {
			return nil, fmt.Errorf("%s%w", label(e, envs), err)
		}
	}
	var snapshots []framework.Snapshot
	for i, e := range envs {
		snapshot, err := e.PrepareUsers()
		if err != nil {
			for j, done := range envs[:i] {
				if _, rerr := done.RestoreUsers(snapshots[j]); rerr != nil {
					err = errors.Join(err, fmt.Errorf("%s%w", label(done, envs), rerr))
				}
			}
			return nil, fmt.Errorf("%s%w", label(e, envs), err)
		}
		snapshots = append(snapshots, snapshot)
	}
	return snapshots, nil
}

// unthrottled lifts the request budget of an in-process reference and of
// the client: exploration does not judge rate limits (the suite's specs
// do), and shrinking replays sequences many times over. The app kept for
// the rate-limit specs keeps its limit.
func unthrottled(t *target.Target) {
	const unlimited = 1e6
	t.RequestBudget = unlimited
	for _, role := range t.Roles() {
		if role != "rate_limited" {
			t.AppByRole(role).RatePerSecond = unlimited
		}
	}
}

// maxHistories bounds the rounds of --clients; --history-time bounds
// their time.
const maxHistories = 1000

// exploreSummary is the run's verdicts per requirement, in the report
// family's form: the exploration's and, with --clients, the histories'.
func exploreSummary(res explore.Result, hist *history.Result, env *framework.Env, where, dir string) (report.Summary, error) {
	cat, err := catalog.Load()
	if err != nil {
		return report.Summary{}, err
	}
	judged, tr := res.Judged(secrets.Redact), report.Traffic{Exchanges: res.Requests, Judged: res.Requests}
	if d := res.Disagreement; d != nil && d.Difference == nil {
		tr.Violating++
	}
	if hist != nil {
		for id, j := range hist.Judged(secrets.Redact, dir) {
			all := judged[id]
			all.Held += j.Held
			all.Violated += j.Violated
			all.Failures = append(all.Failures, j.Failures...)
			all.Artifacts = append(all.Artifacts, j.Artifacts...)
			judged[id] = all
		}
		for _, h := range hist.Histories {
			tr.Exchanges += h.Requests
			tr.Judged += h.Requests
		}
		if hist.Illegal != nil {
			tr.Violating++
		}
	}
	notJudged := func(id string) string {
		if hist != nil {
			if why, ok := hist.NotObserved(id); ok {
				return why
			}
		}
		return res.NotJudged(id)
	}
	// The judge's single-exchange rules ran on every exchange (the
	// framework's transport): what they found fails its requirement, as in
	// the default run.
	for _, f := range env.Findings() {
		j := judged[f.Requirement]
		j.Violated += f.Count
		j.Failures = append(j.Failures, report.Failure{Spec: "the single-exchange rules, on " + f.In, Reason: f.Problem, Exchange: f.Exchange})
		judged[f.Requirement] = j
		tr.Violating += f.Count
	}
	s := report.BuildTraffic(cat, judged, notJudged, tr)
	s.Target, s.Profile, s.Duration = where, env.Profile.Name, res.Elapsed
	s.Coverage = report.BuildCoverage(env.Contract.Operations(), env.Coverage.Seen())
	s.SuiteVersion, s.Start = report.SuiteVersion(), time.Now().Add(-res.Elapsed)
	return s, nil
}

// writeCounterexample writes the disagreement's report and its record
// file into dir (counterexample.txt, counterexample.jsonl) and says where;
// without a directory, the record goes to a temporary file, so that it
// can be replayed all the same.
func writeCounterexample(d *explore.Disagreement, tgt *target.Target, dir string) error {
	path := filepath.Join(dir, "counterexample.jsonl")
	if dir == "" {
		f, err := os.CreateTemp("", "attrconform-counterexample-*.jsonl")
		if err != nil {
			return err
		}
		f.Close()
		path = f.Name()
	} else {
		text := d.Report(secrets.Redact) + "\nrapid's output (the minimal case):\n" + d.Log
		if err := os.WriteFile(filepath.Join(dir, "counterexample.txt"), []byte(text), 0o644); err != nil {
			return err
		}
	}
	if err := d.WriteRecord(path, tgt, secrets.Redact); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "replay: runner replay %s (the sequence with its setup; replay it to a target in the state the run started from)\n", path)
	return nil
}

func joinChoices(alts []model.Alternative) string {
	parts := make([]string, len(alts))
	for i, a := range alts {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

func groupNames() string {
	var names []string
	for _, g := range explore.Groups {
		names = append(names, g.Name)
	}
	return strings.Join(names, ", ")
}
