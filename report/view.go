package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/attrconform/attrconform/evidence"
)

// The requirement matrix is the run as people read it: a header saying
// what was judged with what, one row per requirement (ID, level, verdict,
// text, the profile alternative the target showed), the failing exchange
// of each failure, and which documented status codes each operation was
// seen to answer. This file builds that view; markdown.go and html.go
// render it.

// matrixView is what both renderings show.
type matrixView struct {
	Outcome      string // PASSED, FAILED, INCOMPLETE or NOTHING JUDGED
	OutcomeClass string
	// Of says what was judged: "" for a run of the suite, "observed
	// traffic" for a report of the proxy.
	Of          string
	Header      []headerField
	Closing     string // "N passed, N failed, N skipped"
	Tally       []tallyItem
	Rows        []rowView
	Failures    []rowView // the rows with failures, for the details section
	Columns     []int     // status codes of the coverage table
	Coverage    []coverageRow
	Unexercised []Pair
	Baseline    *BaselineResult
	Incidents   []incident
}

// incident is something that happened to the run as a whole, beside the
// verdicts: specs that could not start, a run that ended early, a cleanup
// that failed after the specs ran.
type incident struct {
	Heading, Text string
}

func (s Summary) incidents() []incident {
	var out []incident
	if s.SetupFailure != "" {
		out = append(out, incident{"The run could not start its specs", s.SetupFailure})
	}
	if s.Interrupted != "" {
		notRun := 0
		for _, sp := range s.Specs {
			if strings.HasPrefix(sp.Reason, NotRun) {
				notRun++
			}
		}
		out = append(out, incident{"The run ended before all its specs ran", fmt.Sprintf("%s; %d specs not run", s.Interrupted, notRun)})
	}
	if s.CleanupFailure != "" {
		out = append(out, incident{"The specs ran; then the cleanup after them failed", s.CleanupFailure})
	}
	return out
}

type headerField struct {
	Name, Value, Title string
}

type tallyItem struct {
	Verdict Verdict
	Class   string
	Count   int
}

type rowView struct {
	Requirement
	Class  string // verdict class: pass, fail, error, skip, disabled, untestable
	Marker string // text glyph and verdict, e.g. "✗ FAIL"
	Emoji  string // the Markdown marker, e.g. "❌ FAIL"
	Tag    string // baseline status, if any
	// Note is the reason shown in the row for verdicts without failures
	// (SKIP, DISABLED, NOT TESTABLE).
	Note string
}

type coverageRow struct {
	Operation, Method, Path string
	Cells                   []coverageCell
	Hit, Documented         int
}

type coverageCell struct {
	Class string // hit, miss (documented, not exercised), undocumented (seen, not documented), none
	Text  string
	Title string
}

var verdictOrder = []Verdict{Pass, Fail, Error, Skip, Disabled, Untestable}

func verdictClass(v Verdict) string {
	switch v {
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	case Error:
		return "error"
	case Skip:
		return "skip"
	case Disabled:
		return "disabled"
	case Untestable:
		return "untestable"
	}
	return "unknown"
}

func verdictGlyph(v Verdict) string {
	switch v {
	case Pass:
		return "✓"
	case Fail:
		return "✗"
	case Error:
		return "!"
	case Skip:
		return "–"
	case Disabled:
		return "○"
	}
	return "·"
}

func verdictEmoji(v Verdict) string {
	switch v {
	case Pass:
		return "✅"
	case Fail:
		return "❌"
	case Error:
		return "⚠️"
	case Skip:
		return "⏭️"
	case Disabled:
		return "⏸️"
	}
	return "➖"
}

// outcome names the run's result as ExitCode decides it.
func (s Summary) outcome() (string, string) {
	if s.Traffic != nil && s.Passed+s.Failed == 0 {
		return "NOTHING JUDGED", "skip"
	}
	switch s.ExitCode() {
	case 0:
		return "PASSED", "pass"
	case 1:
		return "FAILED", "fail"
	}
	return "INCOMPLETE", "error"
}

func (s Summary) closingLine() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", s.Passed, s.Failed+s.Errored, s.Skipped)
}

func (s Summary) view() matrixView {
	v := matrixView{Closing: s.closingLine(), Baseline: s.Baseline, Incidents: s.incidents()}
	v.Outcome, v.OutcomeClass = s.outcome()
	hash := s.ContractSHA256
	v.Header = []headerField{
		{Name: "Suite", Value: orDash(s.SuiteVersion)},
		{Name: "Contract", Value: "openapi.yaml sha256 " + orDash(hash), Title: hash},
		{Name: "Profile", Value: orDash(s.Profile)},
		{Name: "Target", Value: orDash(s.Target)},
		{Name: "Started", Value: formatStart(s.Start)},
		{Name: "Duration", Value: formatDuration(s.Duration)},
		{Name: "Result", Value: v.Closing},
	}
	if s.Traffic != nil {
		v.Of = "observed traffic"
		v.Header = append(v.Header, headerField{Name: "Traffic", Value: s.Traffic.line()})
	}
	if b := s.Baseline; b != nil {
		v.Header = append(v.Header, headerField{Name: "Baseline", Value: fmt.Sprintf("%s: %d known failures accepted, %d new, %d stale", b.File, len(b.Known), len(b.New), len(b.Stale))})
	}
	counts := map[Verdict]int{}
	for _, r := range s.Requirements {
		counts[r.Verdict]++
		row := rowView{Requirement: r, Class: verdictClass(r.Verdict),
			Marker: verdictGlyph(r.Verdict) + " " + string(r.Verdict), Emoji: verdictEmoji(r.Verdict) + " " + string(r.Verdict)}
		if r.Baseline != nil {
			row.Tag = r.Baseline.Status
		}
		if r.Verdict != Pass && len(r.Failures) == 0 {
			row.Note = r.Reason
		}
		v.Rows = append(v.Rows, row)
		if len(r.Failures) > 0 {
			v.Failures = append(v.Failures, row)
		}
	}
	for _, verdict := range verdictOrder {
		v.Tally = append(v.Tally, tallyItem{Verdict: verdict, Class: verdictClass(verdict), Count: counts[verdict]})
	}
	v.Columns = coverageColumns(s.Coverage)
	for _, oc := range s.Coverage {
		row := coverageRow{Operation: oc.Operation, Method: oc.Method, Path: oc.Path}
		row.Hit, row.Documented = oc.Exercised()
		for _, c := range v.Columns {
			sc, ok := oc.count(c)
			var cell coverageCell
			switch {
			case !ok:
				cell = coverageCell{Class: "none", Text: "—", Title: fmt.Sprintf("%d is not documented for %s", c, oc.Operation)}
			case sc.Documented && sc.Exchanges > 0:
				cell = coverageCell{Class: "hit", Text: fmt.Sprint(sc.Exchanges), Title: fmt.Sprintf("%s answered %d %d times", oc.Operation, c, sc.Exchanges)}
			case sc.Documented:
				cell = coverageCell{Class: "miss", Text: "0", Title: fmt.Sprintf("%d is documented for %s but no exchange answered it", c, oc.Operation)}
			default:
				cell = coverageCell{Class: "undocumented", Text: fmt.Sprint(sc.Exchanges), Title: fmt.Sprintf("%s answered %d, which is not documented", oc.Operation, c)}
			}
			row.Cells = append(row.Cells, cell)
		}
		v.Coverage = append(v.Coverage, row)
	}
	v.Unexercised = Unexercised(s.Coverage)
	return v
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func formatStart(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func formatDuration(d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	return d.Round(100 * time.Millisecond).String()
}

// requestText is a request as the reports show it.
func requestText(x *evidence.Exchange) string {
	s := fmt.Sprintf("%s %s  (as %s)", x.Method, x.Path, x.Principal)
	if x.RequestBody != "" {
		s += "\n\n" + x.RequestBody
	}
	return s
}

// responseText is a response as the reports show it.
func responseText(x *evidence.Exchange) string {
	s := fmt.Sprintf("HTTP %d", x.Status)
	if x.ContentType != "" {
		s += "  " + x.ContentType
	}
	if x.ResponseBody != "" {
		s += "\n\n" + x.ResponseBody
	}
	return s
}
