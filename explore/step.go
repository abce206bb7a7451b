package explore

import (
	"bufio"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"pgregory.net/rapid"

	"github.com/attrconform/attrconform/contract/wire"
	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/judge"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/proxy"
	"github.com/attrconform/attrconform/target"
)

const (
	formType = "application/x-www-form-urlencoded"
	jsonType = "application/json"
)

// generate draws one request of the run's group.
func (x *explorer) generate(t *rapid.T) call {
	g := x.o.Group
	op := rapid.SampledFrom(g.Ops).Draw(t, "op")
	role := target.MainApp
	if len(x.roles) > 1 && rapid.IntRange(0, 3).Draw(t, "other-app") == 0 {
		role = rapid.SampledFrom(x.roles[1:]).Draw(t, "app")
	}
	ps := x.principals[role]
	p := ps[0]
	if rapid.IntRange(0, 9).Draw(t, "odd-principal") < g.OddPrincipal {
		p = rapid.SampledFrom(ps).Draw(t, "principal")
	}
	users := x.cfg.Apps[role].Users
	if role == model.NoSuchApp {
		users = x.cfg.Apps[target.MainApp].Users
	}
	req := model.Request{Principal: p.p, App: role, Op: op}
	if op == put || op == get || op == del {
		switch {
		case p.p.Kind == model.KindUser && p.p.App == role && rapid.Bool().Draw(t, "own-user"):
			req.User = p.p.User
		case rapid.IntRange(0, 9).Draw(t, "odd-name") < g.OddName:
			req.User, req.RawUser = name(t, users)
		default:
			req.User = rapid.SampledFrom(users).Draw(t, "user")
		}
	}
	switch op {
	case put:
		req.ContentType = formType
		switch rapid.IntRange(0, 9).Draw(t, "put-type") {
		case 0:
			req.ContentType, req.Body = jsonType, []byte(`{"nickname":"json"}`)
		case 1:
			req.ContentType = formType + "; charset=UTF-8"
		}
		if req.Body == nil {
			attrs, _ := x.state.Attributes(role, req.User)
			if rapid.IntRange(0, 9).Draw(t, "sized") < g.Sized {
				req.Body = []byte(sized(t, x.cfg, attrs))
			} else {
				req.Body = []byte(form(t))
			}
		}
		if x.couldCreate(req) {
			req.Op, req.Body, req.ContentType = get, nil, ""
		}
	case model.Other:
		var body string
		req.Verb, req.Route, body, req.ContentType = other(t, users, x.o.Disposable)
		req.Body = []byte(body)
	case batch:
		req.ContentType = rapid.SampledFrom([]string{jsonType, jsonType, jsonType + ";charset=UTF-8", formType}).Draw(t, "batch-type")
		req.Body = []byte(batchBody(t, users, x.cfg.BatchLimit))
	default:
		if rapid.IntRange(0, 7).Draw(t, "bodiless-type") == 0 {
			req.ContentType = jsonType // ignored on a request without a body (D-15)
		}
	}
	if x.faults && op != model.Other && rapid.IntRange(0, 19).Draw(t, "fault") == 0 {
		req.Fault = rapid.SampledFrom([]string{wire.FaultStore, wire.FaultOverload}).Draw(t, "fault-kind")
	}
	return call{req: req, auth: p.auth}
}

// couldCreate reports whether a PUT could create an account: an admin's
// write to a valid name no listed user has, where a target's profile lets
// it answer 200. Only a disposable target is sent those.
func (x *explorer) couldCreate(r model.Request) bool {
	return !x.o.Disposable && r.App != model.NoSuchApp && r.Principal.Kind == model.KindAdmin && r.Principal.App == r.App &&
		target.ValidUsername(r.User) && !x.listed(r.App, r.User) && slices.ContainsFunc(x.sides(), func(s *side) bool { return !pinned404(s.cfg.Profile) })
}

// Step is one exchange of a sequence: the request as the model reads it,
// and the exchange, the request as it was sent (Path from /{org}/{app})
// and the answer.
type Step struct {
	Request model.Request
	// Unlisted is the Authorization sent for a principal no app issued
	// (a made-up token, no secret), so that a replay sends the same one.
	Unlisted string
	evidence.Exchange
	// Problems are the model's findings, on the step that disagreed;
	// Allowed are the answers the documents allow it.
	Problems []model.Problem
	Allowed  []string
	// Old is OLD's exchange of the same request, when two targets are
	// compared (the step being NEW's).
	Old *Step
}

func (s Step) answer() model.Answer { return judge.Answer(s.Exchange) }

// String is the exchange on one line, bodies cut.
func (s Step) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s as %s", s.Method, s.Path, s.Request.Principal)
	if s.Request.Fault != "" {
		fmt.Fprintf(&b, " (fault hook: %s)", s.Request.Fault)
	}
	if s.Request.ContentType != "" {
		fmt.Fprintf(&b, " [%s]", s.Request.ContentType)
	}
	if s.RequestBody != "" {
		fmt.Fprintf(&b, " %s", show(s.RequestBody, 200))
	}
	fmt.Fprintf(&b, " -> %d %s", s.Status, show(s.ResponseBody, 300))
	return b.String()
}

func show(s string, n int) string {
	if !utf8.ValidString(s) {
		s = fmt.Sprintf("%q", s)
	}
	s = strings.ReplaceAll(s, "\n", `\n`)
	if len(s) > n {
		return s[:n] + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return s
}

// Disagreement is an answer the model does not allow, or a difference
// between two targets compared, with the sequence that led to it, shrunk.
type Disagreement struct {
	Seed  uint64
	Group string
	// Side is the target whose answer disagreed when two are compared,
	// OLD or NEW, and Where its base URL; "" when one target is explored.
	Side, Where string
	// Difference, when two targets are compared, is NEW's answer showing
	// another alternative than OLD's: no requirement broken (IDs is
	// empty), but not the same behaviour.
	Difference *Difference
	// Emptying are the requests that emptied the listed users
	// before the sequence; Setup those that followed before the generated
	// requests (capacity reads); Steps the generated requests, the last
	// one disagreeing. A disagreement before the generated requests is the
	// last of Emptying or Setup, and Steps is empty.
	Emptying, Setup, Steps []Step
	// Choices are the alternatives the target (Side; NEW for a
	// difference) showed in earlier sequences, which the model held it
	// to; Witnesses the exchanges that showed them.
	Choices   []model.Alternative
	Witnesses []Step
	// IDs are the requirements broken.
	IDs      []string
	Problems []model.Problem
	Allowed  []string
	// Flaky: rapid could not reproduce the failure (the target answered
	// the same sequence differently); the sequence is the one that failed.
	Flaky bool
	// Log is rapid's output, redacted.
	Log string
}

// disagreement is s's answer v, the last of the trace, as a report.
func (x *explorer) disagreement(s *side, v model.Verdict) *Disagreement {
	emptied, setup := x.emptied, x.setup
	if x.inSetup {
		setup = len(x.trace)
		if emptied == 0 {
			emptied = setup
		}
	}
	d := &Disagreement{Seed: x.o.Seed, Group: x.o.Group.Name, Side: s.name, Emptying: slices.Clone(x.trace[:emptied]), Setup: slices.Clone(x.trace[emptied:setup]),
		Steps: slices.Clone(x.trace[setup:]), Choices: slices.Clone(s.choices), IDs: v.Broken(), Problems: v.Problems, Allowed: v.Allowed}
	if s.name != "" {
		d.Where = s.env.Target.BaseURL
	}
	for _, c := range s.choices {
		d.Witnesses = append(d.Witnesses, s.witnesses[c.Choice])
	}
	return d
}

// difference is diff, found on the last request of the trace, as a
// report: NEW's verdict, with the answers both models allow.
func (x *explorer) difference(diff *Difference, old, cur model.Verdict) *Disagreement {
	cur.Problems = nil
	d := x.disagreement(x.side, cur)
	d.Where, d.Difference = "", diff
	for _, a := range old.Allowed {
		if !slices.Contains(d.Allowed, a) {
			d.Allowed = append(d.Allowed, a)
		}
	}
	return d
}

// Last is the step that disagreed (OLD's exchange when OLD did; NEW's,
// with OLD's in Old, for a difference).
func (d *Disagreement) Last() Step {
	all := d.record()
	last := all[len(all)-1]
	if d.Side == oldName {
		return *last.Old
	}
	return last
}

// Headline is the report's first line.
func (d *Disagreement) Headline() string {
	switch {
	case d.Difference != nil:
		diff := d.Difference
		choice := diff.Choice
		if div := diff.Divergence(); div != "" {
			choice += " (" + div + ")"
		}
		return fmt.Sprintf("DIFFERENCE between the targets: %s: OLD showed %s, NEW %s", choice, diff.Old, diff.New)
	case d.Side != "":
		return fmt.Sprintf("DISAGREEMENT of %s (%s) with the documents' model: %s", d.Side, d.Where, strings.Join(d.IDs, ", "))
	}
	return "DISAGREEMENT with the documents' model: " + strings.Join(d.IDs, ", ")
}

// record is what a replay sends: from the users known empty on (a target
// whose listed users are empty answers it alike), or, when the
// disagreement came while emptying them, the emptying.
func (d *Disagreement) record() []Step {
	if len(d.Setup)+len(d.Steps) == 0 {
		return d.Emptying
	}
	return append(slices.Clone(d.Setup), d.Steps...)
}

// Requests counts the requests of the minimal sequence, setup left out.
func (d *Disagreement) Requests() int { return len(d.Steps) }

// Report is the disagreement as users read it; redact removes secrets.
func (d *Disagreement) Report(redact func(string) string) string {
	var b strings.Builder
	last := d.Last()
	b.WriteString(d.Headline() + "\n")
	for _, p := range d.Problems {
		fmt.Fprintf(&b, "  - %s\n", p)
	}
	if diff := d.Difference; diff != nil {
		fmt.Fprintf(&b, "  OLD showed %s=%s by %s\n", diff.Choice, diff.Old, diff.OldWitness.brief())
		fmt.Fprintf(&b, "  NEW showed %s=%s by %s\n", diff.Choice, diff.New, diff.NewWitness.brief())
		b.WriteString("  both answers agree with the documents' model; NEW does not keep OLD's reading\n")
	}
	steps := d.Steps
	switch {
	case len(steps) > 0:
		fmt.Fprintf(&b, "  the minimal sequence (%d generated requests, after %d that emptied the listed users):\n", len(steps), len(d.Emptying))
		for i, s := range d.Setup {
			fmt.Fprintf(&b, "  %s\n", s.numbered(fmt.Sprintf("setup %d.", i+1)))
		}
	case len(d.Setup) > 0:
		b.WriteString("  after the listed users were emptied, before the generated requests:\n")
		steps = d.Setup
	default:
		b.WriteString("  while emptying the listed users before a sequence:\n")
		steps = d.Emptying
	}
	for i, s := range steps {
		fmt.Fprintf(&b, "  %s\n", s.numbered(fmt.Sprintf("%d.", i+1)))
	}
	if d.Difference == nil {
		fmt.Fprintf(&b, "  %s answered %d %s\n", cmp.Or(d.Side, "the target"), last.Status, show(last.ResponseBody, 600))
	}
	b.WriteString("  the documents allow:\n")
	for _, a := range d.Allowed {
		fmt.Fprintf(&b, "    - %s\n", a)
	}
	if diff := d.Difference; diff != nil {
		fmt.Fprintf(&b, "  the answers were judged on %s\n", strings.Join(diff.IDs, ", "))
	}
	fmt.Fprintf(&b, "  seed %d, group %s", d.Seed, d.Group)
	if d.Flaky {
		b.WriteString(" (rapid could not reproduce it: the target answered the same sequence differently)")
	}
	b.WriteString("\n")
	if len(d.Choices) > 0 {
		fmt.Fprintf(&b, "  alternatives %s showed in earlier sequences, and is held to:\n", cmp.Or(d.Side, "the target"))
		for i, c := range d.Choices {
			fmt.Fprintf(&b, "    - %s, shown by %s\n", c, d.Witnesses[i].brief())
		}
	}
	return redact(b.String())
}

// numbered is the exchange after its number; when two targets are
// compared, OLD's on one line and NEW's below.
func (s Step) numbered(n string) string {
	if s.Old == nil {
		return n + " " + s.String()
	}
	return fmt.Sprintf("%s OLD %s\n  %*s NEW %s", n, s.Old, len(n), "", s)
}

// brief is the exchange on one line, the answer's body cut short.
func (s Step) brief() string {
	return fmt.Sprintf("%s %s as %s -> %d %s", s.Method, s.Path, s.Request.Principal, s.Status, show(s.ResponseBody, 120))
}

// WriteRecord writes the sequence as a record file of runner proxy
// --record, which runner replay sends again to a target whose listed users
// are empty (a fresh bundled reference): from the users emptied on, setup
// included; no token in it, principals by kind and app role, bodies
// redacted.
func (d *Disagreement) WriteRecord(path string, t *target.Target, redact func(string) string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i, s := range d.record() {
		line, err := json.Marshal(record(i+1, s, t, redact))
		if err != nil {
			f.Close()
			return err
		}
		w.Write(append(line, '\n'))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func record(seq int, s Step, t *target.Target, redact func(string) string) proxy.Record {
	p := s.Request.Principal
	rec := proxy.Record{Seq: seq, Time: s.Sent, Method: s.Method, Path: redact(s.Path),
		Principal: judge.Principal{Kind: string(p.Kind), App: p.App, User: p.User},
		Org:       t.Org, RequestBody: body(s.RequestBody, redact), Status: s.Status, Body: body(s.ResponseBody, redact),
		Operation: string(s.Request.Op)}
	if a := t.AppByRole(s.Request.App); a != nil {
		rec.App, rec.AppRole = a.Name, s.Request.App
	}
	rec.RequestHeader = http.Header{"Accept": {jsonType}}
	if s.Request.ContentType != "" {
		rec.RequestHeader.Set("Content-Type", s.Request.ContentType)
	}
	if s.Request.Fault != "" {
		rec.RequestHeader.Set(wire.FaultHeader, s.Request.Fault)
	}
	if s.Unlisted != "" {
		rec.RequestHeader.Set("Authorization", s.Unlisted)
	}
	if ct := s.Header.Get("Content-Type"); ct != "" {
		rec.Header = http.Header{"Content-Type": {redact(ct)}}
	}
	return rec
}

func body(s string, redact func(string) string) proxy.Body {
	if utf8.ValidString(s) {
		return proxy.Body{Text: redact(s)}
	}
	return proxy.Body{Base64: base64.StdEncoding.EncodeToString([]byte(s))}
}
