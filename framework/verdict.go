package framework

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega/format"
	"github.com/onsi/gomega/types"

	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/profile"
)

// Req labels a spec with the requirement IDs it checks.
func Req(ids ...string) Labels { return Label(ids...) }

// Labels of concerns that decide where a spec may run.
const (
	// LabelBurst marks specs that send bursts on purpose (races, rate limits).
	LabelBurst = "burst"
	// LabelExtraApp marks specs that need an extra app of the target.
	LabelExtraApp = "extra-app"
)

// Saw records that the target answered with alternative alt of knob k, and
// fails the spec when the profile pins another one.
func (e *Env) Saw(k profile.Knob, alt string, r *Response) {
	GinkgoHelper()
	a := evidence.Alternative{Knob: k, Observed: alt, Allowed: e.Profile.Allowed(k)}
	AddReportEntry(evidence.EntryAlternative, a, ReportEntryVisibilityFailureOrVerbose)
	if !e.Profile.Accepts(k, alt) {
		d, _ := profile.Lookup(k)
		Failf("%s (%s): the target chose %q but profile %s accepts only %s\n  exchange: %s",
			k, d.Divergence, alt, e.Profile.Name, strings.Join(a.Allowed, " or "), r)
	}
}

// Note records what a spec observed or how it tested (e.g. "margin mode")
// in the reports; the console shows it only for failures or with -v.
func Note(name, value string) {
	AddReportEntry(name, value, ReportEntryVisibilityFailureOrVerbose)
}

// HaveStatus succeeds when the response has one of the given statuses; its
// failure message shows the whole exchange.
func HaveStatus(codes ...int) types.GomegaMatcher { return &statusMatcher{codes} }

type statusMatcher struct{ codes []int }

func (m *statusMatcher) Match(actual any) (bool, error) {
	r, ok := actual.(*Response)
	if !ok {
		return false, fmt.Errorf("HaveStatus expects a *framework.Response, got %T", actual)
	}
	for _, c := range m.codes {
		if r.Status == c {
			return true, nil
		}
	}
	return false, nil
}

func (m *statusMatcher) FailureMessage(actual any) string {
	return fmt.Sprintf("expected status %s, got:\n  %s", codes(m.codes), actual)
}

func (m *statusMatcher) NegatedFailureMessage(actual any) string {
	return fmt.Sprintf("expected a status other than %s, got:\n  %s", codes(m.codes), actual)
}

func codes(c []int) string {
	s := make([]string, len(c))
	for i, v := range c {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, " or ")
}

func init() {
	// Responses print as one redacted line, not as a struct dump.
	format.RegisterCustomFormatter(func(v any) (string, bool) {
		if r, ok := v.(*Response); ok {
			return r.String(), true
		}
		return "", false
	})
}
