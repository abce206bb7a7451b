package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/onsi/ginkgo/v2/reporters"
)

// WriteJUnit writes the requirements as JUnit XML, one test case per
// requirement: a failure for FAIL, an error for ERROR, skipped for the
// verdicts that judged nothing. A suite run has Ginkgo's own junit.xml,
// one case per spec; this is the report of judged traffic, whose unit is
// the requirement. Ginkgo's JUnit types keep the format CI tools read.
func (s Summary) WriteJUnit(w io.Writer) error {
	name := "user-attributes conformance"
	if s.Traffic != nil {
		name += " of observed traffic"
	}
	suite := reporters.JUnitTestSuite{
		Name: name, Package: s.Target, Time: s.Duration.Seconds(),
		Timestamp: s.Start.UTC().Format("2006-01-02T15:04:05"),
		Properties: reporters.JUnitProperties{Properties: []reporters.JUnitProperty{
			{Name: "Profile", Value: s.Profile}, {Name: "SuiteVersion", Value: s.SuiteVersion}, {Name: "ContractSHA256", Value: s.ContractSHA256},
		}},
	}
	for _, r := range s.Requirements {
		tc := reporters.JUnitTestCase{
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
			tc.Failure = &reporters.JUnitFailure{Message: firstLines(r.Reason, 1), Type: "violation", Description: failureText(r)}
			suite.Failures++
		case Error:
			tc.Error = &reporters.JUnitError{Message: firstLines(r.Reason, 1), Type: "error", Description: failureText(r)}
			suite.Errors++
		default:
			tc.Skipped = &reporters.JUnitSkipped{Message: string(r.Verdict) + ": " + firstLines(r.Reason, 1)}
			suite.Skipped++
		}
		suite.TestCases = append(suite.TestCases, tc)
	}
	suite.Tests = len(suite.TestCases)
	doc := reporters.JUnitTestSuites{Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Time: suite.Time, TestSuites: []reporters.JUnitTestSuite{suite}}
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
