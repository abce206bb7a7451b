package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/attrconform/attrconform/internal/bundled"
	"github.com/attrconform/attrconform/internal/mutant"
	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/target"
)

// server is a bundled reference to run the SDK program against: a mutant
// (none for the faithful reference), the tenant it serves and the
// profile it is judged by.
type server struct {
	mutant, fixture, profile string
}

func (s server) String() string {
	name := s.mutant
	if name == "" {
		name = "faithful"
		if s.fixture != "" {
			name += "," + strings.TrimSuffix(filepath.Base(s.fixture), ".yaml")
		}
		if s.profile != "" {
			name += "," + s.profile
		}
	}
	return name
}

// servers are the faithful reference, under every tenant and profile a
// mutant is judged with, and the registry's mutants a single server shows
// outside rate limiting (which a client's few requests cannot reach).
func servers() []server {
	out := []server{{}}
	for _, n := range mutant.Names() {
		m, _ := mutant.Lookup(n)
		if slices.ContainsFunc(m.Breaks, func(id string) bool { return strings.HasPrefix(id, "UA-RATE-") }) {
			continue
		}
		out = append(out, server{n, m.Fixture, m.Profile})
		for _, f := range []server{{fixture: m.Fixture}, {profile: m.Profile}} {
			if f != (server{}) && !slices.Contains(out, f) {
				out = slices.Insert(out, 1, f)
			}
		}
	}
	return out
}

// start starts the server in this process (the bundled tenant unless it
// names another) and writes its target file.
func (s server) start(t *testing.T) (*target.Target, string) {
	t.Helper()
	var o bundled.Options
	if s.mutant != "" {
		var err error
		if o.Defect, err = mutant.Defect(s.mutant); err != nil {
			t.Fatal(err)
		}
	}
	tg, err := reference.BundledTarget()
	if s.fixture != "" {
		tg, err = target.Load(filepath.Join("..", s.fixture))
	}
	if err != nil {
		t.Fatal(err)
	}
	if s.profile != "" {
		tg.Profile = s.profile // the reference serves the profile's alternatives
	}
	srv, err := bundled.Start(tg, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	tg.BaseURL = srv.URL
	return tg, targetFile(t, tg)
}

// sdkRun is the SDK program's run through the proxy against one server.
type sdkRun struct {
	failed []string // the program's failed test cases
	// flagged are the requirements the proxy's violation lines name;
	// byState those it found by state.
	flagged, byState []string
	exit             int
	out              string
}

// runSDK runs the SDK program through `runner proxy --exclusive` (the
// program is the only client) in front of s.
func runSDK(t *testing.T, s server) sdkRun {
	tg, file := s.start(t)
	r := startRunner(t, "proxy", "--target", file, "--exclusive")
	url := r.waitFor("http://127.0.0.1:")
	run := sdkRun{failed: sdkProgram(url, tg)}
	r.cmd.Process.Signal(os.Interrupt)
	run.exit, run.out = r.exit(), r.out()
	for _, l := range strings.Split(run.out, "\n") {
		rest, ok := strings.CutPrefix(l, "VIOLATION  ")
		if !ok {
			continue
		}
		id, _, _ := strings.Cut(rest, " ")
		if !slices.Contains(run.flagged, id) {
			run.flagged = append(run.flagged, id)
		}
		if strings.Contains(rest, ": "+"by state (") && !slices.Contains(run.byState, id) {
			run.byState = append(run.byState, id)
		}
	}
	return run
}

// The Done-when of the proxy's judging by state: an SDK's test program
// (sdkProgram) run through `runner proxy` against every mutant of the
// registry that one server shows, outside rate limiting, is flagged
// whenever the program itself fails; against the faithful reference,
// under every tenant and profile the mutants are judged with, the program
// passes and the proxy finds nothing.
func TestProxyFlagsWhatAnSDKProgramCatches(t *testing.T) {
	t.Parallel()
	all := servers()
	runs := make([]sdkRun, len(all))
	t.Run("servers", func(t *testing.T) {
		for i, s := range all {
			t.Run(s.String(), func(t *testing.T) {
				t.Parallel()
				run := runSDK(t, s)
				runs[i] = run
				switch {
				case s.mutant == "" && (len(run.failed) > 0 || run.exit != 0 || len(run.flagged) > 0):
					t.Errorf("the faithful reference: the program failed %q; the proxy exited %d, want 0 and no violation\n%s", run.failed, run.exit, run.out)
				case len(run.failed) > 0 && (run.exit != 1 || len(run.flagged) == 0):
					t.Errorf("the SDK program failed (%s) and the proxy flagged nothing: exit %d\n%s", strings.Join(run.failed, "; "), run.exit, run.out)
				}
			})
		}
	})
	var table strings.Builder
	mutants, fails, flags, missed, beyond := 0, 0, 0, 0, 0
	fmt.Fprintf(&table, "%-28s %-8s %-6s %s\n", "server", "program", "proxy", "requirements flagged (of which by state)")
	for i, s := range all {
		run := runs[i]
		prog, prox := "passes", "-"
		if len(run.failed) > 0 {
			prog = "FAILS"
		}
		if len(run.flagged) > 0 {
			prox = "FLAGS"
		}
		if s.mutant != "" {
			mutants++
			fails += min(len(run.failed), 1)
			flags += min(len(run.flagged), 1)
			if len(run.failed) > 0 && len(run.flagged) == 0 {
				missed++
			}
			if len(run.failed) == 0 && len(run.flagged) > 0 {
				beyond++
			}
		}
		fmt.Fprintf(&table, "%-28s %-8s %-6s %s (%s)\n", s, prog, prox, strings.Join(run.flagged, " "), strings.Join(run.byState, " "))
	}
	fmt.Fprintf(&table, "%d mutants: the program fails on %d, the proxy flags %d; program failures the proxy missed: %d; flagged where the program passes: %d\n",
		mutants, fails, flags, missed, beyond)
	t.Log("\n" + table.String())
}
