// Package judge holds the rules that judge one exchange of the
// user-attributes API on its own, as a proxy sees a real client's traffic:
// the contract (openapi.yaml, through package contract), the envelopes,
// the documented statuses, the size limits the target declares, the batch
// cap, authorisation where the token proves it, and the error texts the
// target's profile allows. Each rule names the requirement of
// fixtures/requirements.yaml it checks, and judges only what the one
// exchange proves: a PUT over the per-user limit answered 200 is a
// violation; a PUT that reaches the limit only with attributes stored
// earlier is invisible here, and left to the suite.
package judge

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/attrconform/attrconform/contract"
	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/redact"
	"github.com/attrconform/attrconform/target"
)

// maxProblem bounds what a finding says, quotes of the target's words
// included.
const maxProblem = 2048

// Judge applies the rules for one target: its limits, metrics, profile
// and tokens.
type Judge struct {
	target   *target.Target
	contract *contract.Contract
	profile  profile.Profile
	// statuses are the documented statuses of each operation.
	statuses map[string][]int
	// basePath is the path of the target's base URL, before /{org}/{app}.
	basePath string
	redact   func(string) string
}

// New is a judge of exchanges with t, validated against c (bound to t's
// base URL). redact removes secrets from every problem it states.
func New(t *target.Target, c *contract.Contract, redact func(string) string) (*Judge, error) {
	p, err := t.ResolveProfile()
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(t.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("base_url: %w", err)
	}
	j := &Judge{target: t, contract: c, profile: p, statuses: map[string][]int{},
		basePath: strings.TrimSuffix(base.EscapedPath(), "/"), redact: redact}
	for _, op := range c.Operations() {
		j.statuses[op.ID] = op.Statuses
	}
	return j, nil
}

// Profile is the profile the judge holds the target to.
func (j *Judge) Profile() profile.Profile { return j.profile }

// Verdict is what the rules make of one exchange.
type Verdict struct {
	// Operation is the contract's operation, "" when none matches.
	Operation string
	Principal Principal
	// Outside: the exchange does not address the API (nothing under
	// /{org}/{app}/metadata/user/) and was not judged.
	Outside bool
	// Held are the requirements the exchange was judged on and kept.
	Held []string
	// Violations has one finding per violated requirement, by ID.
	Violations []evidence.Finding
	// Contract is the contract's own finding, when it is among the
	// Violations: no rule named what is wrong more precisely. The suite's
	// transport leaves it out, because there the contract fails the spec
	// that received the exchange.
	Contract *evidence.Finding
	// Alternatives are the profile alternatives the answer showed, per
	// requirement, as reports print them.
	Alternatives map[string][]string
	// ClientFinding is what the contract finds wrong with the request
	// itself: the client's doing, reported but not held against the
	// target, whose answer is then judged as for an off-contract request.
	ClientFinding string
}

// Judge applies every rule to x, an exchange with the target: its URL is
// on the target's base URL. An exchange whose request cannot be rebuilt
// from it (its URL or method) is outside the API, and not judged.
func (j *Judge) Judge(x evidence.Exchange) Verdict {
	checked, err := j.contract.Check(x, j.redact)
	if err != nil {
		return Verdict{Principal: j.principal(x), Outside: true}
	}
	return j.Checked(x, checked)
}

// Checked applies every rule to x, which the contract already checked
// (contract.Transport gives both to its Observe).
func (j *Judge) Checked(x evidence.Exchange, checked contract.Checked) Verdict {
	s := j.read(x)
	v := &verdict{profile: j.profile, held: map[string]bool{}, bad: map[string][]string{}, alts: map[string][]string{}}
	out := Verdict{Principal: s.principal}
	if !s.api {
		out.Outside = true
		return out
	}
	s.op, s.checked = model.Op(checked.Operation), checked
	out.Operation = string(s.op)
	if checked.Request != nil {
		out.ClientFinding = oneLine(checked.Request.Finding)
	}
	for _, r := range rules {
		r(j, s, v)
	}
	fallback := v.fallback != nil && len(v.bad) == 0
	if f := v.fallback; fallback {
		v.fail(f.Requirement, "%s", f.Problem)
	} else if f != nil {
		delete(v.held, f.Requirement) // broken, though not reported twice
	}
	for id := range v.held {
		if _, failed := v.bad[id]; !failed {
			out.Held = append(out.Held, id)
		}
	}
	sort.Strings(out.Held)
	for id, problems := range v.bad {
		out.Violations = append(out.Violations, evidence.Finding{Requirement: id, Problem: redact.Shorten(j.redact(strings.Join(problems, "; ")), maxProblem)})
	}
	sort.Slice(out.Violations, func(a, b int) bool { return out.Violations[a].Requirement < out.Violations[b].Requirement })
	if fallback {
		out.Contract = &out.Violations[0] // the only one
	}
	if len(v.alts) > 0 {
		out.Alternatives = v.alts
	}
	return out
}

// seen is an exchange with what the rules ask of it worked out once.
type seen struct {
	evidence.Exchange
	api       bool
	op        model.Op
	checked   contract.Checked
	principal Principal
	// pathApp is the role of the app the path names, "" when the path
	// names none of the target's apps.
	pathApp string
	// user is the decoded {username} segment, "" when there is none.
	user string
	// answer is the answer as the model judges one. An error answer is
	// read further: obj is it as a JSON object, nil when it is not one,
	// text its human text (model.Reason).
	answer model.Answer
	obj    map[string]json.RawMessage
	text   string
}

func (j *Judge) principal(x evidence.Exchange) Principal {
	return Identify(j.target, x.RequestHeader.Get("Authorization"))
}

func (j *Judge) read(x evidence.Exchange) *seen {
	s := &seen{Exchange: x, principal: j.principal(x)}
	u, err := url.Parse(x.URL)
	if err != nil {
		return s
	}
	path := strings.TrimPrefix(u.EscapedPath(), j.basePath)
	seg := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(seg) < 4 || seg[2] != "metadata" || seg[3] != "user" {
		return s
	}
	s.api = true
	org, _ := url.PathUnescape(seg[0])
	app, _ := url.PathUnescape(seg[1])
	if org == j.target.Org {
		for _, role := range j.target.Roles() {
			if j.target.AppByRole(role).Name == app {
				s.pathApp = role
			}
		}
	}
	if len(seg) == 5 {
		s.user, _ = url.PathUnescape(seg[4])
	}
	s.answer = Answer(x)
	if x.Status >= 400 && !x.ResponseCut && json.Unmarshal(s.answer.Body, &s.obj) == nil {
		s.text = model.Reason(s.answer)
	}
	return s
}

// str is a top-level string member of the answer, "" when absent.
func (s *seen) str(name string) string {
	var v string
	json.Unmarshal(s.obj[name], &v)
	return v
}

// verdict collects what the rules find in one exchange.
type verdict struct {
	profile profile.Profile
	held    map[string]bool
	bad     map[string][]string
	alts    map[string][]string
	// fallback is the contract's finding, kept when no rule names what is
	// wrong more precisely: a success with an error member breaks the
	// schema too, and is reported once, as UA-GEN-005.
	fallback *evidence.Finding
}

// ok records that requirements were judged and held.
func (v *verdict) ok(ids ...string) {
	for _, id := range ids {
		v.held[id] = true
	}
}

// fail records a violation of requirement id.
func (v *verdict) fail(id, format string, a ...any) {
	v.bad[id] = append(v.bad[id], fmt.Sprintf(format, a...))
}

// otherwise records the contract's finding, a violation of id unless a
// rule finds the problem itself.
func (v *verdict) otherwise(id, format string, a ...any) {
	if v.fallback == nil {
		v.fallback = &evidence.Finding{Requirement: id, Problem: fmt.Sprintf(format, a...)}
	}
}

// saw records that the answer showed alternative alt of knob k, for
// requirement id, and fails id when the profile does not accept it.
func (v *verdict) saw(id string, k profile.Knob, alt string) {
	a := evidence.Alternative{Knob: k, Observed: alt, Allowed: v.profile.Allowed(k)}
	if !slices.Contains(v.alts[id], a.String()) {
		v.alts[id] = append(v.alts[id], a.String())
	}
	if !v.profile.Accepts(k, alt) {
		d, _ := profile.Lookup(k)
		v.fail(id, "%s (%s): the target chose %q but profile %s accepts only %s", k, d.Divergence, alt, v.profile.Name, strings.Join(a.Allowed, " or "))
		return
	}
	v.ok(id)
}

// Answer is x's answer as the model judges one.
func Answer(x evidence.Exchange) model.Answer {
	return model.Answer{Status: x.Status, Header: x.Header, Body: []byte(x.ResponseBody), Sent: x.Sent, Received: x.Received}
}

// oneLine makes a finding printable on one line, cut to a readable length
// and without the schema kin-openapi appends (openapi.yaml has it).
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, " Schema: "); i > 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
