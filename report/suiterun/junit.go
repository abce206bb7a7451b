package suiterun

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/attrconform/attrconform/report"
)

// A suite run's junit.xml is Ginkgo's, one test case per spec with its
// state, its failure or skip message and its labels (the requirement IDs)
// in its name. The runner adds what a conformance report needs besides:
// the run's properties below, as JUnit properties of the test suite. So
// the report can be recomputed from the JUnit file alone (and the
// catalogue the runner embeds), and an edited report told apart.

// runProperty prefixes the JUnit properties of a Run, as Kubernetes
// prefixes the keys of annotations it owns.
const runProperty = report.Group + "/"

func properties(r report.Run) []reporters.JUnitProperty {
	p := func(name, value string) reporters.JUnitProperty {
		return reporters.JUnitProperty{Name: runProperty + name, Value: value}
	}
	out := []reporters.JUnitProperty{
		p("apiVersion", report.APIVersion),
		p("suiteVersion", r.SuiteVersion), p("contractSHA256", r.ContractSHA256), p("catalogSHA256", r.CatalogSHA256),
		p("profile", r.Profile), p("labelFilter", r.LabelFilter), p("date", r.Date.UTC().Format(time.RFC3339)),
	}
	for _, k := range slices.Sorted(maps.Keys(r.Knobs)) {
		out = append(out, p("knob."+k, r.Knobs[k]))
	}
	var impl map[string]string // its fields by their names in a target file
	data, _ := json.Marshal(r.Implementation)
	json.Unmarshal(data, &impl)
	for _, k := range slices.Sorted(maps.Keys(impl)) {
		out = append(out, p("implementation."+k, impl[k]))
	}
	return out
}

// readRun reads a Run back from the properties of a test suite.
func readRun(props []reporters.JUnitProperty) (report.Run, error) {
	var r report.Run
	got, impl := map[string]string{}, map[string]string{}
	for _, p := range props {
		name, ok := strings.CutPrefix(p.Name, runProperty)
		if !ok {
			continue
		}
		got[name] = p.Value
		if k, ok := strings.CutPrefix(name, "knob."); ok {
			if r.Knobs == nil {
				r.Knobs = map[string]string{}
			}
			r.Knobs[k] = p.Value
		}
		if k, ok := strings.CutPrefix(name, "implementation."); ok {
			impl[k] = p.Value
		}
	}
	switch v := got["apiVersion"]; v {
	case report.APIVersion:
	case "":
		return r, fmt.Errorf("it carries no %sapiVersion property: it is not the junit.xml of a suite run of this runner (runner --report-dir)", runProperty)
	default:
		return r, fmt.Errorf("its %sapiVersion property is %q; this runner reads %s", runProperty, v, report.APIVersion)
	}
	date, err := time.Parse(time.RFC3339, got["date"])
	if err != nil {
		return r, fmt.Errorf("its %sdate property: %w", runProperty, err)
	}
	r.SuiteVersion, r.ContractSHA256, r.CatalogSHA256 = got["suiteVersion"], got["contractSHA256"], got["catalogSHA256"]
	r.Profile, r.LabelFilter, r.Date = got["profile"], got["labelFilter"], date
	data, _ := json.Marshal(impl)
	if err := json.Unmarshal(data, &r.Implementation); err != nil {
		return r, fmt.Errorf("its %simplementation properties: %w", runProperty, err)
	}
	return r, nil
}

// StampJUnit adds run's properties to the junit.xml at path, replacing
// any a previous stamp left, and passes every text of the file through
// redact once more, so that what a conformance report takes from it
// never depends on how it was written.
func StampJUnit(path string, run report.Run, redact func(string) string) error {
	doc, err := readJUnitFile(path)
	if err != nil {
		return err
	}
	for i := range doc.TestSuites {
		ts := &doc.TestSuites[i]
		var kept []reporters.JUnitProperty
		for _, p := range ts.Properties.Properties {
			if !strings.HasPrefix(p.Name, runProperty) {
				kept = append(kept, p)
			}
		}
		ts.Properties.Properties = append(kept, properties(run)...)
		redactSuite(ts, redact)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(xml.Header); err != nil {
		f.Close()
		return err
	}
	enc := xml.NewEncoder(f)
	enc.Indent("  ", "    ") // as Ginkgo indents it
	if err := enc.Encode(doc); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func redactSuite(ts *reporters.JUnitTestSuite, redact func(string) string) {
	props := func(ps []reporters.JUnitProperty) {
		for i := range ps {
			ps[i].Value = redact(ps[i].Value)
		}
	}
	props(ts.Properties.Properties)
	for i := range ts.TestCases {
		tc := &ts.TestCases[i]
		tc.Name, tc.SystemOut, tc.SystemErr = redact(tc.Name), redact(tc.SystemOut), redact(tc.SystemErr)
		if tc.Skipped != nil {
			tc.Skipped.Message = redact(tc.Skipped.Message)
		}
		if tc.Failure != nil {
			tc.Failure.Message, tc.Failure.Description = redact(tc.Failure.Message), redact(tc.Failure.Description)
		}
		if tc.Error != nil {
			tc.Error.Message, tc.Error.Description = redact(tc.Error.Message), redact(tc.Error.Description)
		}
		if tc.Properties != nil {
			props(tc.Properties.Properties)
		}
	}
}

func readJUnitFile(path string) (reporters.JUnitTestSuites, error) {
	var doc reporters.JUnitTestSuites
	data, err := os.ReadFile(path)
	if err != nil {
		return doc, err
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		return doc, fmt.Errorf("%s: not a JUnit file: %w", path, err)
	}
	if len(doc.TestSuites) != 1 {
		return doc, fmt.Errorf("%s: %d test suites; a suite run's junit.xml has one", path, len(doc.TestSuites))
	}
	return doc, nil
}

// caseName is Ginkgo's name of a test case: "[It] full text [label, …]",
// "[BeforeSuite]". A spec whose text ends in brackets and that carries no
// labels would read as labelled; every spec of the suite carries its IDs.
var caseName = regexp.MustCompile(`(?s)^\[([^\]]+)\](?: (.*?))?(?: \[([^\]]*)\])?$`)

// ReadRunJUnit reads a suite run's junit.xml: its specs as much of a
// Ginkgo report as Build needs (node type, text, labels, state, message),
// and the properties StampJUnit added.
func ReadRunJUnit(path string) (types.Report, report.Run, error) {
	var r types.Report
	doc, err := readJUnitFile(path)
	if err != nil {
		return r, report.Run{}, err
	}
	ts := doc.TestSuites[0]
	run, err := readRun(ts.Properties.Properties)
	if err != nil {
		return r, run, fmt.Errorf("%s: %w", path, err)
	}
	for _, tc := range ts.TestCases {
		m := caseName.FindStringSubmatch(tc.Name)
		if m == nil {
			return r, run, fmt.Errorf("%s: test case %q is not named as Ginkgo names specs ([It] text [labels])", path, tc.Name)
		}
		sr := types.SpecReport{LeafNodeText: m[2], RunTime: time.Duration(tc.Time * float64(time.Second))}
		if m[3] != "" {
			sr.LeafNodeLabels = strings.Split(m[3], ", ")
		}
		// Ginkgo's own names of node types and states; others read as invalid.
		json.Unmarshal([]byte(strconv.Quote(m[1])), &sr.LeafNodeType)
		json.Unmarshal([]byte(strconv.Quote(tc.Status)), &sr.State)
		if sr.LeafNodeType == types.NodeTypeInvalid || sr.State == types.SpecStateInvalid {
			return r, run, fmt.Errorf("%s: test case %q: node %q or status %q is not Ginkgo's", path, tc.Name, m[1], tc.Status)
		}
		switch {
		case tc.Failure != nil:
			sr.Failure.Message = tc.Failure.Message
		case tc.Error != nil:
			sr.Failure.Message = tc.Error.Message
		case tc.Skipped != nil:
			sr.Failure.Message = strings.TrimPrefix(strings.TrimPrefix(tc.Skipped.Message, "skipped"), " - ")
		}
		r.SpecReports = append(r.SpecReports, sr)
	}
	return r, run, nil
}
