package report

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/attrconform/attrconform/target"
)

func TestGroupResults(t *testing.T) {
	for _, c := range []struct {
		counts Counts
		want   Result
	}{
		{Counts{Passed: 3, NotTestable: 1}, ResultSuccess},
		{Counts{Passed: 3, Skipped: 1}, ResultPartial},
		{Counts{Passed: 3, Disabled: 1}, ResultPartial},
		{Counts{Passed: 3, Failed: 1, Errored: 1}, ResultFailure},
		{Counts{Passed: 3, Errored: 1, Skipped: 1}, ResultError},
		{Counts{Skipped: 1, Disabled: 2}, ResultNotJudged},
		{Counts{NotTestable: 2}, ResultNotJudged},
	} {
		if got := c.counts.result(); got != c.want {
			t.Errorf("%+v: %s, want %s", c.counts, got, c.want)
		}
	}
}

// sampleRun is what the sample run judged with.
func sampleRun() Run {
	return Run{SuiteVersion: "0.1.0+abc", ContractSHA256: "5ab5", CatalogSHA256: CatalogHash(), Profile: "current",
		Knobs: map[string]string{"get_unknown_user": "404"}, LabelFilter: "!burst",
		Implementation: target.Implementation{Organization: "Acme Inc.", Project: "chat-api", Version: "v3.2.0", Contact: "api@acme.example"},
		Date:           time.Date(2026, 11, 22, 20, 28, 33, 0, time.UTC)}
}

// Requirements group by the catalogue's groups, each with its result,
// counts and the reasons of what did not pass; the run's result is the
// same rule over every group.
func TestBuildConformanceSumsUpEachGroup(t *testing.T) {
	s := sample()
	s.Specs = []Spec{{Name: "auth spec", IDs: []string{"UA-AUTH-008"}, Verdict: Skip, Reason: "the target lists fewer than two user tokens"}}
	c := BuildConformance(s, sampleRun())
	if c.APIVersion != APIVersion || c.Kind != ConformanceKind || c.Implementation.Version != "v3.2.0" || c.Profile.Knobs["get_unknown_user"] != "404" ||
		c.Date != "2026-11-22T20:28:33Z" || c.LabelFilter != "!burst" || c.SuiteVersion != "0.1.0+abc" {
		t.Errorf("header: %+v", c)
	}
	var names []string
	byName := map[string]GroupResult{}
	for _, g := range c.Groups {
		names = append(names, g.Name)
		byName[g.Name] = g
	}
	if got := strings.Join(names, " "); got != "GEN BATCH CONC AUTH RATE DEL" {
		t.Errorf("groups %q, want them in the order of the requirements", got)
	}
	for name, want := range map[string]GroupResult{
		"GEN":   {Result: ResultSuccess, Counts: Counts{Passed: 1, NotTestable: 1}},
		"BATCH": {Result: ResultFailure, Counts: Counts{Failed: 1}, Failed: []Outcome{{"UA-BATCH-006", "batch refuses 101 targets: expected status 400 or 403, got 200"}}},
		"CONC":  {Result: ResultError, Counts: Counts{Errored: 1}, Errored: []Outcome{{"UA-CONC-001", "race: the request budget ran out"}}},
		"AUTH":  {Result: ResultNotJudged, Counts: Counts{Skipped: 1}, Skipped: []Outcome{{"UA-AUTH-008", "the target lists fewer than two user tokens"}}},
		"RATE":  {Result: ResultNotJudged, Counts: Counts{Disabled: 1}, Disabled: []Outcome{{"UA-RATE-002", "not selected by the label filter"}}},
		"DEL":   {Result: ResultSuccess, Counts: Counts{Passed: 1}},
	} {
		want.Name = name
		if got := byName[name]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v\nwant %+v", name, got, want)
		}
	}
	if want := (Counts{Passed: 2, Failed: 1, Errored: 1, Skipped: 1, Disabled: 1, NotTestable: 1}); c.Result != ResultFailure || c.Counts != want {
		t.Errorf("run: %s %+v, want failure %+v", c.Result, c.Counts, want)
	}
	s.SetupFailure = "BeforeSuite: the target is unreachable"
	if c := BuildConformance(s, sampleRun()); c.Result != ResultError || c.SetupFailure == "" {
		t.Errorf("a setup failure: %s %q", c.Result, c.SetupFailure)
	}
}
