package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The exploration column: `runner explore` alone against each mutant,
// without a hand-written spec, within -explore. It measures what the
// documents' model finds in generated traffic: the share of the in-scope
// mutants it kills, and how short its shrunk counterexamples are.

// Targets the exploration is held to, in the measures of writeTable.
const (
	minExploreKills = 0.90 // of the in-scope mutants
	maxShrunk       = 5    // requests of a short counterexample
	minShort        = 0.80 // of the shrunk counterexamples
)

// inScope says whether the exploration is held to killing t: a defect of
// the rate limit (one that breaks a UA-RATE requirement) is not, because
// the exploration lifts the limits to explore the rest (the rate-limit
// specs judge them).
func (t target) inScope() bool {
	return !slices.ContainsFunc(t.breaks, func(id string) bool { return strings.HasPrefix(id, "UA-RATE-") })
}

// racing: the defect shows only under concurrent writes, so its
// exploration is mostly concurrent histories.
func (t target) racing() bool {
	return slices.ContainsFunc(t.breaks, func(id string) bool { return strings.HasPrefix(id, "UA-CONC-") })
}

// historyRaceWindow is the reference's pause between reading and
// committing a PUT in the runs with histories: long enough that writes of
// a few clients overlap.
const historyRaceWindow = "5ms"

// exploreArgs are the runner explore flags of one job, its time shared
// out within o.explore: the sequential exploration and its shrinking,
// and, for the faithful reference and a racing defect, the concurrent
// histories.
func exploreArgs(o options, j job) []string {
	e := o.explore
	args := []string{"explore", "--reference", "inprocess", "--report-dir", j.dir, "--seed", fmt.Sprint(o.seed)}
	args = append(args, targetArgs(o, j.t)...)
	switch {
	case j.t.faithful():
		args = append(args, "--time", dur(e/2), "--shrink-time", dur(e/4), "--clients", "4", "--race-window", historyRaceWindow, "--history-time", dur(e/4))
	case j.t.racing():
		args = append(args, "--time", dur(e/8), "--shrink-time", dur(e/8), "--clients", "4", "--race-window", historyRaceWindow, "--history-time", dur(e/2))
	default:
		args = append(args, "--time", dur(e/2), "--shrink-time", dur(e/2))
	}
	return args
}

func dur(d time.Duration) string { return d.Round(time.Millisecond).String() }

// A counterexample's numbered requests in runner explore's report, and the
// mark of a history that is not linearizable.
var (
	numbered      = regexp.MustCompile(`(?m)^  \d+\. `)
	notLinearized = "NOT LINEARIZABLE"
)

// readExploration adds to r what runner explore printed of its
// disagreement: the requests of the shrunk counterexample, or that a
// history was not linearizable.
func readExploration(r *run) {
	out, err := os.ReadFile(filepath.Join(r.dir, "output.txt"))
	if err != nil {
		return
	}
	text := string(out)
	if strings.Contains(text, notLinearized) {
		r.history = true
	}
	// The report's own block, after the summary's lines that quote it.
	if at := strings.LastIndex(text, "\nDISAGREEMENT with the documents' model"); at >= 0 {
		block, _, _ := strings.Cut(text[at:], "\n  the target answered")
		r.shrunk = len(numbered.FindAllString(block, -1))
	}
}

// Exploration results.
const (
	agreed    = "agreed"    // the faithful reference: no disagreement, every history linearizable
	disagreed = "DISAGREED" // the faithful reference: a false alarm
	outside   = "out of scope"
	notRun    = "-"
)

// explored judges one exploration: for a mutant, killed when runner
// explore found a disagreement or a history that is not linearizable.
func explored(t target, r *run) outcome {
	switch {
	case r == nil:
		if !t.inScope() {
			return outcome{result: outside}
		}
		return outcome{result: notRun}
	case r.timedOut:
		return outcome{result: broken, note: "exploration timed out"}
	case r.exit == 0 && t.faithful():
		return outcome{result: agreed, ok: true}
	case r.exit == 0:
		return outcome{result: survived}
	case r.exit == 1 && t.faithful():
		return outcome{result: disagreed, note: "the exploration disagreed with the faithful reference"}
	case r.exit == 1:
		o := outcome{result: killed, ok: true}
		if r.summary != nil {
			o.failed = r.summary.failed()
		}
		return o
	}
	return outcome{result: broken, note: "exploration: " + errorNote(*r)}
}

// exploreCell is the exploration column of a row.
func exploreCell(t target, r *run) string {
	o := explored(t, r)
	if r == nil {
		return o.result
	}
	cell := fmt.Sprintf("%s %s", o.result, seconds(r.elapsed))
	switch {
	case o.result != killed:
	case r.history:
		cell += ": a history not linearizable"
	case r.shrunk > 0:
		cell += fmt.Sprintf(": %d requests", r.shrunk)
	}
	if len(o.failed) > 0 {
		cell += " " + idList(t, o.failed)
	}
	return cell
}

// exploreMeasures are the exploration's numbers over the mutants
// explored.
type exploreMeasures struct {
	inScope, killed  int
	shrunk, short    int // counterexamples shrunk, and of at most maxShrunk requests
	blind, blindKill int
}

func measure(targets []target, explorations []*run) exploreMeasures {
	var m exploreMeasures
	for i, t := range targets {
		if t.faithful() || !t.inScope() || explorations[i] == nil {
			continue
		}
		m.inScope++
		o := explored(t, explorations[i])
		if t.blind {
			m.blind++
		}
		if o.result != killed {
			continue
		}
		m.killed++
		if t.blind {
			m.blindKill++
		}
		if r := explorations[i]; !r.history && r.shrunk > 0 {
			m.shrunk++
			if r.shrunk <= maxShrunk {
				m.short++
			}
		}
	}
	return m
}

func percent(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
}

// ok says whether the exploration met its targets.
func (m exploreMeasures) ok() bool {
	return float64(m.killed) >= minExploreKills*float64(m.inScope) && float64(m.short) >= minShort*float64(m.shrunk)
}

func (m exploreMeasures) String() string {
	return fmt.Sprintf("exploration alone kills %d/%d in-scope mutants explored (%s; at least %.0f%% required), %d/%d blind ones; %d/%d counterexamples shrink to %d requests or fewer (%s; at least %.0f%% required)",
		m.killed, m.inScope, percent(m.killed, m.inScope), 100*minExploreKills, m.blindKill, m.blind,
		m.short, m.shrunk, maxShrunk, percent(m.short, m.shrunk), 100*minShort)
}
