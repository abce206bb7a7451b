package report

import (
	"slices"
	"strings"
	"time"

	attrconform "github.com/attrconform/attrconform"
	"github.com/attrconform/attrconform/target"
)

// A conformance report is the verdict a vendor publishes, in the spirit
// of the Gateway API's and Kubernetes' conformance submissions: who
// stands behind the implementation, what judged it (suite, contract,
// profile), and per requirement group of the catalogue its result, its
// counts and why what was not judged was not. It is computed from the
// run's junit.xml alone, so that `runner verify-report` can compute it
// again and tell an edited report apart.

// Run is what a suite run judged with, beside its verdicts.
type Run struct {
	SuiteVersion   string
	ContractSHA256 string
	// CatalogSHA256 names the catalogue that grouped the verdicts; a
	// runner with another cannot recompute the report.
	CatalogSHA256 string
	// Profile is the profile's name, Knobs the target's overrides of it.
	Profile        string
	Knobs          map[string]string
	LabelFilter    string
	Implementation target.Implementation
	Date           time.Time
}

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
