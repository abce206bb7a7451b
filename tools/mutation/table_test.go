package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/attrconform/attrconform/catalog"
)

// The test binary doubles as a fake runner (fakeRunner) when this variable
// is set, so that the command's process handling is tested without the
// suite.
const fakeEnv = "MUTATION_TEST_FAKE_RUNNER"

func TestMain(m *testing.M) {
	if os.Getenv(fakeEnv) != "" {
		os.Exit(fakeRunner(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeRunner answers like the runner: the faithful reference passes;
// batch-cap-101 fails UA-BATCH-006 (killed), leaky-conflict fails
// UA-GEN-001 (killed elsewhere), batch-cap-99 passes (survived),
// no-version-check hangs (timeout), user-limit-plus-one writes no report;
// a --fixture that does not exist is an error (exit 2), so a run with a
// mutant's fixture passes only when the command found the file.
func fakeRunner(args []string) int {
	if len(args) > 0 && args[0] == "explore" {
		return fakeExplore(args[1:])
	}
	fs := flag.NewFlagSet("fake", flag.ContinueOnError)
	dir := fs.String("report-dir", "", "")
	name := fs.String("mutant", "", "")
	fs.String("reference", "", "")
	fs.String("profile", "", "")
	fs.String("label-filter", "", "")
	fixture := fs.String("fixture", "", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if _, err := os.Stat(*fixture); *fixture != "" && err != nil {
		return 2 // like the runner: an unreadable tenant file
	}
	var failed []string
	switch *name {
	case "batch-cap-101":
		failed = []string{"UA-BATCH-006"}
	case "leaky-conflict":
		failed = []string{"UA-GEN-001"}
	case "no-version-check":
		time.Sleep(time.Minute)
	case "user-limit-plus-one":
		return 2
	}
	type req struct{ ID, Verdict string }
	s := struct {
		Requirements   []req `json:"requirements"`
		Passed, Failed int
	}{Passed: 10, Failed: len(failed)}
	for _, id := range []string{"UA-BATCH-006", "UA-GEN-001", "UA-CONC-001"} {
		v := "PASS"
		if strings.Contains(strings.Join(failed, " "), id) {
			v = "FAIL"
		}
		s.Requirements = append(s.Requirements, req{id, v})
	}
	data, _ := json.Marshal(s)
	os.WriteFile(filepath.Join(*dir, "requirements.json"), data, 0o644)
	if len(failed) > 0 {
		return 1
	}
	return 0
}

// fakeExplore answers like runner explore: the faithful reference agrees;
// batch-cap-99 disagrees with a counterexample of two requests; any other
// mutant survives. A run without its time flags is refused.
func fakeExplore(args []string) int {
	fs := flag.NewFlagSet("fake explore", flag.ContinueOnError)
	dir := fs.String("report-dir", "", "")
	name := fs.String("mutant", "", "")
	for _, f := range []string{"reference", "profile", "fixture", "seed", "time", "shrink-time", "clients", "race-window", "history-time"} {
		fs.String(f, "", "")
	}
	if err := fs.Parse(args); err != nil || fs.Lookup("time").Value.String() == "" || fs.Lookup("seed").Value.String() != "7" {
		return 2
	}
	verdict := "PASS"
	if *name == "batch-cap-99" {
		verdict = "FAIL"
		fmt.Println("\nDISAGREEMENT with the documents' model: UA-BATCH-006\n  the minimal sequence (2 generated requests, after 3 that emptied the listed users):\n  1. POST get\n  2. POST get\n  the target answered 200 {}")
	}
	data, _ := json.Marshal(map[string]any{"requirements": []map[string]string{{"id": "UA-BATCH-006", "verdict": verdict}}})
	os.WriteFile(filepath.Join(*dir, "requirements.json"), data, 0o644)
	if verdict == "FAIL" {
		return 1
	}
	return 0
}

func summaryOf(verdicts map[string]string, passed, failed, errored int) *summary {
	s := &summary{Passed: passed, Failed: failed, Errored: errored}
	for _, id := range []string{"UA-A-001", "UA-B-001", "UA-C-001", "UA-RATE-001"} {
		v := "PASS"
		if verdicts[id] != "" {
			v = verdicts[id]
		}
		s.Requirements = append(s.Requirements, struct {
			ID      string `json:"id"`
			Verdict string `json:"verdict"`
		}{id, v})
	}
	return s
}

func TestJudge(t *testing.T) {
	faithful := target{name: "faithful"}
	m := target{name: "m", mutant: "m", breaks: []string{"UA-B-001"}}
	withAlso := target{name: "m", mutant: "m", breaks: []string{"UA-B-001"}, also: []string{"UA-A-001"}}
	ab := map[string]string{"UA-A-001": "FAIL", "UA-B-001": "FAIL"}
	cases := []struct {
		name    string
		t       target
		r       run
		result  string
		ok      bool
		failed  string
		precise bool
	}{
		{"faithful passes", faithful, run{exit: 0, summary: summaryOf(nil, 5, 0, 0)}, passed, true, "", false},
		{"faithful fails a spec", faithful, run{exit: 1, summary: summaryOf(map[string]string{"UA-A-001": "FAIL"}, 4, 1, 0)}, failing, false, "UA-A-001", false},
		{"faithful with a harness error", faithful, run{exit: 2, summary: summaryOf(map[string]string{"UA-A-001": "ERROR"}, 4, 0, 1)}, broken, false, "", false},
		{"faithful with nothing run", faithful, run{exit: 2, summary: summaryOf(nil, 0, 0, 0)}, broken, false, "", false},
		{"killed precisely", m, run{exit: 1, summary: summaryOf(map[string]string{"UA-B-001": "FAIL"}, 4, 1, 0)}, killed, true, "UA-B-001", true},
		{"killed, and another requirement failed", m, run{exit: 1, summary: summaryOf(ab, 3, 2, 0)}, imprecise, true, "UA-B-001 UA-A-001", false},
		{"killed, the other requirement in Also", withAlso, run{exit: 1, summary: summaryOf(ab, 3, 2, 0)}, killed, true, "UA-B-001 UA-A-001", true},
		{"killed despite a harness error", m, run{exit: 2, summary: summaryOf(map[string]string{"UA-B-001": "FAIL", "UA-C-001": "ERROR"}, 3, 1, 1)}, killed, true, "UA-B-001", true},
		{"killed elsewhere", m, run{exit: 1, summary: summaryOf(map[string]string{"UA-A-001": "FAIL"}, 3, 1, 0)}, offPoint, false, "UA-A-001", false},
		{"killed only by its Also", withAlso, run{exit: 1, summary: summaryOf(map[string]string{"UA-A-001": "FAIL"}, 3, 1, 0)}, offPoint, false, "UA-A-001", false},
		{"survived", m, run{exit: 0, summary: summaryOf(nil, 5, 0, 0)}, survived, false, "", false},
		{"errored without failures", m, run{exit: 2, summary: summaryOf(map[string]string{"UA-B-001": "ERROR"}, 3, 0, 1)}, broken, false, "", false},
		{"timed out", m, run{exit: -1, timedOut: true, err: errors.New("stopped")}, broken, false, "", false},
		{"no report", m, run{exit: 2, err: errors.New("no requirements.json")}, broken, false, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := judge(c.t, c.r)
			if o.result != c.result || o.ok != c.ok || strings.Join(o.failed, " ") != c.failed || o.precise != c.precise {
				t.Fatalf("judge: %+v, want result %q ok %v failed %q precise %v", o, c.result, c.ok, c.failed, c.precise)
			}
		})
	}
}

// A requirement is covered when a precisely killed mutant has it among
// its Breaks and among the requirements its run failed. Below 100% of the
// testable MUST/SHOULD requirements the table fails, but only when the run
// was over every mutant and spec (gate).
func TestCoverage(t *testing.T) {
	reqs := []catalog.Requirement{
		{ID: "UA-A-001", Level: "MUST", Testable: true},
		{ID: "UA-B-001", Level: "SHOULD", Testable: true},
		{ID: "UA-C-001", Level: "MAY", Testable: true},
		{ID: "UA-D-001", Level: "MUST", Testable: false},
	}
	targets := []target{
		{name: "faithful"},
		// Precise, with B in Breaks and failed: covers B. A failed too, but
		// it is in Also, which covers nothing.
		{name: "p", mutant: "p", breaks: []string{"UA-B-001"}, also: []string{"UA-A-001"}},
		// Imprecise: C is outside its Breaks and Also; covers nothing.
		{name: "q", mutant: "q", breaks: []string{"UA-A-001"}},
		// Precise, breaks C and A, but only C failed: covers C.
		{name: "r", mutant: "r", breaks: []string{"UA-C-001", "UA-A-001"}},
	}
	runs := []run{
		{exit: 0, summary: summaryOf(nil, 5, 0, 0)},
		{exit: 1, summary: summaryOf(map[string]string{"UA-A-001": "FAIL", "UA-B-001": "FAIL"}, 3, 2, 0)},
		{exit: 1, summary: summaryOf(map[string]string{"UA-A-001": "FAIL", "UA-C-001": "FAIL"}, 3, 2, 0)},
		{exit: 1, summary: summaryOf(map[string]string{"UA-C-001": "FAIL"}, 4, 1, 0)},
	}
	groups := coverage(reqs, targets, runs)
	if got := fmt.Sprint(groups[0].testable, groups[0].done, groups[0].missing(), groups[1].testable, groups[1].done); got != "[UA-A-001 UA-B-001] [UA-B-001] [UA-A-001] [UA-C-001] [UA-C-001]" {
		t.Fatalf("coverage: %s", got)
	}
	var out bytes.Buffer
	if writeTable(&out, targets, runs, nil, time.Minute, reqs, gates{coverage: true}) {
		t.Fatalf("an uncovered MUST must fail a gated table:\n%s", out.String())
	}
	for _, want := range []string{
		"q         killed, imprecise  UA-A-001* UA-C-001",
		"  q: also failed UA-C-001, outside its Breaks and Also\n",
		"p         killed             UA-B-001* UA-A-001+",
		"3 mutants: the hand-written specs kill 3 (2 precise), 0 elsewhere, 0 survive, 0 errors",
		"requirement coverage: 1/2 testable MUST/SHOULD IDs have a precise killing mutant\n  uncovered: UA-A-001\n",
		"requirement coverage (informational): 1/1 testable MAY/PROFILE IDs have a precise killing mutant\n",
		"mutation: FAILED: a testable MUST/SHOULD requirement has no precise killing mutant\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if !writeTable(&out, targets, runs, nil, time.Minute, reqs, gates{}) || !strings.Contains(out.String(), "(not enforced: the run was limited to some mutants or specs)") {
		t.Fatalf("a run over some mutants prints coverage without failing on it:\n%s", out.String())
	}
	// q's run failing only A makes it precise: A covered, the gate passes.
	runs[2] = run{exit: 1, summary: summaryOf(map[string]string{"UA-A-001": "FAIL"}, 4, 1, 0)}
	out.Reset()
	if !writeTable(&out, targets, runs, nil, time.Minute, reqs, gates{coverage: true}) || !strings.Contains(out.String(), "requirement coverage: 2/2 testable MUST/SHOULD IDs") {
		t.Fatalf("full coverage must pass:\n%s", out.String())
	}
}

func TestTable(t *testing.T) {
	targets := []target{
		{name: "faithful"},
		{name: "a-mutant", mutant: "a-mutant", breaks: []string{"UA-B-001"}},
		{name: "z-mutant", mutant: "z-mutant", breaks: []string{"UA-C-001"}},
	}
	all := map[string]string{"UA-A-001": "FAIL", "UA-B-001": "FAIL", "UA-C-001": "FAIL"}
	runs := []run{
		{exit: 0, summary: summaryOf(nil, 5, 0, 0), elapsed: 5 * time.Second},
		{exit: 1, summary: summaryOf(all, 2, 3, 0), elapsed: 6200 * time.Millisecond},
		{exit: 0, summary: summaryOf(nil, 5, 0, 0), elapsed: 4 * time.Second, dir: "/tmp/z"},
	}
	var out bytes.Buffer
	if writeTable(&out, targets, runs, nil, time.Minute, nil, gates{}) {
		t.Fatal("a survivor must fail the table")
	}
	for _, want := range []string{
		"MUTANT    SPECS              FAILED REQUIREMENTS (* = broken by the mutant, + = in its Also)  TIME\n",
		"faithful  passed             -                                                                5.0s\n",
		"a-mutant  killed, imprecise  UA-B-001* UA-A-001 UA-C-001                                      6.2s\n",
		"z-mutant  SURVIVED           -                                                                4.0s\n",
		"  z-mutant: breaks UA-C-001\n  z-mutant: reports in /tmp/z\n",
		"2 mutants: the hand-written specs kill 1 (0 precise), 0 elsewhere, 1 survive, 0 errors; 0/0 blind ones; faithful reference: passed; wall time 60.0s\n",
		"mutation: FAILED\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	runs[2] = run{exit: 1, summary: summaryOf(all, 2, 3, 0)}
	out.Reset()
	if !writeTable(&out, targets, runs, nil, time.Minute, nil, gates{}) || !strings.Contains(out.String(), "mutation: every mutant killed") {
		t.Fatalf("every mutant killed and the faithful reference passing must pass:\n%s", out.String())
	}
	runs[0] = run{exit: 1, summary: summaryOf(all, 2, 3, 0)}
	out.Reset()
	if writeTable(&out, targets, runs, nil, time.Minute, nil, gates{}) {
		t.Fatalf("a failing faithful reference must fail the table:\n%s", out.String())
	}
}

// With the exploration column: a blind mutant the specs miss passes when
// the exploration kills it; the exploration's share of kills and of short
// counterexamples decide a gated table; a disagreement on the faithful
// reference fails it; a rate-limit defect is out of its scope.
func TestTableWithExploration(t *testing.T) {
	targets := []target{
		{name: "faithful"},
		{name: "listed", mutant: "listed", breaks: []string{"UA-B-001"}},
		{name: "blind", mutant: "blind", breaks: []string{"UA-C-001"}, blind: true},
		{name: "throttle", mutant: "throttle", breaks: []string{"UA-RATE-001"}},
	}
	pass := run{exit: 0, summary: summaryOf(nil, 5, 0, 0), elapsed: time.Second}
	specs := []run{pass, {exit: 1, summary: summaryOf(map[string]string{"UA-B-001": "FAIL"}, 4, 1, 0)}, pass, {exit: 1, summary: summaryOf(map[string]string{"UA-RATE-001": "FAIL"}, 4, 1, 0)}}
	agree := &run{exit: 0, elapsed: 30 * time.Second}
	short := &run{exit: 1, summary: summaryOf(map[string]string{"UA-B-001": "FAIL"}, 0, 1, 0), shrunk: 3, elapsed: 4 * time.Second}
	history := &run{exit: 1, summary: summaryOf(map[string]string{"UA-C-001": "FAIL"}, 0, 1, 0), history: true, elapsed: 20 * time.Second}
	var out bytes.Buffer
	if !writeTable(&out, targets, specs, []*run{agree, short, history, nil}, time.Minute, nil, gates{coverage: true, exploration: true}) {
		t.Fatalf("every mutant killed by one or the other must pass:\n%s", out.String())
	}
	for _, want := range []string{
		"faithful passed - 1.0s agreed 30.0s\n",
		"listed killed UA-B-001* 0.0s killed 4.0s: 3 requests UA-B-001*\n",
		"blind SURVIVED - 1.0s killed 20.0s: a history not linearizable UA-C-001*\n",
		"throttle killed UA-RATE-001* 0.0s out of scope\n",
		"the hand-written specs kill 2 (2 precise), 0 elsewhere, 1 survive, 0 errors; 0/1 blind ones",
		"exploration alone kills 2/2 in-scope mutants explored (100.0%; at least 90% required), 1/1 blind ones; 1/1 counterexamples shrink to 5 requests or fewer (100.0%; at least 80% required)",
		"mutation: every mutant killed (blind ones by the specs or the exploration)",
	} {
		if !strings.Contains(oneSpaced(out.String()), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}

	long := &run{exit: 1, summary: summaryOf(map[string]string{"UA-B-001": "FAIL"}, 0, 1, 0), shrunk: 9}
	out.Reset()
	if writeTable(&out, targets, specs, []*run{agree, long, history, nil}, time.Minute, nil, gates{coverage: true, exploration: true}) || !strings.Contains(out.String(), "the exploration alone missed its targets") {
		t.Fatalf("a long counterexample of one in one must fail a gated table:\n%s", out.String())
	}
	out.Reset()
	if !writeTable(&out, targets, specs, []*run{agree, long, history, nil}, time.Minute, nil, gates{}) {
		t.Fatalf("a run over some mutants reports the exploration's targets without failing on them:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "(not enforced: the run explored some mutants only)") {
		t.Errorf("the exploration's targets not enforced, silently:\n%s", out.String())
	}
	out.Reset()
	if writeTable(&out, targets, specs, []*run{agree, short, {exit: 0, dir: "/tmp/b"}, nil}, time.Minute, nil, gates{}) {
		t.Fatalf("a blind mutant neither kills must fail:\n%s", out.String())
	}
	out.Reset()
	if writeTable(&out, targets, specs, []*run{{exit: 1, dir: "/tmp/f"}, short, history, nil}, time.Minute, nil, gates{}) ||
		!strings.Contains(out.String(), "faithful: exploration reports in /tmp/f") {
		t.Fatalf("a disagreement on the faithful reference must fail:\n%s", out.String())
	}
}

// runner explore's report gives the counterexample's length, in each of
// the places a disagreement can be found.
func TestReadExploration(t *testing.T) {
	for text, want := range map[string]run{
		"    first: DISAGREEMENT with the documents' model: UA-PUT-003\n  the target answered 200\n\nDISAGREEMENT with the documents' model: UA-PUT-003\n  - x\n  the minimal sequence (2 generated requests, after 3 that emptied the listed users):\n  setup 1. GET capacity\n  1. PUT a\n  2. GET a\n  the target answered 200 {}\n  the documents allow:\n    - 1. x\n": {shrunk: 2},
		"\nDISAGREEMENT with the documents' model: UA-DEL-001\n  while emptying the listed users before a sequence:\n  1. DELETE a\n  the target answered 500\n":                                                                                                                                                                                                            {shrunk: 1},
		"histories: 3\n\nNOT LINEARIZABLE: a history of alice\n":      {history: true},
		"the target agreed with the model on every answer (seed 1)\n": {},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "output.txt"), []byte(text), 0o644)
		r := run{dir: dir}
		readExploration(&r)
		if r.shrunk != want.shrunk || r.history != want.history {
			t.Errorf("%q: shrunk %d history %v, want %d %v", text, r.shrunk, r.history, want.shrunk, want.history)
		}
	}
}

func TestIDListIsBounded(t *testing.T) {
	var ids []string
	for i := range 9 {
		ids = append(ids, fmt.Sprintf("UA-X-%03d", i))
	}
	got := idList(target{breaks: []string{"UA-X-000"}}, ids)
	if got != "UA-X-000* UA-X-001 UA-X-002 UA-X-003 UA-X-004 UA-X-005 (+3)" {
		t.Fatalf("idList: %q", got)
	}
}

func TestSoak(t *testing.T) {
	targets := []target{{name: "faithful"}, {name: "m", mutant: "m", breaks: []string{"UA-B-001"}}}
	pass := run{exit: 0, summary: summaryOf(nil, 5, 0, 0), elapsed: time.Second}
	kill := run{exit: 1, summary: summaryOf(map[string]string{"UA-B-001": "FAIL"}, 4, 1, 0), elapsed: 3 * time.Second}
	var out bytes.Buffer
	if !writeSoak(&out, targets, [][]run{{pass, pass, pass}, {kill, kill, kill}}, time.Minute) {
		t.Fatalf("all as expected must pass:\n%s", out.String())
	}
	for _, want := range []string{"faithful  passed  3/3   1.0s / 1.0s / 1.0s", "m         killed  3/3   3.0s / 3.0s / 3.0s", "soak: every run as expected"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("soak lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if writeSoak(&out, targets, [][]run{{pass, pass, pass}, {kill, pass, kill}}, time.Minute) {
		t.Fatal("one survival in three must fail the soak")
	}
	for _, want := range []string{"m         FAILED (killed in 2)  2/3", "  m run 2: SURVIVED (breaks UA-B-001)", "soak: FAILED"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("soak lacks %q:\n%s", want, out.String())
		}
	}
}

func TestPlan(t *testing.T) {
	targets, err := plan("capacity-open-to-users,batch-cap-101,batch-cap-101", "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tg := range targets {
		names = append(names, tg.name+"|"+tg.profile)
	}
	if got := strings.Join(names, " "); got != "faithful| faithful --profile current|current capacity-open-to-users|current batch-cap-101|" {
		t.Fatalf("plan: %s", got)
	}
	// One faithful run per (profile, fixture) pair that a mutant uses.
	targets, err = plan("get-leaks-last-write,put-echoes-old-value,no-body-limit,batch-cap-101", "")
	if err != nil {
		t.Fatal(err)
	}
	names = nil
	for _, tg := range targets {
		names = append(names, tg.name+"|"+tg.fixture)
	}
	if got := strings.Join(names, " "); got != "faithful| faithful --fixture fixtures/variants/minimal.yaml|fixtures/variants/minimal.yaml faithful --fixture fixtures/variants/pairs-json.yaml|fixtures/variants/pairs-json.yaml get-leaks-last-write|fixtures/variants/minimal.yaml put-echoes-old-value|fixtures/variants/minimal.yaml no-body-limit|fixtures/variants/pairs-json.yaml batch-cap-101|" {
		t.Fatalf("plan: %s", got)
	}
	if got := faithfulUnder("legacy", "f.yaml").name; got != "faithful --profile legacy --fixture f.yaml" {
		t.Errorf("faithfulUnder: %q", got)
	}
	if _, err := plan("no-such-mutant", ""); err == nil {
		t.Fatal("an unknown mutant must be refused")
	}
	// none: the faithful reference alone, under the fixture every run serves.
	targets, err = plan("none", "f.yaml")
	if err != nil || len(targets) != 1 || targets[0].name != "faithful --fixture f.yaml" || targets[0].fixture != "f.yaml" {
		t.Fatalf("plan none: %v %v", targets, err)
	}
	all, _ := plan("", "")
	if len(all) < 26 {
		t.Fatalf("the default plan has %d targets: the faithful reference and every mutant", len(all))
	}
}

// The command runs the runner per target with a worker pool and a time
// limit, reads the reports, prints the table and exits 1 on a survivor,
// a timeout or a missing report.
func TestCommandWithFakeRunner(t *testing.T) {
	t.Setenv(fakeEnv, "1")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := mainCode([]string{"-runner", self, "-work", t.TempDir(), "-timeout", "3s",
		"-mutants", "batch-cap-101,leaky-conflict,batch-cap-99,no-version-check,user-limit-plus-one,get-leaks-last-write"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{
		"faithful passed",
		"faithful --fixture fixtures/variants/minimal.yaml passed",
		"batch-cap-101 killed UA-BATCH-006*",
		"leaky-conflict killed elsewhere UA-GEN-001",
		"batch-cap-99 SURVIVED",
		"no-version-check ERROR",
		"no-version-check: timed out",
		"user-limit-plus-one ERROR",
		"get-leaks-last-write SURVIVED",
		"6 mutants: the hand-written specs kill 1 (1 precise), 1 elsewhere, 2 survive, 2 errors; 0/0 blind ones; faithful reference: passed, passed",
		"requirement coverage: 1/",
		"(not enforced: the run was limited to some mutants or specs)",
	} {
		if !strings.Contains(oneSpaced(stdout.String()), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	if !strings.Contains(stderr.String(), "[8/8]") {
		t.Errorf("no progress lines:\n%s", stderr.String())
	}

	stdout.Reset()
	code = mainCode([]string{"-runner", self, "-work", t.TempDir(), "-explore", "2s", "-seed", "7", "-mutants", "batch-cap-101,batch-cap-99,rate-limit-half"}, &stdout, &stderr)
	for _, want := range []string{
		"s agreed ",
		"s: 2 requests UA-BATCH-006*\n",
		"s out of scope\n",
		"exploration alone kills 1/2 in-scope mutants explored",
	} {
		if !strings.Contains(oneSpaced(stdout.String()), want) {
			t.Errorf("with -explore, output lacks %q:\n%s", want, stdout.String())
		}
	}
	if code != 1 {
		t.Errorf("survivors of the specs: exit %d, want 1", code)
	}

	// -explore-blind: the faithful reference and the blind mutants only.
	stdout.Reset()
	code = mainCode([]string{"-runner", self, "-work", t.TempDir(), "-explore", "2s", "-seed", "7", "-explore-blind", "-mutants", "batch-cap-101,form-split-last-equals"}, &stdout, &stderr)
	if !regexp.MustCompile(`(?m)^batch-cap-101 .* -$`).MatchString(stdout.String()) {
		t.Errorf("with -explore-blind, batch-cap-101 (not blind) explored:\n%s", stdout.String())
	}
	// The blind mutant's specs are not run: the exploration judges it.
	for _, want := range []string{"s agreed ", "form-split-last-equals - - ", "s SURVIVED ", "1 blind ones not run (judged by the exploration)", "0/1 in-scope mutants explored"} {
		if !strings.Contains(oneSpaced(stdout.String()), want) {
			t.Errorf("with -explore-blind, output lacks %q:\n%s", want, stdout.String())
		}
	}
	if code != 1 {
		t.Errorf("a blind mutant neither kills: exit %d, want 1", code)
	}

	stdout.Reset()
	code = mainCode([]string{"-runner", self, "-work", t.TempDir(), "-soak", "3", "-mutants", "batch-cap-101"}, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "batch-cap-101  killed  3/3") || !strings.Contains(stdout.String(), "faithful       passed  3/3") {
		t.Fatalf("soak: exit %d\n%s", code, stdout.String())
	}
}

// oneSpaced collapses runs of spaces, so that a check does not depend on
// the widths of the table's columns.
func oneSpaced(s string) string {
	return regexp.MustCompile(` {2,}`).ReplaceAllString(s, " ")
}
