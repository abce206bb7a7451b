package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

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
	for _, in := range v.Incidents {
		fmt.Fprintf(&b, "\n**%s:**\n\n%s\n", in.Heading, mdFence("text", in.Text))
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
			text += "<br>*" + string(r.Verdict) + ":* " + mdCell(FirstLines(r.Note, 4))
		}
		if len(r.Observed) > 0 {
			text += "<br>*Observed:* " + mdCell(strings.Join(r.Observed, "; "))
		}
		for _, a := range r.Artifacts {
			text += "<br>*See:* [" + mdCell(a) + "](" + mdLinkTarget(a) + ")"
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

// mdLinkTarget is a path as a Markdown link's target: spaces, parentheses
// and pipes escaped, so that they neither end the link nor the cell.
func mdLinkTarget(p string) string {
	return strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "|", "%7C", "<", "%3C", ">", "%3E").Replace(p)
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
