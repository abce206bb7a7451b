package report

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/attrconform/attrconform/catalog"
)

// Baseline is a team's list of known failures of one target: requirement
// IDs whose FAIL verdict is accepted, each with the reason it is. It is a
// YAML (or JSON) file:
//
//	# baseline for chat.example.com
//	description: known deviations of chat.example.com (optional)
//	failures:
//	  - id: UA-BATCH-006
//	    reason: answers 403 for 101 targets; vendor ticket CHAT-1234
//	  - id: UA-CONC-002
//	    reason: 409 text differs, accepted until the next release
//
// Unknown keys, IDs outside the catalogue, an ID listed twice and an empty
// reason are errors: a baseline never accepts a failure by accident. A
// baseline is written by people; it may name its format (apiVersion:
// attrconform.dev/v2, kind: Baseline), which a reader then checks, and
// its keys read the same in either convention of the formats.
type Baseline struct {
	TypeMeta
	Description string          `json:"description,omitempty"`
	Failures    []BaselineEntry `json:"failures"`
}

// BaselineKind is the kind a baseline may name.
const BaselineKind = "Baseline"

// BaselineEntry is one accepted failure.
type BaselineEntry struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// Baseline statuses of a requirement.
const (
	// BaselineKnown: the requirement failed and the baseline accepts it.
	BaselineKnown = "known failure"
	// BaselineNew: the requirement failed and the baseline does not list it.
	BaselineNew = "new failure"
	// BaselineStale: the baseline lists the requirement but it passed.
	BaselineStale = "stale"
	// BaselineNotJudged: the baseline lists the requirement but this run
	// did not judge it (skipped, disabled, errored or not testable).
	BaselineNotJudged = "not judged"
)

// BaselineMark is what the baseline made of one requirement's verdict.
type BaselineMark struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// BaselineResult is the outcome of a baseline for a run.
type BaselineResult struct {
	File string `json:"file"`
	// Known are failed requirements the baseline accepts.
	Known []string `json:"known,omitempty"`
	// New are failures the baseline does not list: requirement IDs, or
	// "spec …" for a failed spec naming no catalogued requirement.
	New []string `json:"new,omitempty"`
	// Stale are baseline entries whose requirement passed.
	Stale []string `json:"stale,omitempty"`
	// NotJudged are baseline entries this run did not judge.
	NotJudged []string `json:"notJudged,omitempty"`
}

// LoadBaseline reads and checks a baseline file against the catalogue.
func LoadBaseline(path string, cat *catalog.Catalog) (*Baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	b, err := ParseBaseline(data, cat)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	return b, nil
}

// ParseBaseline decodes a baseline and checks every entry.
func ParseBaseline(data []byte, cat *catalog.Catalog) (*Baseline, error) {
	var b Baseline
	if err := yaml.UnmarshalStrict(data, &b); err != nil {
		return nil, err
	}
	if b.TypeMeta != (TypeMeta{}) && b.TypeMeta != (TypeMeta{APIVersion, BaselineKind}) {
		return nil, fmt.Errorf("format %q kind %q; this runner reads kind %s of %s, or a baseline naming no format", b.APIVersion, b.Kind, BaselineKind, APIVersion)
	}
	seen := map[string]bool{}
	for i, e := range b.Failures {
		where := fmt.Sprintf("failures[%d]", i)
		switch {
		case e.ID == "":
			return nil, fmt.Errorf("%s: id is missing", where)
		case !catalog.IDPattern.MatchString(e.ID):
			return nil, fmt.Errorf("%s: %q is not a requirement ID (like UA-BATCH-006)", where, e.ID)
		case seen[e.ID]:
			return nil, fmt.Errorf("%s: %s is listed twice", where, e.ID)
		case strings.TrimSpace(e.Reason) == "":
			return nil, fmt.Errorf("%s (%s): reason is missing; say why the failure is accepted", where, e.ID)
		}
		if cat != nil {
			if _, ok := cat.Get(e.ID); !ok {
				return nil, fmt.Errorf("%s: %s is not in the requirement catalogue", where, e.ID)
			}
		}
		seen[e.ID] = true
	}
	return &b, nil
}

// ApplyBaseline judges the run against b (read from file): every failed
// requirement is a known failure when b lists it and a new failure when
// not; every entry of b whose requirement passed is stale. ExitCode then
// follows the baseline.
func (s *Summary) ApplyBaseline(b *Baseline, file string) {
	res := &BaselineResult{File: file}
	listed := map[string]string{}
	for _, e := range b.Failures {
		listed[e.ID] = strings.TrimSpace(e.Reason)
	}
	catalogued := map[string]bool{}
	for i := range s.Requirements {
		r := &s.Requirements[i]
		catalogued[r.ID] = true
		reason, ok := listed[r.ID]
		switch {
		case r.Verdict == Fail && ok:
			r.Baseline = &BaselineMark{Status: BaselineKnown, Reason: reason}
			res.Known = append(res.Known, r.ID)
		case r.Verdict == Fail:
			r.Baseline = &BaselineMark{Status: BaselineNew}
			res.New = append(res.New, r.ID)
		case r.Verdict == Pass && ok:
			r.Baseline = &BaselineMark{Status: BaselineStale, Reason: reason}
			res.Stale = append(res.Stale, r.ID)
		case ok:
			r.Baseline = &BaselineMark{Status: BaselineNotJudged, Reason: reason}
			res.NotJudged = append(res.NotJudged, r.ID)
		}
	}
	for _, sp := range s.Specs {
		if sp.Verdict == Fail && !slices.ContainsFunc(sp.IDs, func(id string) bool { return catalogued[id] }) {
			res.New = append(res.New, "spec "+sp.Name)
		}
	}
	s.Baseline = res
}

// line is the baseline's verdict in one line.
func (b *BaselineResult) line() string {
	return fmt.Sprintf("Baseline %s: %d known failures accepted, %d new failures, %d stale entries, %d entries not judged by this run",
		b.File, len(b.Known), len(b.New), len(b.Stale), len(b.NotJudged))
}
