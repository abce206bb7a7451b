// Package explore drives a target with generated sequences of requests
// and holds every answer to the model of the documents (package model):
// rapid (pgregory.net/rapid) draws the sequences from recorded choices,
// so that a disagreement shrinks to a minimal sequence, reported with the
// answers the documents allow, the target's answer, the requirements
// broken, the seed, and a record file `runner replay` sends again.
//
// Requests go through the framework's client (the request budget per app
// and operation, Retry-After honoured, every exchange validated against
// openapi.yaml, tokens redacted). Only the listed users are written;
// generated names (zz-conform-…) are addressed only where an answer
// cannot create data, unless the target is disposable (the bundled
// reference). Each sequence starts by emptying the listed users.
package explore

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/attrconform/attrconform/contract"
	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/target"
)

// Options say what to explore and for how long.
type Options struct {
	Env *framework.Env
	// Seed makes the run reproducible against a deterministic target; 0
	// draws one (Result.Seed says which).
	Seed uint64
	// Steps bounds the generated requests (not counting the requests that
	// empty users between sequences, nor the shrinking; default 1000);
	// Time bounds the exploration's wall time (default a minute). The
	// first bound reached ends it.
	Steps int
	Time  time.Duration
	// StepsPerSequence is the mean length of one sequence (default 30).
	StepsPerSequence int
	// ShrinkTime bounds the time spent shrinking a disagreement (default 20 s).
	ShrinkTime time.Duration
	// Group weights the requests towards one requirement group (default All).
	Group Group
	// Exclusive: nothing else writes to the target's apps during the run,
	// so capacity values are judged exactly.
	Exclusive bool
	// Disposable: the target's data does not matter (the bundled
	// reference), so an admin may write names without an account even
	// where the documents let the write create one.
	Disposable bool
	// Log receives a line per disagreement; nil: none.
	Log io.Writer
	// Old, when set, is a second target to compare Env's with (OLD, Env
	// being NEW): every request goes to OLD, then to NEW, each held to the
	// model, and NEW to the alternatives OLD showed (compare.go). It must
	// have Env's shape (SameShape). OldExclusive is Exclusive for OLD.
	Old          *framework.Env
	OldExclusive bool
}

// Result is what an exploration found.
type Result struct {
	Seed      uint64
	Group     string
	Sequences int
	// Steps counts the generated requests sent; Requests every request.
	Steps, Requests int
	// Exercised counts, per requirement, the answers judged on it.
	Exercised map[string]int
	// Choices are the alternatives the target showed where the documents
	// allow several; OldChoices those OLD showed, when comparing.
	Choices, OldChoices []model.Alternative
	// Notes say what else happened: worlds dropped to bound the state,
	// data created on a generated name and deleted again.
	Notes []string
	// Disagreement is the first answer the model did not allow, or the
	// first difference between two targets compared, shrunk; nil when the
	// target agreed with the model throughout.
	Disagreement *Disagreement
	Elapsed      time.Duration
}

// Defaults of Options.
const (
	DefaultStepsPerSequence = 30
	DefaultShrinkTime       = 20 * time.Second
)

// noSuchApp is the app name of requests to an app the target does not have.
const noSuchApp = "nosuchapp-conform"

// rapid's configuration is process-wide (its flags): one exploration at a time.
var running sync.Mutex

// Run explores the target of o.Env. Its error is a harness failure (the
// target stopped answering, the budget ran out); a disagreement is not an
// error but Result.Disagreement.
func Run(o Options) (Result, error) {
	running.Lock()
	defer running.Unlock()
	if o.Env == nil {
		return Result{}, errors.New("explore: no environment")
	}
	if o.Seed == 0 {
		o.Seed = NewSeed()
	}
	if o.StepsPerSequence <= 0 {
		o.StepsPerSequence = DefaultStepsPerSequence
	}
	if o.ShrinkTime <= 0 {
		o.ShrinkTime = DefaultShrinkTime
	}
	if o.Steps <= 0 {
		o.Steps = 1000
	}
	if o.Time <= 0 {
		o.Time = time.Minute
	}
	if o.Group.Name == "" {
		o.Group = All
	}
	x, err := newExplorer(o)
	if err != nil {
		return Result{}, err
	}
	checks := o.Steps/o.StepsPerSequence*2 + 2
	if err := configureRapid(o.Seed, checks, o.StepsPerSequence, o.ShrinkTime); err != nil {
		return Result{}, err
	}
	t := &bufferTB{name: "explore-" + o.Group.Name}
	done := make(chan struct{})
	go func() {
		defer close(done)
		rapid.Check(t, x.sequence)
	}()
	<-done
	x.res.Elapsed = time.Since(x.start)
	switch {
	case x.harness != nil:
		return x.res, x.harness
	case t.Failed() && x.last == nil:
		return x.res, fmt.Errorf("explore: the explorer itself failed (a bug of the harness, not of the target):\n%s", x.redact(t.log()))
	case t.Failed():
		d := x.last
		d.Log = x.redact(t.log())
		d.Flaky = strings.Contains(d.Log, "flaky test")
		x.res.Disagreement = d
		x.logf("explore: %s after %d sequences (seed %d)\n", d.Headline(), x.res.Sequences, o.Seed)
	}
	for _, s := range x.sides() {
		if !t.Failed() {
			s.choices = mergeChoices(s.choices, s.state.Choices())
		}
	}
	x.res.Choices = x.choices
	if x.old != nil {
		x.res.OldChoices = x.old.choices
	}
	return x.res, nil
}

// NewSeed draws a seed for a run.
func NewSeed() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])>>1 | 1
}

// configureRapid sets rapid's process-wide flags for one run: the seed,
// the number and mean length of sequences, the time spent shrinking, and
// no fail files (rapid would write them into the working directory).
func configureRapid(seed uint64, checks, steps int, shrink time.Duration) error {
	if !testing.Testing() && !flag.Parsed() {
		// rapid asks testing.Short(), which needs the testing flags parsed.
		testing.Init()
		if err := flag.CommandLine.Parse(nil); err != nil {
			return err
		}
	}
	for name, value := range map[string]string{
		"rapid.seed": fmt.Sprint(seed), "rapid.checks": fmt.Sprint(checks), "rapid.steps": fmt.Sprint(steps),
		"rapid.shrinktime": shrink.String(), "rapid.nofailfile": "true", "rapid.failfile": "",
		"rapid.v": "false", "rapid.log": "false", "rapid.debug": "false",
	} {
		if err := flag.Set(name, value); err != nil {
			return fmt.Errorf("explore: setting %s: %w", name, err)
		}
	}
	return nil
}

// bufferTB is the rapid.TB of a run: it keeps rapid's output (bounded)
// for the report instead of printing it, and stops rapid's goroutine on
// FailNow, as testing.T does.
type bufferTB struct {
	mu     sync.Mutex
	buf    strings.Builder
	failed bool
	name   string
}

// maxLog bounds what is kept of rapid's output.
const maxLog = 64 << 10

func (b *bufferTB) logf(format string, a ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() < maxLog {
		b.buf.WriteString(fmt.Sprintf(format, a...) + "\n")
	}
}

func (b *bufferTB) log() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *bufferTB) Helper()                        {}
func (b *bufferTB) Name() string                   { return b.name }
func (b *bufferTB) Logf(format string, a ...any)   { b.logf(format, a...) }
func (b *bufferTB) Log(a ...any)                   { b.logf("%s", fmt.Sprint(a...)) }
func (b *bufferTB) Skipf(format string, a ...any)  { b.logf(format, a...); b.SkipNow() }
func (b *bufferTB) Skip(a ...any)                  { b.Log(a...); b.SkipNow() }
func (b *bufferTB) SkipNow()                       { runtime.Goexit() }
func (b *bufferTB) Errorf(format string, a ...any) { b.logf(format, a...); b.Fail() }
func (b *bufferTB) Error(a ...any)                 { b.Log(a...); b.Fail() }
func (b *bufferTB) Fatalf(format string, a ...any) { b.Errorf(format, a...); b.FailNow() }
func (b *bufferTB) Fatal(a ...any)                 { b.Error(a...); b.FailNow() }
func (b *bufferTB) FailNow()                       { b.Fail(); runtime.Goexit() }
func (b *bufferTB) Failed() bool                   { b.mu.Lock(); defer b.mu.Unlock(); return b.failed }
func (b *bufferTB) Fail()                          { b.mu.Lock(); b.failed = true; b.mu.Unlock() }

var _ rapid.TB = (*bufferTB)(nil)

// explorer is the state of one run: the target explored (its side) and,
// when comparing, OLD's.
type explorer struct {
	*side
	old   *side
	o     Options
	roles []string // the apps explored, main first
	// principals are the tokens to send, per app role addressed.
	principals map[string][]principal
	// faults: the targets have fault hooks and opted in to them.
	faults bool
	start  time.Time
	// failed: a disagreement was found; rapid now reproduces and shrinks
	// it, outside the step and time bounds.
	failed  bool
	harness error
	// the sequence running: what was sent.
	trace []Step
	// emptied and setup are where in trace the users were known empty and
	// where the generated requests start; inSetup while before the latter.
	emptied, setup int
	inSetup        bool
	last           *Disagreement
	res            Result
}

// side is one target of a run with the model judging it.
type side struct {
	name string // OLD or NEW when comparing, else ""
	env  *framework.Env
	m    *model.Model
	cfg  model.Config
	// auth is the Authorization header of each of the target's principals.
	auth map[model.Principal]string
	// choices are the alternatives the target showed in earlier sequences,
	// which every sequence holds it to, each with the exchange that showed
	// it (its witness); shown are the witnesses of the sequence running.
	choices          []model.Alternative
	witnesses, shown map[string]Step
	// state is the model's state of the sequence running.
	state model.State
}

func newSide(name string, env *framework.Env, exclusive bool) (*side, error) {
	cfg, err := model.ConfigOf(env.Target, exclusive)
	if err != nil {
		return nil, err
	}
	s := &side{name: name, env: env, m: model.New(cfg), cfg: cfg, auth: map[model.Principal]string{}, witnesses: map[string]Step{}}
	for _, p := range principalsOf(env.Target) {
		s.auth[p.p] = p.auth
	}
	return s, nil
}

// witness is the exchange that showed the alternative of a choice: in the
// sequence running, else in an earlier one.
func (s *side) witness(choice string) Step {
	if w, ok := s.shown[choice]; ok {
		return w
	}
	return s.witnesses[choice]
}

// principal is a token to send and who the model takes it for.
type principal struct {
	p    model.Principal
	auth string
}

// principalsOf lists the target's admin and user tokens, app by app.
func principalsOf(t *target.Target) []principal {
	var all []principal
	for _, role := range t.Roles() {
		a := t.AppByRole(role)
		all = append(all, principal{model.Principal{Kind: model.KindAdmin, App: role}, "Bearer " + a.AdminToken})
		for _, u := range a.Users {
			if u.Token != "" {
				all = append(all, principal{model.Principal{Kind: model.KindUser, App: role, User: u.Name}, "Bearer " + u.Token})
			}
		}
	}
	return all
}

func newExplorer(o Options) (*explorer, error) {
	cur, err := newSide("", o.Env, o.Exclusive)
	if err != nil {
		return nil, err
	}
	x := &explorer{side: cur, o: o, start: time.Now(), principals: map[string][]principal{},
		res: Result{Seed: o.Seed, Group: o.Group.Name, Exercised: map[string]int{}}}
	t := o.Env.Target
	x.faults = t.FaultHooks && t.OptedIn(target.OptInHooks)
	if o.Old != nil {
		if err := SameShape(o.Old.Target, t); err != nil {
			return nil, fmt.Errorf("explore: %w", err)
		}
		if x.old, err = newSide(oldName, o.Old, o.OldExclusive); err != nil {
			return nil, err
		}
		x.name = newName
		old := o.Old.Target
		x.faults = x.faults && old.FaultHooks && old.OptedIn(target.OptInHooks)
		// Each side's messages and reports redact the other's secrets too.
		o.Env.Redactor.Add(old.Secrets()...)
		o.Old.Redactor.Add(t.Secrets()...)
	}
	for _, role := range t.Roles() {
		if role == "rate_limited" {
			continue // its low budget is for the rate-limit specs
		}
		if role == target.MainApp || slices.Contains(o.Group.Apps, role) {
			x.roles = append(x.roles, role)
		}
	}
	all := principalsOf(t)
	// Per app: its own tokens (its admin first), the others', none, bad
	// ones. An app the target does not have is addressed with the main
	// app's admin token first.
	for _, role := range append(slices.Clone(x.roles), model.NoSuchApp) {
		var own, foreign []principal
		for _, p := range all {
			if p.p.App == role {
				own = append(own, p)
			} else {
				foreign = append(foreign, p)
			}
		}
		x.principals[role] = append(own, append(foreign,
			principal{model.Principal{Kind: model.KindNone}, ""},
			principal{model.Principal{Kind: model.KindUnknown}, "Bearer " + garbledToken},
			principal{model.Principal{Kind: model.KindUnknown}, "Bearer " + neverIssued})...)
	}
	if slices.Contains(o.Group.Apps, model.NoSuchApp) {
		x.roles = append(x.roles, model.NoSuchApp)
	}
	return x, nil
}

// sides are the targets a request goes to, in order: OLD when comparing,
// then the target explored.
func (x *explorer) sides() []*side {
	if x.old == nil {
		return []*side{x.side}
	}
	return []*side{x.old, x.side}
}

// redact removes the secrets of the targets (each environment's redactor
// knows both when comparing).
func (x *explorer) redact(s string) string { return x.env.Redactor.Redact(s) }

func (x *explorer) logf(format string, a ...any) {
	if x.o.Log != nil {
		fmt.Fprint(x.o.Log, x.redact(fmt.Sprintf(format, a...)))
	}
}

// spent reports whether the exploration's bounds are reached.
func (x *explorer) spent() bool {
	return !x.failed && (x.res.Steps >= x.o.Steps || time.Since(x.start) >= x.o.Time)
}

// sequence is rapid's property: one sequence of generated requests from
// emptied users.
func (x *explorer) sequence(t *rapid.T) {
	if x.spent() {
		return
	}
	if !x.failed {
		x.res.Sequences++
	}
	for _, s := range x.sides() {
		if !x.failed {
			s.choices = mergeChoices(s.choices, s.state.Choices())
		}
		s.state, s.shown = s.m.Init(s.choices...), map[string]Step{}
	}
	x.trace, x.emptied, x.setup, x.inSetup = nil, 0, 0, true
	x.empty(t)
	x.setup, x.inSetup = len(x.trace), false
	t.Repeat(map[string]func(*rapid.T){"request": x.step})
}

func mergeChoices(have, more []model.Alternative) []model.Alternative {
	for _, a := range more {
		if !slices.ContainsFunc(have, func(h model.Alternative) bool { return h.Choice == a.Choice }) {
			have = append(have, a)
		}
	}
	return have
}

// empty deletes the attributes of every listed user of the apps explored,
// so that the sequence starts from known, empty users whatever the
// previous one left (a DELETE that leaves something shows in the
// sequence's first read); then it reads the capacity of apps with a quota
// of their own, for its base. Deletes rather than reads: the reads'
// budget is the one the suite spends most.
func (x *explorer) empty(t *rapid.T) {
	for _, role := range x.roles {
		if role == model.NoSuchApp || x.cfg.Apps[role].Disabled {
			continue
		}
		admin := x.principals[role][0]
		for _, u := range x.cfg.Apps[role].Users {
			x.do(t, call{req: model.Request{Principal: admin.p, App: role, Op: model.Delete, User: u}, auth: admin.auth})
		}
	}
	// What the setup learned of the users is the same whatever it found.
	for _, s := range x.sides() {
		s.state = s.m.Empty(s.choices...)
	}
	x.emptied = len(x.trace)
	for _, role := range x.roles {
		if ac := x.cfg.Apps[role]; role != model.NoSuchApp && !ac.Disabled && ac.Quota < model.DefaultAppBytes {
			admin := x.principals[role][0]
			x.do(t, call{req: model.Request{Principal: admin.p, App: role, Op: model.Capacity}, auth: admin.auth})
		}
	}
}

// step is rapid's action: one generated request.
func (x *explorer) step(t *rapid.T) {
	if x.spent() {
		return
	}
	c := x.generate(t)
	if !x.failed {
		x.res.Steps++
	}
	x.do(t, c)
}

// do sends a request to each side, judges each answer with its model and
// moves the models' states on; a disagreement, or a difference between
// the sides, ends the sequence.
func (x *explorer) do(t *rapid.T, c call) {
	x.res.Requests++
	var answers []answered
	for _, s := range x.sides() {
		a, err := s.answer(c)
		if err != nil {
			x.harness = fmt.Errorf("explore: %s%s: %s", s.label(), c.req, x.redact(err.Error()))
			runtime.Goexit()
		}
		answers = append(answers, a)
	}
	cur := answers[len(answers)-1]
	if x.old != nil {
		cur.step.Old = &answers[0].step
	}
	x.trace = append(x.trace, cur.step)
	for _, a := range answers {
		if a.v.OK() {
			continue
		}
		for _, b := range answers {
			if b.created {
				b.side.remove(c.req.App, c.req.User)
				x.note(fmt.Sprintf("a write to %q, a name without an account, was answered 200; its data was deleted", c.req.User))
			}
		}
		x.last, x.failed = x.disagreement(a.side, a.v), true
		// The message is the same whenever the same request gets the same
		// status, so that rapid recognises the failure while it shrinks.
		t.Fatalf("the %sanswer disagrees with the model: %s -> %d", a.side.label(), c.req.Op, a.step.Status)
	}
	var seen []model.Alternative
	for _, a := range answers {
		s := a.side
		s.state = a.next
		seen = append(seen, a.v.Seen...)
		for _, alt := range a.v.Seen {
			s.shown[alt.Choice] = a.step
			if _, ok := s.witnesses[alt.Choice]; !ok && !x.failed {
				s.witnesses[alt.Choice] = a.step
			}
		}
		if a.v.Dropped > 0 {
			x.note(fmt.Sprintf("the model kept %d possible states and dropped %d more (model.MaxWorlds)", model.MaxWorlds, a.v.Dropped))
		}
	}
	if x.old != nil {
		if diff := x.differ(seen, cur.v.IDs); diff != nil {
			x.last, x.failed = x.difference(diff, answers[0].v, cur.v), true
			t.Fatalf("the targets differ on an alternative: %s -> OLD %d, NEW %d", c.req.Op, answers[0].step.Status, cur.step.Status)
		}
	}
	if !x.failed {
		for _, id := range cur.v.IDs {
			x.res.Exercised[id]++
		}
	}
	if slices.ContainsFunc(answers, func(a answered) bool { return a.created }) {
		// Allowed (an admin's write may create the account), but the
		// name must not keep data: delete it, judged like any request.
		x.note(fmt.Sprintf("a write to %q, a name without an account, was answered 200; its data was deleted", c.req.User))
		admin := x.principals[c.req.App][0]
		x.do(t, call{req: model.Request{Principal: admin.p, App: c.req.App, Op: model.Delete, User: c.req.User}, auth: admin.auth})
	}
}

// answered is one side's answer to a request, judged.
type answered struct {
	side *side
	step Step
	v    model.Verdict
	next model.State
	// created: a PUT to a name no listed user has was answered 200.
	created bool
}

// answer sends a call to the side's target and judges the answer with its
// model, in the state of the sequence running.
func (s *side) answer(c call) (answered, error) {
	step, finding, err := s.send(c)
	if err != nil {
		return answered{}, err
	}
	next, v := s.m.Observe(s.state, c.req, step.answer())
	if finding != "" {
		ids := []string{"UA-ERR-001"}
		if step.Status == http.StatusOK {
			ids = []string{"UA-GEN-003"}
		}
		v.Problems = append(v.Problems, model.Problem{IDs: ids, Text: "the answer breaks openapi.yaml: " + finding})
	}
	step.Problems, step.Allowed = v.Problems, v.Allowed
	created := c.req.Op == model.Put && step.Status == http.StatusOK && !s.listed(c.req.App, c.req.User)
	return answered{side: s, step: step, v: v, next: next, created: created}, nil
}

// label names the side in messages: "OLD " or "NEW ", or nothing when a
// single target is explored.
func (s *side) label() string {
	if s.name == "" {
		return ""
	}
	return s.name + " "
}

func (x *explorer) note(n string) {
	if !slices.Contains(x.res.Notes, n) {
		x.res.Notes = append(x.res.Notes, n)
	}
}

// remove deletes a generated name's data a faulty answer created.
func (s *side) remove(role, name string) {
	admin := model.Principal{Kind: model.KindAdmin, App: role}
	s.caller(call{req: model.Request{Principal: admin, App: role}}).Send(http.MethodDelete, model.Request{Op: model.Delete, User: name}.Path(), "", "")
}

// listed reports whether name is a listed user of app role.
func (s *side) listed(role, name string) bool {
	return slices.ContainsFunc(s.cfg.Apps[role].Users, func(u string) bool { return target.FoldName(u) == target.FoldName(name) })
}

// caller is the framework's client for a call: its app, and the token of
// its principal on this side (tokens no app issued are sent as drawn).
func (s *side) caller(c call) framework.Caller {
	var cl framework.Caller
	if c.req.App == model.NoSuchApp {
		cl = s.env.Admin().At(s.env.Target.Org, noSuchApp)
	} else {
		cl = s.env.AdminOf(s.env.Target.AppByRole(c.req.App))
	}
	if c.req.Fault != "" {
		cl = cl.WithFault(c.req.Fault)
	}
	auth := c.auth
	if a, ok := s.auth[c.req.Principal]; ok {
		auth = a
	}
	if auth == "" {
		return cl.WithoutToken()
	}
	return cl.WithAuthorization(auth)
}

// fullPath is the path of app role's requests: /{org}/{app}.
func (s *side) fullPath(role string) string {
	app := noSuchApp
	if a := s.env.Target.AppByRole(role); a != nil {
		app = a.Name
	}
	return "/" + url.PathEscape(s.env.Target.Org) + "/" + url.PathEscape(app)
}

// send sends a call through the framework and returns the exchange, and
// the contract's finding when the answer breaks openapi.yaml. A request
// the generator drew off the contract is sent as such (the contract
// judges its answer only).
func (s *side) send(c call) (Step, string, error) {
	cl := s.caller(c)
	method, path, body, ct := c.req.Method(), c.req.Path(), string(c.req.Body), c.req.ContentType
	start := time.Now()
	r, err := cl.Send(method, path, body, ct)
	var v *contract.Violation
	if errors.As(err, &v) && v.Side == "request" {
		cl = cl.OffContract("a generated request off the contract: " + v.Finding)
		start = time.Now()
		r, err = cl.Send(method, path, body, ct)
	}
	end := time.Now()
	st := Step{Request: c.req, Exchange: evidence.Exchange{Method: method, Path: s.fullPath(c.req.App) + path, RequestBody: body, Sent: start, Received: end}}
	if c.req.Principal.Kind == model.KindUnknown {
		st.Unlisted = c.auth
	}
	switch {
	case errors.As(err, &v) && v.Side == "response":
		st.Status, st.Header, st.ResponseBody = v.Status, v.Header, string(v.Body)
		return st, v.Finding, nil
	case err != nil:
		return st, "", err
	case c.req.Fault == "" && framework.Unavailable(r): // a 503 asked for is an answer to judge
		return st, "", fmt.Errorf("the target is unavailable: %s", r)
	}
	st.Status, st.Header, st.ResponseBody = r.Status, r.Header, r.ResponseBody
	if !r.Started.IsZero() {
		st.Sent = r.Started // the server's clock starts after this, whatever it measures
	}
	return st, "", nil
}
