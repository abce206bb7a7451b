package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/attrconform/attrconform/catalog"
)

// target is what one run judges: the faithful reference, or the reference
// with one mutant; profile is the runner's --profile ("" keeps the
// target's own) and fixture its --fixture ("" the bundled tenant).
type target struct {
	name    string
	mutant  string   // empty for the faithful reference
	breaks  []string // the requirement IDs the mutant breaks
	also    []string // requirements whose specs may see the defect too
	profile string
	fixture string
	blind   bool // written before any spec ran against it (mutant.Blind)
}

func (t target) faithful() bool { return t.mutant == "" }

// summary is the part of the runner's requirements.json this command
// reads (report.Summary).
type summary struct {
	SetupFailure   string `json:"setupFailure"`
	CleanupFailure string `json:"cleanupFailure"`
	Requirements   []struct {
		ID      string `json:"id"`
		Verdict string `json:"verdict"`
	} `json:"requirements"`
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Errored int `json:"errored"`
}

func readSummary(path string) (*summary, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// failed lists the requirement IDs whose verdict is FAIL.
func (s *summary) failed() []string {
	var out []string
	for _, r := range s.Requirements {
		if r.Verdict == "FAIL" {
			out = append(out, r.ID)
		}
	}
	return out
}

// run is what one runner process did.
type run struct {
	notRun   bool // not asked for (the specs of a blind mutant, with -explore-blind)
	exit     int  // the runner's exit status; -1 when it did not exit by itself
	timedOut bool
	err      error    // it could not run, or wrote no readable requirements.json
	summary  *summary // nil with err
	elapsed  time.Duration
	dir      string // its report directory
	// Of runner explore (readExploration): the requests of its shrunk
	// counterexample, or that a history was not linearizable.
	shrunk  int
	history bool
}

// Results of a run.
const (
	passed    = "passed"            // the faithful reference passed every selected spec
	failing   = "FAILED"            // the faithful reference failed a spec
	killed    = "killed"            // a spec of a requirement the mutant breaks failed, and none outside its Breaks and Also
	imprecise = "killed, imprecise" // killed, but requirements outside its Breaks and Also failed too
	offPoint  = "killed elsewhere"  // specs failed, but none of a requirement the mutant breaks
	survived  = "SURVIVED"          // no spec failed
	broken    = "ERROR"             // no verdicts: timeout, crash, no report
)

// outcome is the judgement of one run.
type outcome struct {
	result string
	ok     bool
	failed []string // FAIL requirements, those the mutant breaks first
	note   string
	// precise: a killed mutant failed no requirement outside its Breaks
	// and Also; outside lists those it did fail.
	precise bool
	outside []string
}

// judge decides whether a run proves what it should: the faithful
// reference passes; a mutant fails a spec of a requirement it breaks.
func judge(t target, r run) outcome {
	switch {
	case r.notRun:
		return outcome{result: notRun}
	case r.timedOut:
		return outcome{result: broken, note: "timed out"}
	case r.err != nil || r.summary == nil:
		msg := "no requirements.json"
		if r.err != nil {
			msg = r.err.Error()
		}
		return outcome{result: broken, note: fmt.Sprintf("exit %d: %s", r.exit, msg)}
	}
	s := r.summary
	failed := s.failed()
	var hits, others []string
	for _, id := range failed {
		if slices.Contains(t.breaks, id) {
			hits = append(hits, id)
		} else {
			others = append(others, id)
		}
	}
	o := outcome{failed: append(hits, others...)}
	if t.faithful() {
		switch {
		case r.exit == 0 && len(failed) == 0 && s.Failed == 0 && s.Errored == 0 && s.SetupFailure == "" && s.CleanupFailure == "" && s.Passed > 0:
			o.result, o.ok = passed, true
		case len(failed) > 0 || s.Failed > 0:
			o.result = failing
		default:
			o.result, o.note = broken, errorNote(r)
		}
		return o
	}
	switch {
	case len(hits) > 0:
		o.result, o.ok = killed, true
		for _, id := range others {
			if !slices.Contains(t.also, id) {
				o.outside = append(o.outside, id)
			}
		}
		o.precise = len(o.outside) == 0
		if !o.precise {
			o.result = imprecise
		}
		if r.exit != 1 {
			o.note = errorNote(r)
		}
	case len(failed) > 0:
		o.result, o.note = offPoint, "breaks "+strings.Join(t.breaks, ", ")
	case r.exit == 0:
		o.result, o.note = survived, "breaks "+strings.Join(t.breaks, ", ")
	default:
		o.result, o.note = broken, errorNote(r)
	}
	return o
}

func errorNote(r run) string {
	var parts []string
	if r.exit != 0 {
		parts = append(parts, fmt.Sprintf("exit %d", r.exit))
	}
	if r.summary != nil {
		if r.summary.Errored > 0 {
			parts = append(parts, fmt.Sprintf("%d specs errored", r.summary.Errored))
		}
		if r.summary.SetupFailure != "" {
			parts = append(parts, "setup failed: "+firstLine(r.summary.SetupFailure))
		}
		if r.summary.CleanupFailure != "" {
			parts = append(parts, "cleanup failed: "+firstLine(r.summary.CleanupFailure))
		}
	}
	return strings.Join(parts, "; ")
}

// firstLine is the first line of s, cut to 160 bytes.
func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if len(line) > 160 {
		line = line[:160] + "…"
	}
	return line
}

// maxIDs bounds the IDs a table row lists.
const maxIDs = 6

// idList shows the failed IDs, marking with * those the mutant breaks and
// with + those in its Also.
func idList(t target, ids []string) string {
	if len(ids) == 0 {
		return "-"
	}
	shown := make([]string, 0, maxIDs)
	for i, id := range ids {
		if i == maxIDs {
			shown = append(shown, fmt.Sprintf("(+%d)", len(ids)-maxIDs))
			break
		}
		switch {
		case slices.Contains(t.breaks, id):
			id += "*"
		case slices.Contains(t.also, id):
			id += "+"
		}
		shown = append(shown, id)
	}
	return strings.Join(shown, " ")
}

// gates are the measures a run over every mutant decides: the requirement
// coverage (every spec ran) and the exploration's shares (every in-scope
// mutant was explored).
type gates struct{ coverage, exploration bool }

// writeTable prints one row per target, the closing lines and the
// requirement coverage; explorations[i], when not nil, is runner explore's
// run against targets[i]. It reports whether every target proved what it
// should and, as far as gate says, whether the exploration met its
// targets and every testable MUST/SHOULD requirement of reqs is covered.
func writeTable(w io.Writer, targets []target, runs []run, explorations []*run, wall time.Duration, reqs []catalog.Requirement, gate gates) bool {
	withExplore := slices.ContainsFunc(explorations, func(r *run) bool { return r != nil })
	header := []string{"MUTANT", "SPECS", "FAILED REQUIREMENTS (* = broken by the mutant, + = in its Also)", "TIME"}
	if withExplore {
		header = append(header, "EXPLORATION ALONE")
	}
	rows := [][]string{header}
	var notes []string
	counts := map[string]int{}
	blindBySpecs, blind := 0, 0
	allOK := true
	for i, t := range targets {
		o := judge(t, runs[i])
		row := []string{t.name, o.result, idList(t, o.failed), seconds(runs[i].elapsed)}
		ok := o.ok
		if withExplore {
			e := explored(t, explorations[i])
			row = append(row, exploreCell(t, explorations[i]))
			switch {
			case t.faithful():
				ok = ok && e.ok
			case t.blind:
				ok = (o.ok || e.ok) && e.result != broken
			default:
				ok = ok && e.result != broken
			}
			if e.note != "" {
				notes = append(notes, fmt.Sprintf("%s: %s", t.name, e.note))
			}
			if r := explorations[i]; r != nil && (e.result == disagreed || e.result == broken) && r.dir != "" {
				notes = append(notes, fmt.Sprintf("%s: exploration reports in %s", t.name, r.dir))
			}
		}
		allOK = allOK && ok
		if !t.faithful() {
			counts[o.result]++
		}
		if t.blind && !runs[i].notRun {
			blind++
			if o.ok {
				blindBySpecs++
			}
		}
		rows = append(rows, row)
		if o.note != "" {
			notes = append(notes, fmt.Sprintf("%s: %s", t.name, o.note))
		}
		if len(o.outside) > 0 {
			notes = append(notes, fmt.Sprintf("%s: also failed %s, outside its Breaks and Also", t.name, strings.Join(o.outside, ", ")))
		}
		if !o.ok && runs[i].dir != "" && (!t.blind || !ok) {
			notes = append(notes, fmt.Sprintf("%s: reports in %s", t.name, runs[i].dir))
		}
	}
	writeColumns(w, rows)
	for _, n := range notes {
		fmt.Fprintln(w, "  "+n)
	}
	mutants := 0
	var faithful []string
	for i, t := range targets {
		if t.faithful() {
			faithful = append(faithful, judge(t, runs[i]).result)
		} else {
			mutants++
		}
	}
	blindSpecs := fmt.Sprintf("%d/%d blind ones", blindBySpecs, blind)
	if blind == 0 && counts[notRun] > 0 {
		blindSpecs = fmt.Sprintf("%d blind ones not run (judged by the exploration)", counts[notRun])
	}
	fmt.Fprintf(w, "%d mutants: the hand-written specs kill %d (%d precise), %d elsewhere, %d survive, %d errors; %s; faithful reference: %s; wall time %s\n",
		mutants, counts[killed]+counts[imprecise], counts[killed], counts[offPoint], counts[survived], counts[broken], blindSpecs, strings.Join(faithful, ", "), seconds(wall))
	explorationOK := true
	if withExplore {
		m := measure(targets, explorations)
		fmt.Fprintln(w, m)
		explorationOK = m.ok() || !gate.exploration
		if !m.ok() && !gate.exploration {
			fmt.Fprintln(w, "  (not enforced: the run explored some mutants only)")
		}
	}
	covered := true
	if reqs != nil {
		covered = writeCoverage(w, coverage(reqs, targets, runs), gate.coverage)
	}
	switch {
	case !allOK:
		fmt.Fprintln(w, "mutation: FAILED")
	case !explorationOK:
		fmt.Fprintln(w, "mutation: FAILED: the exploration alone missed its targets")
	case !covered:
		fmt.Fprintln(w, "mutation: FAILED: a testable MUST/SHOULD requirement has no precise killing mutant")
	case withExplore:
		fmt.Fprintln(w, "mutation: every mutant killed (blind ones by the specs or the exploration); the faithful reference passes and agrees with the model")
	default:
		fmt.Fprintln(w, "mutation: every mutant killed by a spec of a requirement it breaks; the faithful reference passes")
	}
	return allOK && explorationOK && covered
}

// covered is the requirement coverage of a run: per group of levels, the
// testable requirements and those a precise killing mutant covers.
type covered struct {
	levels         string // "MUST/SHOULD" or "MAY/PROFILE"
	testable, done []string
}

func (c covered) missing() []string {
	var out []string
	for _, id := range c.testable {
		if !slices.Contains(c.done, id) {
			out = append(out, id)
		}
	}
	return out
}

// coverage finds, for every testable requirement, whether some mutant was
// killed precisely with that requirement both among its Breaks and among
// the requirements its run failed.
func coverage(reqs []catalog.Requirement, targets []target, runs []run) []covered {
	hit := map[string]bool{}
	for i, t := range targets {
		if t.faithful() {
			continue
		}
		if o := judge(t, runs[i]); o.ok && o.precise {
			for _, id := range o.failed {
				if slices.Contains(t.breaks, id) {
					hit[id] = true
				}
			}
		}
	}
	groups := []covered{{levels: "MUST/SHOULD"}, {levels: "MAY/PROFILE"}}
	for _, r := range reqs {
		if !r.Testable {
			continue
		}
		g := &groups[1]
		if r.Level == "MUST" || r.Level == "SHOULD" {
			g = &groups[0]
		}
		g.testable = append(g.testable, r.ID)
		if hit[r.ID] {
			g.done = append(g.done, r.ID)
		}
	}
	return groups
}

// writeCoverage prints the coverage lines: MUST/SHOULD decides (when gate
// is set), MAY/PROFILE is for information. It reports whether the run
// passes on coverage.
func writeCoverage(w io.Writer, groups []covered, gate bool) bool {
	ok := true
	for i, g := range groups {
		label := "requirement coverage"
		if i > 0 {
			label += " (informational)"
		}
		fmt.Fprintf(w, "%s: %d/%d testable %s IDs have a precise killing mutant\n", label, len(g.done), len(g.testable), g.levels)
		if miss := g.missing(); len(miss) > 0 {
			fmt.Fprintf(w, "  uncovered: %s\n", strings.Join(miss, ", "))
			if i == 0 {
				ok = !gate
				if !gate {
					fmt.Fprintln(w, "  (not enforced: the run was limited to some mutants or specs)")
				}
			}
		}
	}
	return ok
}

// writeSoak prints one result line per target for repeated runs
// (runs[t][i] is target t's i-th run); it reports whether every run of
// every target proved what it should.
func writeSoak(w io.Writer, targets []target, runs [][]run, wall time.Duration) bool {
	rows := [][]string{{"TARGET", "RESULT", "RUNS", "TIME (min / median / max)"}}
	var notes []string
	allOK := true
	for ti, t := range targets {
		good := 0
		var times []time.Duration
		for i, r := range runs[ti] {
			o := judge(t, r)
			times = append(times, r.elapsed)
			if o.ok {
				good++
				continue
			}
			note := fmt.Sprintf("%s run %d: %s", t.name, i+1, o.result)
			if len(o.failed) > 0 {
				note += " " + idList(t, o.failed)
			}
			if o.note != "" {
				note += " (" + o.note + ")"
			}
			if r.dir != "" {
				note += "; reports in " + r.dir
			}
			notes = append(notes, note)
		}
		want := killed
		if t.faithful() {
			want = passed
		}
		result := want
		if good != len(runs[ti]) {
			result, allOK = "FAILED ("+want+" in "+fmt.Sprint(good)+")", false
		}
		rows = append(rows, []string{t.name, result, fmt.Sprintf("%d/%d", good, len(runs[ti])), spread(times)})
	}
	writeColumns(w, rows)
	for _, n := range notes {
		fmt.Fprintln(w, "  "+n)
	}
	if allOK {
		fmt.Fprintf(w, "soak: every run as expected; wall time %s\n", seconds(wall))
	} else {
		fmt.Fprintf(w, "soak: FAILED; wall time %s\n", seconds(wall))
	}
	return allOK
}

func spread(ts []time.Duration) string {
	if len(ts) == 0 {
		return "-"
	}
	s := slices.Clone(ts)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return fmt.Sprintf("%s / %s / %s", seconds(s[0]), seconds(s[len(s)/2]), seconds(s[len(s)-1]))
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

func writeColumns(w io.Writer, rows [][]string) {
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			width[i] = max(width[i], len(cell))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, cell := range row {
			if i == len(row)-1 {
				b.WriteString(cell)
			} else {
				fmt.Fprintf(&b, "%-*s  ", width[i], cell)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
