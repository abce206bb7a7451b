package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/attrconform/attrconform/framework"
)

// The requirement matrix is the run as people read it: a header saying
// what was judged with what, one row per requirement (ID, level, verdict,
// text, the profile alternative the target showed), the failing exchange
// of each failure, and which documented status codes each operation was
// seen to answer. WriteMarkdown and WriteHTML render the same view.

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
	Setup       string
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
	v := matrixView{Closing: s.closingLine(), Baseline: s.Baseline, Setup: s.SetupFailure}
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
func requestText(x *framework.Exchange) string {
	s := fmt.Sprintf("%s %s  (as %s)", x.Method, x.Path, x.Principal)
	if x.RequestBody != "" {
		s += "\n\n" + x.RequestBody
	}
	return s
}

// responseText is a response as the reports show it.
func responseText(x *framework.Exchange) string {
	s := fmt.Sprintf("HTTP %d", x.Status)
	if x.ContentType != "" {
		s += "  " + x.ContentType
	}
	if x.ResponseBody != "" {
		s += "\n\n" + x.ResponseBody
	}
	return s
}

// WriteMarkdown writes the requirement matrix as Markdown (GitHub
// flavoured: tables and fenced blocks).
func (s Summary) WriteMarkdown(w io.Writer) error {
	v := s.view()
	var b bytes.Buffer
	of := ""
	if v.Of != "" {
		of = " of " + v.Of
	}
	fmt.Fprintf(&b, "# User-attributes conformance%s: %s\n\n", of, v.Outcome)
	b.WriteString("| | |\n| --- | --- |\n")
	for _, h := range v.Header {
		val := mdCell(h.Value)
		if h.Name == "Contract" || h.Name == "Suite" {
			val = mdCodeCell(h.Value)
		}
		fmt.Fprintf(&b, "| %s | %s |\n", h.Name, val)
	}
	var tally []string
	for _, t := range v.Tally {
		tally = append(tally, fmt.Sprintf("%d %s", t.Count, t.Verdict))
	}
	fmt.Fprintf(&b, "| Requirements | %d: %s |\n", len(v.Rows), strings.Join(tally, ", "))
	if v.Setup != "" {
		fmt.Fprintf(&b, "\n**The run could not start its specs:**\n\n%s\n", mdFence("text", v.Setup))
	}

	b.WriteString("\n## Requirements\n\n")
	b.WriteString("| ID | Level | Verdict | Requirement | Alternative seen (profile allows) |\n| --- | --- | --- | --- | --- |\n")
	for _, r := range v.Rows {
		verdict := r.Emoji
		if r.Verdict == Fail || r.Verdict == Error {
			verdict = "**" + verdict + "**"
		}
		if r.Tag != "" {
			verdict += " (" + r.Tag + ")"
		}
		text := "**" + mdCell(r.Title) + "**"
		if r.Text != "" {
			text += "<br>" + mdCell(r.Text)
		}
		if r.Note != "" {
			text += "<br>*" + string(r.Verdict) + ":* " + mdCell(firstLines(r.Note, 4))
		}
		if len(r.Failures) > 0 {
			text += "<br>*See Failures below.*"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.ID, r.Level, verdict, text, mdCell(strings.Join(r.Alternatives, "\n")))
	}

	if len(v.Failures) > 0 {
		b.WriteString("\n## Failures\n")
		for _, r := range v.Failures {
			fmt.Fprintf(&b, "\n### %s %s: %s\n", r.Emoji, r.ID, mdInline(r.Title))
			if r.Baseline != nil {
				fmt.Fprintf(&b, "\nBaseline: %s", r.Baseline.Status)
				if r.Baseline.Reason != "" {
					fmt.Fprintf(&b, " (%s)", mdInline(r.Baseline.Reason))
				}
				b.WriteString("\n")
			}
			label := "Spec"
			if v.Of != "" {
				label = "Seen in"
			}
			for _, f := range r.Failures {
				fmt.Fprintf(&b, "\n%s: %s\n\n%s\n", label, mdCode(f.Spec), mdFence("text", f.Reason))
				if f.Exchange != nil {
					fmt.Fprintf(&b, "\nRequest:\n\n%s\n\nResponse:\n\n%s\n", mdFence("http", requestText(f.Exchange)), mdFence("http", responseText(f.Exchange)))
				}
			}
		}
	}

	if len(v.Coverage) > 0 {
		b.WriteString("\n## Status codes exercised\n\n")
		b.WriteString("Exchanges per operation and status code, each validated against openapi.yaml. ")
		b.WriteString("**0** is a documented code no exchange answered; — is a code the operation does not document.\n\n")
		b.WriteString("| Operation |")
		for _, c := range v.Columns {
			fmt.Fprintf(&b, " %d |", c)
		}
		b.WriteString(" exercised |\n| --- |")
		for range v.Columns {
			b.WriteString(" ---: |")
		}
		b.WriteString(" ---: |\n")
		for _, row := range v.Coverage {
			fmt.Fprintf(&b, "| %s %s |", mdCodeCell(row.Operation), mdCodeCell(strings.TrimSpace(row.Method+" "+row.Path)))
			for _, c := range row.Cells {
				switch c.Class {
				case "miss":
					b.WriteString(" **0** |")
				case "undocumented":
					fmt.Fprintf(&b, " %s (undocumented) |", c.Text)
				default:
					fmt.Fprintf(&b, " %s |", c.Text)
				}
			}
			fmt.Fprintf(&b, " %d/%d |\n", row.Hit, row.Documented)
		}
		if len(v.Unexercised) > 0 {
			var pairs []string
			for _, p := range v.Unexercised {
				pairs = append(pairs, p.String())
			}
			fmt.Fprintf(&b, "\nDocumented but not exercised: %s.\n", mdCell(strings.Join(pairs, ", ")))
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// WriteMarkdownFile writes the Markdown matrix to path.
func (s Summary) WriteMarkdownFile(path string) error {
	return writeFile(path, s.WriteMarkdown)
}

func writeFile(path string, write func(io.Writer) error) error {
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// mdCell makes s safe inside a Markdown table cell: no raw HTML, no pipes
// ending the cell, line breaks as <br>.
func mdCell(s string) string {
	s = strings.ReplaceAll(mdText(strings.TrimSpace(s)), "|", `\|`)
	return strings.ReplaceAll(s, "\n", "<br>")
}

// mdInline makes s safe on one line outside a table.
func mdInline(s string) string {
	return strings.Join(strings.Fields(mdText(s)), " ")
}

// mdText escapes HTML in s outside its `code spans`; inside them Markdown
// shows every character as it is, entities included. With an odd number
// of backticks there are no code spans to trust, and all of s is escaped.
func mdText(s string) string {
	html := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	parts := strings.Split(s, "`")
	if len(parts)%2 == 0 {
		return html.Replace(s)
	}
	for i := 0; i < len(parts); i += 2 {
		parts[i] = html.Replace(parts[i])
	}
	return strings.Join(parts, "`")
}

// mdCode is s as inline code, with a fence longer than any backtick run
// in it.
func mdCode(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return ""
	}
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + s + pad + fence
}

// mdCodeCell is mdCode inside a table cell, where a pipe ends the cell
// even in code.
func mdCodeCell(s string) string {
	return strings.ReplaceAll(mdCode(s), "|", `\|`)
}

// mdFence is s as a fenced block that no line of s can close.
func mdFence(lang, s string) string {
	fence := strings.Repeat("`", max(3, longestRun(s, '`')+1))
	return fence + lang + "\n" + strings.TrimRight(s, "\n") + "\n" + fence
}

func longestRun(s string, c rune) int {
	best, run := 0, 0
	for _, r := range s {
		if r == c {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}
