package report

import (
	"slices"
	"strings"
	"testing"

	"github.com/attrconform/attrconform/catalog"
)

func testCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestParseBaselineRefusesWhatCouldAcceptByAccident(t *testing.T) {
	cat := testCatalog(t)
	for _, c := range []struct{ yaml, want string }{
		{"failures:\n  - {id: UA-BATCH-006, reason: vendor ticket 12}\n", ""},
		{"description: d\nfailures: []\n", ""},
		{"apiVersion: attrconform.dev/v2\nkind: Baseline\nfailures: []\n", ""},
		{"apiVersion: attrconform.dev/v3\nkind: Baseline\nfailures: []\n", `format "attrconform.dev/v3" kind "Baseline"; this runner reads kind Baseline of attrconform.dev/v2, or a baseline naming no format`},
		{"kind: RequirementsReport\nfailures: []\n", `kind "RequirementsReport"; this runner reads kind Baseline`},
		{"failures:\n  - {id: UA-BATCH-006, reason: r, note: x}\n", `unknown field "note"`},
		{"failure:\n  - {id: UA-BATCH-006, reason: r}\n", `unknown field "failure"`},
		{"failures:\n  - {reason: r}\n", "failures[0]: id is missing"},
		{"failures:\n  - {id: batch-006, reason: r}\n", `"batch-006" is not a requirement ID`},
		{"failures:\n  - {id: UA-BATCH-999, reason: r}\n", "UA-BATCH-999 is not in the requirement catalogue"},
		{"failures:\n  - {id: UA-BATCH-006, reason: r}\n  - {id: UA-BATCH-006, reason: s}\n", "failures[1]: UA-BATCH-006 is listed twice"},
		{"failures:\n  - {id: UA-BATCH-006, reason: '  '}\n", "reason is missing"},
	} {
		_, err := ParseBaseline([]byte(c.yaml), cat)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.yaml, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: error %v, want one containing %q", c.yaml, err, c.want)
		}
	}
}

func TestApplyBaseline(t *testing.T) {
	onlyFailures := func(s Summary) Summary { s.Errored = 0; return s }
	base := func(ids ...string) *Baseline {
		b := &Baseline{}
		for _, id := range ids {
			b.Failures = append(b.Failures, BaselineEntry{ID: id, Reason: "known: " + id})
		}
		return b
	}
	cases := []struct {
		name                     string
		baseline                 *Baseline
		known, new, stale, other []string
		code                     int
	}{
		{"every failure known", base("UA-BATCH-006"), []string{"UA-BATCH-006"}, nil, nil, nil, 0},
		{"a failure outside the baseline", base(), nil, []string{"UA-BATCH-006"}, nil, nil, 1},
		{"an entry that passes now", base("UA-BATCH-006", "UA-DEL-001"), []string{"UA-BATCH-006"}, nil, []string{"UA-DEL-001"}, nil, 1},
		{"entries this run did not judge", base("UA-BATCH-006", "UA-AUTH-008", "UA-RATE-002", "UA-GEN-010"), []string{"UA-BATCH-006"}, nil, nil, []string{"UA-AUTH-008", "UA-RATE-002", "UA-GEN-010"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := onlyFailures(sample())
			s.ApplyBaseline(c.baseline, "baseline.yaml")
			b := s.Baseline
			if !slices.Equal(b.Known, c.known) || !slices.Equal(b.New, c.new) || !slices.Equal(b.Stale, c.stale) || !slices.Equal(b.NotJudged, c.other) {
				t.Fatalf("known %v new %v stale %v not judged %v", b.Known, b.New, b.Stale, b.NotJudged)
			}
			if s.ExitCode() != c.code {
				t.Fatalf("exit %d, want %d", s.ExitCode(), c.code)
			}
		})
	}
	s := onlyFailures(sample())
	s.ApplyBaseline(base("UA-BATCH-006"), "b.yaml")
	if m := requirementOf(s, "UA-BATCH-006").Baseline; m == nil || m.Status != BaselineKnown || m.Reason != "known: UA-BATCH-006" {
		t.Fatalf("UA-BATCH-006 marked %+v", m)
	}
	// A harness error is never accepted: the target was not judged.
	s = sample()
	s.ApplyBaseline(base("UA-BATCH-006", "UA-CONC-001"), "b.yaml")
	if s.ExitCode() != 2 {
		t.Fatalf("exit %d with a harness error, want 2", s.ExitCode())
	}
}

func TestApplyBaselineCountsFailedSpecsWithoutARequirement(t *testing.T) {
	s := Summary{Passed: 1, Failed: 1, Specs: []Spec{{Name: "orphan", Verdict: Fail}}}
	s.ApplyBaseline(&Baseline{}, "b.yaml")
	if !slices.Equal(s.Baseline.New, []string{"spec orphan"}) || s.ExitCode() != 1 {
		t.Fatalf("new %v exit %d", s.Baseline.New, s.ExitCode())
	}
}

func requirementOf(s Summary, id string) Requirement {
	for _, r := range s.Requirements {
		if r.ID == id {
			return r
		}
	}
	return Requirement{}
}
