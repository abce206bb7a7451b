package report

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// Terminal limits: the summary fits one screen for a run with a handful
// of failures; requirements.md and requirements.html have everything.
const (
	reasonLines    = 3 // lines of reason per failed requirement
	listedSkips    = 8 // skipped requirements listed one per line; more are listed by ID
	terminalIDWrap = 6 // IDs per line in compact lists
)

// WriteTerminal prints a one-screen summary: a table of verdicts and
// exercised status codes per operation, the failed requirements grouped by
// operation with their reasons, the skipped ones, the profile alternatives
// the target showed, the totals, and last the line
// "N passed, N failed, N skipped".
func (s Summary) WriteTerminal(w io.Writer) {
	fmt.Fprintf(w, "\nSummary by operation (target %s, profile %s)\n", s.Target, s.Profile)
	if s.Traffic != nil {
		fmt.Fprintf(w, "Traffic: %s\n", s.Traffic.line())
	}
	rows := s.byOperation()
	fmt.Fprintf(w, "  %-24s %5s %5s %6s %5s %9s  %s\n", "operation", "PASS", "FAIL", "ERROR", "SKIP", "DISABLED", "status codes exercised")
	for _, r := range rows {
		fmt.Fprintf(w, "  %-24s %5d %5d %6d %5d %9d  %s\n", r.name, r.counts[Pass], r.counts[Fail], r.counts[Error], r.counts[Skip], r.counts[Disabled], r.codes)
	}

	groups, order := s.failuresByOperation()
	if len(order) > 0 {
		fmt.Fprintln(w, "Failed requirements")
		for _, g := range order {
			fmt.Fprintf(w, "  %s\n", g)
			for _, r := range groups[g] {
				mark := ""
				if r.Baseline != nil {
					mark = "  [" + r.Baseline.Status + "]"
				}
				fmt.Fprintf(w, "    %-5s %-13s %-7s %s%s\n", r.Verdict, r.ID, r.Level, r.Title, mark)
				if r.Reason != "" {
					fmt.Fprintln(w, indent(FirstLines(r.Reason, reasonLines), "          "))
				}
			}
		}
	}

	var skipped []Requirement
	counts := map[Verdict]int{}
	for _, r := range s.Requirements {
		counts[r.Verdict]++
		if r.Verdict == Skip {
			skipped = append(skipped, r)
		}
	}
	switch {
	case s.Traffic != nil && len(skipped) > 0:
		// Most requirements go unjudged by any one stretch of traffic.
		fmt.Fprintf(w, "%d requirements not judged by this traffic (reasons in requirements.md)\n", len(skipped))
	case len(skipped) > 0 && len(skipped) <= listedSkips:
		fmt.Fprintln(w, "Skipped requirements")
		for _, r := range skipped {
			fmt.Fprintf(w, "    %-5s %-13s %-7s %s\n", r.Verdict, r.ID, r.Level, r.Title)
			fmt.Fprintln(w, indent(FirstLines(r.Reason, 1), "          "))
		}
	case len(skipped) > listedSkips:
		var ids []string
		for _, r := range skipped {
			ids = append(ids, r.ID)
		}
		fmt.Fprintf(w, "Skipped requirements (%d; reasons in requirements.md):\n%s\n", len(ids), wrapIDs(ids, "    "))
	}

	if alts := s.alternativesSeen(); len(alts) > 0 {
		fmt.Fprintln(w, "Alternatives the target showed")
		for _, a := range alts {
			fmt.Fprintf(w, "  saw %s\n", a)
		}
	}

	fmt.Fprintf(w, "%d requirements: %d PASS, %d FAIL, %d ERROR, %d SKIP, %d DISABLED, %d not testable from outside\n",
		len(s.Requirements), counts[Pass], counts[Fail], counts[Error], counts[Skip], counts[Disabled], counts[Untestable])
	for _, in := range s.incidents() {
		fmt.Fprintf(w, "%s:\n%s\n", in.Heading, indent(strings.TrimSpace(in.Text), "  "))
	}
	if s.Disabled > 0 {
		fmt.Fprintf(w, "%d specs disabled by configuration (label filter or opt-in groups)\n", s.Disabled)
	}
	if s.Errored > 0 {
		fmt.Fprintf(w, "%d specs could not judge the target (harness or network errors)\n", s.Errored)
	}
	if b := s.Baseline; b != nil {
		fmt.Fprintln(w, b.line())
		if len(b.New) > 0 {
			fmt.Fprintf(w, "  new failures, not in the baseline:\n%s\n", wrapIDs(b.New, "    "))
		}
		if len(b.Stale) > 0 {
			fmt.Fprintf(w, "  stale entries (these pass now; remove them from the baseline):\n%s\n", wrapIDs(b.Stale, "    "))
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", s.Passed, s.Failed+s.Errored, s.Skipped)
}

type operationRow struct {
	name   string
	counts map[Verdict]int
	codes  string
}

// noOperation groups requirements that name no operation.
const noOperation = "(no single operation)"

// byOperation counts requirement verdicts per operation (a requirement
// about several operations counts in each) next to the status codes
// exercised. Operations follow the coverage's order, then the catalogue's.
func (s Summary) byOperation() []operationRow {
	var names []string
	cov := map[string]OperationCoverage{}
	for _, oc := range s.Coverage {
		names = append(names, oc.Operation)
		cov[oc.Operation] = oc
	}
	for _, r := range s.Requirements {
		for _, op := range r.Operations {
			if !slices.Contains(names, op) {
				names = append(names, op)
			}
		}
	}
	rows := map[string]*operationRow{}
	for _, n := range names {
		rows[n] = &operationRow{name: n, counts: map[Verdict]int{}, codes: "-"}
		if oc, ok := cov[n]; ok {
			hit, documented := oc.Exercised()
			rows[n].codes = fmt.Sprintf("%d/%d", hit, documented)
			if m := oc.Missing(); len(m) > 0 {
				rows[n].codes += " (missing " + joinInts(m, " ") + ")"
			}
		}
	}
	var none *operationRow
	for _, r := range s.Requirements {
		if len(r.Operations) == 0 {
			if none == nil {
				none = &operationRow{name: noOperation, counts: map[Verdict]int{}, codes: "-"}
			}
			none.counts[r.Verdict]++
		}
		for _, op := range r.Operations {
			if s.Traffic != nil && !exercised(cov[op]) {
				continue // traffic judged nothing of an operation it never called
			}
			rows[op].counts[r.Verdict]++
		}
	}
	var out []operationRow
	for _, n := range names {
		out = append(out, *rows[n])
	}
	if none != nil && none.counts[Pass]+none.counts[Fail]+none.counts[Error]+none.counts[Skip]+none.counts[Disabled] > 0 {
		out = append(out, *none)
	}
	return out
}

func exercised(oc OperationCoverage) bool {
	for _, sc := range oc.Statuses {
		if sc.Exchanges > 0 {
			return true
		}
	}
	return false
}

// severalOperations groups failed requirements about more than one operation.
const severalOperations = "several operations"

// failuresByOperation groups FAIL and ERROR requirements under their one
// operation, or under "several operations".
func (s Summary) failuresByOperation() (map[string][]Requirement, []string) {
	groups := map[string][]Requirement{}
	var order []string
	for _, r := range s.Requirements {
		if r.Verdict != Fail && r.Verdict != Error {
			continue
		}
		g := severalOperations
		switch len(r.Operations) {
		case 0:
			g = noOperation
		case 1:
			g = r.Operations[0]
		}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], r)
	}
	rank := func(g string) int {
		switch g {
		case severalOperations:
			return 1
		case noOperation:
			return 2
		}
		return 0
	}
	sort.SliceStable(order, func(i, j int) bool { return rank(order[i]) < rank(order[j]) })
	return groups, order
}

// alternativesSeen lists each alternative the target showed once, from
// the requirements that did not fail (a failure's reason names its own).
func (s Summary) alternativesSeen() []string {
	var out []string
	for _, r := range s.Requirements {
		if r.Verdict == Fail {
			continue
		}
		for _, a := range r.Alternatives {
			out = appendNew(out, a)
		}
	}
	sort.Strings(out)
	return out
}

func wrapIDs(ids []string, prefix string) string {
	var lines []string
	for i := 0; i < len(ids); i += terminalIDWrap {
		lines = append(lines, prefix+strings.Join(ids[i:min(i+terminalIDWrap, len(ids))], ", "))
	}
	return strings.Join(lines, "\n")
}

func joinInts(v []int, sep string) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, sep)
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n"+prefix)
}
