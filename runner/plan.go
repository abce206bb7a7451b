package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/internal/bundled"
	"github.com/attrconform/attrconform/report"
	"github.com/attrconform/attrconform/target"
)

// dryRun prints the plan of a run and sends nothing to the target: the
// selected specs run against a local reference that serves the target's
// tenant, and what they sent there is the plan.
func dryRun(t *target.Target, o options) int {
	live := t.BaseURL
	if live == "" {
		live = "the bundled reference"
	}
	sim := *t
	srv, err := bundled.Start(&sim, bundled.Options{})
	if err != nil {
		return usageError("dry run: simulating the target's tenant: %v", err)
	}
	defer srv.Close()
	sim.BaseURL = srv.URL
	// The nodes of a deployment are simulated by the same local reference:
	// the plan spreads over them as the run would, and nothing leaves.
	sim.Nodes = nil
	for range t.Nodes {
		sim.Nodes = append(sim.Nodes, srv.URL)
	}
	env, err := framework.NewEnv(&sim)
	if err != nil {
		return usageError("%v", err)
	}
	o.reportDir = ""
	summary, err := runSpecs(env, o, io.Discard, false, o.timeout)
	if err != nil {
		return usageError("%v", err)
	}
	printPlan(stdout, live, env, summary)
	return 0
}

func printPlan(w io.Writer, live string, env *framework.Env, s report.Summary) {
	fmt.Fprintf(w, "Dry run for %s (profile %s): nothing was sent to it.\n", live, s.Profile)
	fmt.Fprintln(w, "The plan below was measured against a local reference serving the target's tenant.")
	var run []string
	disabled := map[string]int{}
	for _, sp := range s.Specs {
		if sp.Verdict == report.Disabled {
			disabled[sp.Reason]++
			continue
		}
		run = append(run, sp.Name)
	}
	fmt.Fprintf(w, "\nSpecs selected: %d\n", len(run))
	for _, n := range run {
		fmt.Fprintf(w, "  %s\n", n)
	}
	for _, reason := range sortedKeys(disabled) {
		fmt.Fprintf(w, "Specs disabled: %d (%s)\n", disabled[reason], reason)
	}
	fmt.Fprintln(w, "\nRequests per operation:")
	total := 0
	seen := env.Coverage.Seen()
	for _, op := range sortedKeys(seen) {
		n := 0
		for _, c := range seen[op] {
			n += c
		}
		total += n
		fmt.Fprintf(w, "  %-24s %5d\n", op, n)
	}
	fmt.Fprintf(w, "  %-24s %5d (at most %.0f requests/s per app and operation)\n", "total", total, env.Target.Budget())
	listed, generated := env.Touched()
	fmt.Fprintln(w, "\nUsers touched (* written to, the others only read):")
	for _, app := range sortedKeys(listed) {
		fmt.Fprintf(w, "  app %s: %s\n", app, strings.Join(listed[app], ", "))
	}
	fmt.Fprintf(w, "  plus %d generated usernames that no account can have\n", generated)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
