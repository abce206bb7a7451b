package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// WriteJUnit writes the requirements as JUnit XML, one test case per
// requirement: a failure for FAIL, an error for ERROR, skipped for the
// verdicts that judged nothing. A suite run has Ginkgo's own junit.xml,
// one case per spec; this is the report of judged traffic, whose unit is
// the requirement.
func (s Summary) WriteJUnit(w io.Writer) error {
	name := "user-attributes conformance"
	if s.Traffic != nil {
		name += " of observed traffic"
	}
	suite := junitSuite{
		Name: name, Package: s.Target, Time: s.Duration.Seconds(), Timestamp: s.Start.UTC().Format("2006-01-02T15:04:05"),
		Properties: []junitProperty{{"Profile", s.Profile}, {"SuiteVersion", s.SuiteVersion}, {"ContractSHA256", s.ContractSHA256}},
	}
	for _, r := range s.Requirements {
		tc := junitCase{
			Name:      r.ID + ": " + r.Title,
			Classname: strings.Join(r.Operations, " "),
			Status:    strings.ToLower(string(r.Verdict)),
		}
		if tc.Classname == "" {
			tc.Classname = "requirements"
		}
		switch r.Verdict {
		case Pass:
		case Fail:
			tc.Failure = &junitResult{Message: FirstLines(r.Reason, 1), Type: "violation", Text: failureText(r)}
			suite.Failures++
		case Error:
			tc.Error = &junitResult{Message: FirstLines(r.Reason, 1), Type: "error", Text: failureText(r)}
			suite.Errors++
		default:
			tc.Skipped = &junitResult{Message: string(r.Verdict) + ": " + FirstLines(r.Reason, 1)}
			suite.Skipped++
		}
		suite.Cases = append(suite.Cases, tc)
	}
	suite.Tests = len(suite.Cases)
	doc := junitSuites{Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// The JUnit XML elements a report of traffic writes, as CI tools read
// them. Text is character data, which encoding/xml escapes (a target's
// words may hold anything); these few elements are all the format needs,
// and the suite's own junit.xml is Ginkgo's.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Time     float64      `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Package    string          `xml:"package,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Time       float64         `xml:"time,attr"`
		Timestamp  string          `xml:"timestamp,attr"`
		Properties []junitProperty `xml:"properties>property"`
		Cases      []junitCase     `xml:"testcase"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string       `xml:"name,attr"`
		Classname string       `xml:"classname,attr"`
		Status    string       `xml:"status,attr"`
		Skipped   *junitResult `xml:"skipped,omitempty"`
		Error     *junitResult `xml:"error,omitempty"`
		Failure   *junitResult `xml:"failure,omitempty"`
	}
	junitResult struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr,omitempty"`
		Text    string `xml:",chardata"`
	}
)

// WriteJUnitFile writes the JUnit XML to path.
func (s Summary) WriteJUnitFile(path string) error {
	return writeFile(path, s.WriteJUnit)
}

// failureText is every failure of r with its exchange, as the matrix
// shows them.
func failureText(r Requirement) string {
	var b strings.Builder
	for _, f := range r.Failures {
		fmt.Fprintf(&b, "%s\n%s\n", f.Spec, f.Reason)
		if f.Exchange != nil {
			fmt.Fprintf(&b, "\n%s\n\n%s\n", requestText(f.Exchange), responseText(f.Exchange))
		}
		b.WriteString("\n")
	}
	return strings.TrimSpace(b.String())
}
