package report

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	attrconform "github.com/attrconform/attrconform"
	"github.com/attrconform/attrconform/catalog"
	"github.com/attrconform/attrconform/target"
)

// A conformance report is the verdict a vendor publishes, in the spirit
// of the Gateway API's and Kubernetes' conformance submissions: who
// stands behind the implementation, what judged it (suite, contract,
// profile), and per requirement group of the catalogue its result, its
// counts and why what was not judged was not. It is computed from the
// run's junit.xml alone, so that `runner verify-report` can compute it
// again and tell an edited report apart.

// ConformanceKind is the kind of conformance-report.yaml.
const ConformanceKind = "ConformanceReport"

// Files of a report directory the conformance report is about.
const (
	ConformanceFile = "conformance-report.yaml"
	JUnitFile       = "junit.xml"
)

// ConformanceReport is conformance-report.yaml.
type ConformanceReport struct {
	TypeMeta
	// Date is when the run started (UTC).
	Date           string                `json:"date"`
	Implementation target.Implementation `json:"implementation"`
	SuiteVersion   string                `json:"suiteVersion"`
	ContractSHA256 string                `json:"contractSHA256"`
	Profile        ProfileUsed           `json:"profile"`
	// LabelFilter is the run's --label-filter: what it left out is
	// counted as disabled.
	LabelFilter  string `json:"labelFilter,omitempty"`
	SetupFailure string `json:"setupFailure,omitempty"`
	// Result and Counts are those of the whole run, over every group.
	Result Result        `json:"result"`
	Counts Counts        `json:"counts"`
	Groups []GroupResult `json:"groups"`
}

// ProfileUsed is the profile a run judged by.
type ProfileUsed struct {
	Name string `json:"name"`
	// Knobs are the target's overrides of the profile's alternatives.
	Knobs map[string]string `json:"knobs,omitempty"`
}

// Result sums up the verdicts of a group of requirements.
type Result string

const (
	// ResultSuccess: every requirement of the group that can be tested passed.
	ResultSuccess Result = "success"
	// ResultPartial: some passed, none failed or errored, others were
	// skipped or disabled.
	ResultPartial Result = "partial"
	// ResultFailure: a requirement failed.
	ResultFailure Result = "failure"
	// ResultError: none failed, but the harness could not judge one.
	ResultError Result = "error"
	// ResultNotJudged: none passed, failed or errored.
	ResultNotJudged Result = "notJudged"
)

// Counts are the requirements of each verdict.
type Counts struct {
	Passed      int `json:"passed"`
	Failed      int `json:"failed"`
	Errored     int `json:"errored"`
	Skipped     int `json:"skipped"`
	Disabled    int `json:"disabled"`
	NotTestable int `json:"notTestable"`
}

// GroupResult is one group of the catalogue (UA-BATCH-006 is of BATCH).
type GroupResult struct {
	Name   string `json:"name"`
	Result Result `json:"result"`
	Counts Counts `json:"counts"`
	// The requirements of each verdict but PASS and NOT TESTABLE, with
	// the reasons their specs gave.
	Failed   []Outcome `json:"failed,omitempty"`
	Errored  []Outcome `json:"errored,omitempty"`
	Skipped  []Outcome `json:"skipped,omitempty"`
	Disabled []Outcome `json:"disabled,omitempty"`
}

// Outcome is one requirement's verdict reason.
type Outcome struct {
	ID     string `json:"id"`
	Reason string `json:"reason,omitempty"`
}

// add counts r and lists it under its verdict, with the reasons specs
// gave it.
func (g *GroupResult) add(r Requirement, specs []Spec) {
	o := Outcome{ID: r.ID, Reason: reasonOf(r, specs)}
	switch r.Verdict {
	case Pass:
		g.Counts.Passed++
	case Fail:
		g.Counts.Failed++
		g.Failed = append(g.Failed, o)
	case Error:
		g.Counts.Errored++
		g.Errored = append(g.Errored, o)
	case Skip:
		g.Counts.Skipped++
		g.Skipped = append(g.Skipped, o)
	case Disabled:
		g.Counts.Disabled++
		g.Disabled = append(g.Disabled, o)
	default:
		g.Counts.NotTestable++
	}
}

// reasonOf is why r got its verdict: each distinct reason its specs of
// that verdict gave (without the spec's name: one line per cause, not
// per spec), else the requirement's own ("no spec checks it").
func reasonOf(r Requirement, specs []Spec) string {
	var out []string
	for _, sp := range specs {
		if sp.Verdict == r.Verdict && sp.Reason != "" && slices.Contains(sp.IDs, r.ID) {
			out = appendNew(out, sp.Reason)
		}
	}
	if len(out) == 0 {
		return r.Reason
	}
	return strings.Join(out, "\n")
}

func (c Counts) result() Result {
	switch {
	case c.Failed > 0:
		return ResultFailure
	case c.Errored > 0:
		return ResultError
	case c.Passed > 0 && c.Skipped+c.Disabled == 0:
		return ResultSuccess
	case c.Passed > 0:
		return ResultPartial
	}
	return ResultNotJudged
}

func (c *Counts) plus(o Counts) {
	c.Passed, c.Failed, c.Errored = c.Passed+o.Passed, c.Failed+o.Failed, c.Errored+o.Errored
	c.Skipped, c.Disabled, c.NotTestable = c.Skipped+o.Skipped, c.Disabled+o.Disabled, c.NotTestable+o.NotTestable
}

// group is the catalogue group of a requirement ID: BATCH of UA-BATCH-006.
func group(id string) string {
	parts := strings.Split(id, "-")
	if len(parts) != 3 {
		return id
	}
	return parts[1]
}

// BuildConformance sums up s, a run judged with run, per group of its
// requirements, the groups in the catalogue's order.
func BuildConformance(s Summary, run Run) ConformanceReport {
	c := ConformanceReport{
		TypeMeta: TypeMeta{APIVersion, ConformanceKind},
		Date:     run.Date.UTC().Format(time.RFC3339), Implementation: run.Implementation,
		SuiteVersion: run.SuiteVersion, ContractSHA256: run.ContractSHA256,
		Profile:     ProfileUsed{Name: run.Profile, Knobs: run.Knobs},
		LabelFilter: run.LabelFilter, SetupFailure: s.SetupFailure,
	}
	index := map[string]int{}
	for _, r := range s.Requirements {
		name := group(r.ID)
		i, ok := index[name]
		if !ok {
			i, index[name] = len(c.Groups), len(c.Groups)
			c.Groups = append(c.Groups, GroupResult{Name: name})
		}
		c.Groups[i].add(r, s.Specs)
	}
	for i := range c.Groups {
		c.Groups[i].Result = c.Groups[i].Counts.result()
		c.Counts.plus(c.Groups[i].Counts)
	}
	c.Result = c.Counts.result()
	if s.SetupFailure != "" {
		c.Result = ResultError
	}
	return c
}

// CatalogHash is the hex SHA-256 of the catalogue this runner embeds.
func CatalogHash() string { return ContractHash(attrconform.Requirements) }

// Conformance computes the conformance report of the suite run whose
// junit.xml is at path, grouping its verdicts by the catalogue this
// runner embeds; a run judged with another catalogue is an error.
func Conformance(path string) (ConformanceReport, error) {
	r, run, err := ReadRunJUnit(path)
	if err != nil {
		return ConformanceReport{}, err
	}
	if run.CatalogSHA256 != CatalogHash() {
		return ConformanceReport{}, fmt.Errorf("%s: the run used another requirement catalogue than this runner's (suite %s): use the runner that wrote it", path, run.SuiteVersion)
	}
	cat, err := catalog.Load()
	if err != nil {
		return ConformanceReport{}, err
	}
	return BuildConformance(Build(r, cat, func(s string) string { return s }), run), nil
}

const conformanceHeader = "# The conformance report of a run of the attrconform suite, computed from\n" +
	"# the junit.xml beside it. Check that it was not edited: runner verify-report DIR\n"

// WriteConformance writes dir's conformance-report.yaml from its junit.xml.
func WriteConformance(dir string) error {
	c, err := Conformance(filepath.Join(dir, JUnitFile))
	if err != nil {
		return err
	}
	data, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ConformanceFile), append([]byte(conformanceHeader), data...), 0o644)
}

// VerifyConformance computes dir's conformance report again from its
// junit.xml and compares it with conformance-report.yaml, field by field:
// it returns one line per difference, or an error when it cannot compare
// (a file missing or unreadable, of another format, or from a run this
// runner cannot recompute).
func VerifyConformance(dir string) (ConformanceReport, []string, error) {
	path := filepath.Join(dir, ConformanceFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return ConformanceReport{}, nil, err
	}
	var tm TypeMeta
	var got any
	if err := yaml.Unmarshal(data, &tm); err != nil {
		return ConformanceReport{}, nil, fmt.Errorf("%s: not a conformance report: %w", path, err)
	}
	if tm != (TypeMeta{APIVersion, ConformanceKind}) {
		return ConformanceReport{}, nil, fmt.Errorf("%s: format %q kind %q; this runner verifies kind %s of %s", path, tm.APIVersion, tm.Kind, ConformanceKind, APIVersion)
	}
	yaml.Unmarshal(data, &got) // it parsed above
	want, err := Conformance(filepath.Join(dir, JUnitFile))
	if err != nil {
		return want, nil, err
	}
	var wantDoc any
	data, _ = yaml.Marshal(want)
	yaml.Unmarshal(data, &wantDoc)
	var diffs []string
	differences("", wantDoc, got, &diffs)
	return want, diffs, nil
}

// differences lists where got differs from want, by path: lists of
// objects with a name or an id are matched by it ("groups[BATCH]"),
// other lists by index.
func differences(path string, want, got any, out *[]string) {
	switch w := want.(type) {
	case map[string]any:
		if g, ok := got.(map[string]any); ok {
			members(w, g, func(k string) string { return strings.TrimPrefix(path+"."+k, ".") }, out)
			return
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			break
		}
		if wk, gk := keyed(w), keyed(g); wk != nil && gk != nil {
			members(wk, gk, func(k string) string { return path + "[" + k + "]" }, out)
			return
		}
		if len(w) == len(g) {
			for i := range w {
				differences(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], out)
			}
			return
		}
	}
	if !reflect.DeepEqual(want, got) {
		*out = append(*out, fmt.Sprintf("%s: the report says %s; junit.xml gives %s", path, show(got), show(want)))
	}
}

// members compares two objects member by member, each named by name.
func members(want, got map[string]any, name func(string) string, out *[]string) {
	all := map[string]any{}
	maps.Copy(all, want)
	maps.Copy(all, got)
	for _, k := range slices.Sorted(maps.Keys(all)) {
		wv, inWant := want[k]
		gv, inGot := got[k]
		switch {
		case !inGot:
			*out = append(*out, fmt.Sprintf("%s: missing; junit.xml gives %s", name(k), show(wv)))
		case !inWant:
			*out = append(*out, fmt.Sprintf("%s: the report says %s, which junit.xml does not give", name(k), show(gv)))
		default:
			differences(name(k), wv, gv, out)
		}
	}
}

// keyed is a list of objects as a map by their name or id, or nil when
// not every element has one of its own.
func keyed(list []any) map[string]any {
	out := map[string]any{}
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil
		}
		k, ok := m["name"].(string)
		if !ok {
			if k, ok = m["id"].(string); !ok {
				return nil
			}
		}
		if _, dup := out[k]; dup {
			return nil
		}
		out[k] = e
	}
	return out
}

// show is a value as a difference line quotes it: one line, cut.
func show(v any) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := strings.Join(strings.Fields(string(bytes.TrimSpace(data))), " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
