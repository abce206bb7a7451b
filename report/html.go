package report

import (
	_ "embed"
	"html/template"
	"io"
	"strings"

	"github.com/attrconform/attrconform/evidence"
)

// The HTML matrix is one self-contained page: the stylesheet is inlined,
// and there are no scripts, fonts, images or links to anything outside
// the file, so that it opens from a CI artifact or a mail attachment as it
// is. html/template escapes everything the target sent.

//go:embed assets/matrix.css
var matrixCSS string

//go:embed assets/matrix.html.tmpl
var matrixHTML string

var htmlTemplate = template.Must(template.New("matrix").Funcs(template.FuncMap{
	"request":   func(x *evidence.Exchange) string { return requestText(x) },
	"response":  func(x *evidence.Exchange) string { return responseText(x) },
	"classname": func(s string) string { return strings.ReplaceAll(s, " ", "-") },
	"rich":      richText,
}).Parse(matrixHTML))

// richText is catalogue text as HTML: escaped, with its `code spans` set
// as <code>. With an odd number of backticks it stays plain text.
func richText(s string) template.HTML {
	parts := strings.Split(s, "`")
	if len(parts)%2 == 0 {
		return template.HTML(template.HTMLEscapeString(s))
	}
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 {
			b.WriteString("<code>" + template.HTMLEscapeString(p) + "</code>")
		} else {
			b.WriteString(template.HTMLEscapeString(p))
		}
	}
	return template.HTML(b.String())
}

// WriteHTML writes the requirement matrix as one HTML page.
func (s Summary) WriteHTML(w io.Writer) error {
	return htmlTemplate.Execute(w, struct {
		View  matrixView
		CSS   template.CSS
		Suite string
	}{s.view(), template.CSS(matrixCSS), orDash(s.SuiteVersion)})
}

// WriteHTMLFile writes the HTML matrix to path.
func (s Summary) WriteHTMLFile(path string) error {
	return writeFile(path, s.WriteHTML)
}
