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
	"strconv"
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
	// allow several.
	Choices []model.Alternative
	// Notes say what else happened: worlds dropped to bound the state,
	// data created on a generated name and deleted again.
	Notes []string
	// Disagreement is the first answer the model did not allow, shrunk;
	// nil when the target agreed with the model throughout.
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
	cfg, err := model.ConfigOf(o.Env.Target, o.Exclusive)
	if err != nil {
		return Result{}, err
	}
	x := newExplorer(o, cfg)
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
		return x.res, fmt.Errorf("explore: the explorer itself failed (a bug of the harness, not of the target):\n%s", o.Env.Redactor.Redact(t.log()))
	case t.Failed():
		d := x.last
		d.Log = o.Env.Redactor.Redact(t.log())
		d.Flaky = strings.Contains(d.Log, "flaky test")
		x.res.Disagreement = d
		x.logf("explore: DISAGREEMENT %s after %d sequences (seed %d)\n", strings.Join(d.IDs, ", "), x.res.Sequences, o.Seed)
	}
	if !t.Failed() {
		x.choices = mergeChoices(x.choices, x.state.Choices())
	}
	x.res.Choices = x.choices
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

// explorer is the state of one run.
type explorer struct {
	o     Options
	env   *framework.Env
	m     *model.Model
	cfg   model.Config
	roles []string // the apps explored, main first
	// principals are the tokens to send, per app role addressed.
	principals map[string][]principal
	// faults: the target has fault hooks and opted in to them.
	faults bool
	start  time.Time
	// failed: a disagreement was found; rapid now reproduces and shrinks
	// it, outside the step and time bounds.
	failed  bool
	harness error
	// choices are the alternatives the target showed in earlier sequences,
	// which every sequence holds it to, each with the exchange that showed
	// it (its witness).
	choices   []model.Alternative
	witnesses map[string]Step
	// the sequence running: the model's state and what was sent.
	state model.State
	trace []Step
	// emptied and setup are where in trace the users were known empty and
	// where the generated requests start; inSetup while before the latter.
	emptied, setup int
	inSetup        bool
	last           *Disagreement
	res            Result
}

// principal is a token to send and who the model takes it for.
type principal struct {
	p    model.Principal
	auth string
}

func newExplorer(o Options, cfg model.Config) *explorer {
	x := &explorer{o: o, env: o.Env, m: model.New(cfg), cfg: cfg, start: time.Now(), principals: map[string][]principal{}, witnesses: map[string]Step{},
		res: Result{Seed: o.Seed, Group: o.Group.Name, Exercised: map[string]int{}}}
	t := o.Env.Target
	x.faults = t.FaultHooks && t.OptedIn(target.OptInHooks)
	for _, role := range t.Roles() {
		if role == "rate_limited" {
			continue // its low budget is for the rate-limit specs
		}
		if role == target.MainApp || slices.Contains(o.Group.Apps, role) {
			x.roles = append(x.roles, role)
		}
	}
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
	return x
}

func (x *explorer) logf(format string, a ...any) {
	if x.o.Log != nil {
		fmt.Fprint(x.o.Log, x.env.Redactor.Redact(fmt.Sprintf(format, a...)))
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
		x.choices = mergeChoices(x.choices, x.state.Choices())
	}
	x.state = x.m.Init(x.choices...)
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
	x.state, x.emptied = x.m.Empty(x.choices...), len(x.trace)
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

// do sends a request, judges the answer with the model and moves the
// model's state on; a disagreement ends the sequence.
func (x *explorer) do(t *rapid.T, c call) {
	s, finding, err := x.send(c)
	x.res.Requests++
	if err != nil {
		x.harness = fmt.Errorf("explore: %s: %s", c.req, x.env.Redactor.Redact(err.Error()))
		runtime.Goexit()
	}
	next, v := x.m.Observe(x.state, c.req, s.answer())
	if finding != "" {
		ids := []string{"UA-ERR-001"}
		if s.Status == http.StatusOK {
			ids = []string{"UA-GEN-003"}
		}
		v.Problems = append(v.Problems, model.Problem{IDs: ids, Text: "the answer breaks openapi.yaml: " + finding})
	}
	s.Problems, s.Allowed = v.Problems, v.Allowed
	x.trace = append(x.trace, s)
	created := c.req.Op == model.Put && s.Status == http.StatusOK && !x.listed(c.req.App, c.req.User)
	if !v.OK() {
		if created {
			x.remove(c.req.App, c.req.User)
		}
		x.last, x.failed = x.disagreement(v), true
		// The message is the same whenever the same request gets the same
		// status, so that rapid recognises the failure while it shrinks.
		t.Fatalf("the target's answer disagrees with the model: %s -> %d", c.req.Op, s.Status)
	}
	x.state = next
	for _, a := range v.Seen {
		if _, ok := x.witnesses[a.Choice]; !ok && !x.failed {
			x.witnesses[a.Choice] = s
		}
	}
	if v.Dropped > 0 {
		x.note(fmt.Sprintf("the model kept %d possible states and dropped %d more (model.MaxWorlds)", model.MaxWorlds, v.Dropped))
	}
	if !x.failed {
		for _, id := range v.IDs {
			x.res.Exercised[id]++
		}
	}
	if created {
		// Allowed (an admin's write may create the account), but the
		// name must not keep data: delete it, judged like any request.
		x.note(fmt.Sprintf("a write to %q, a name without an account, was answered 200; its data was deleted", c.req.User))
		admin := x.principals[c.req.App][0]
		x.do(t, call{req: model.Request{Principal: admin.p, App: c.req.App, Op: model.Delete, User: c.req.User}, auth: admin.auth})
	}
}

func (x *explorer) note(n string) {
	if !slices.Contains(x.res.Notes, n) {
		x.res.Notes = append(x.res.Notes, n)
	}
}

// remove deletes a generated name's data a faulty answer created.
func (x *explorer) remove(role, name string) {
	admin := x.principals[role][0]
	x.caller(call{req: model.Request{App: role}, auth: admin.auth}).Send(http.MethodDelete, model.Request{Op: model.Delete, User: name}.Path(), "", "")
	x.note(fmt.Sprintf("a write to %q, a name without an account, was answered 200; its data was deleted", name))
}

// listed reports whether name is a listed user of app role.
func (x *explorer) listed(role, name string) bool {
	return slices.ContainsFunc(x.cfg.Apps[role].Users, func(u string) bool { return target.FoldName(u) == target.FoldName(name) })
}

// caller is the framework's client for a call: its app, its token.
func (x *explorer) caller(c call) framework.Caller {
	var cl framework.Caller
	if c.req.App == model.NoSuchApp {
		cl = x.env.Admin().At(x.env.Target.Org, noSuchApp)
	} else {
		cl = x.env.AdminOf(x.env.Target.AppByRole(c.req.App))
	}
	if c.req.Fault != "" {
		cl = cl.WithFault(c.req.Fault)
	}
	if c.auth == "" {
		return cl.WithoutToken()
	}
	return cl.WithAuthorization(c.auth)
}

// rateLimited reports whether an answer refuses a request for the rate:
// 429, or a 503 naming the limit.
func rateLimited(r *framework.Response) bool {
	return r.Status == http.StatusTooManyRequests || (r.Status == http.StatusServiceUnavailable && !framework.Unavailable(r))
}

// retryAfter is the pause an answer asks for, at most 2 s.
func retryAfter(r *framework.Response) time.Duration {
	if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err == nil && n >= 0 {
		return min(time.Duration(n)*time.Second, 2*time.Second)
	}
	return 200 * time.Millisecond
}

// fullPath is the path of app role's requests: /{org}/{app}.
func (x *explorer) fullPath(role string) string {
	app := noSuchApp
	if a := x.env.Target.AppByRole(role); a != nil {
		app = a.Name
	}
	return "/" + url.PathEscape(x.env.Target.Org) + "/" + url.PathEscape(app)
}

// send sends a call through the framework and returns the exchange, and
// the contract's finding when the answer breaks openapi.yaml. A request
// the generator drew off the contract is sent as such (the contract
// judges its answer only).
func (x *explorer) send(c call) (Step, string, error) {
	cl := x.caller(c)
	method, path, body, ct := c.req.Method(), c.req.Path(), string(c.req.Body), c.req.ContentType
	start := time.Now()
	r, err := cl.Send(method, path, body, ct)
	var v *contract.Violation
	if errors.As(err, &v) && v.Side == "request" {
		cl = cl.OffContract("a generated request off the contract: " + v.Finding)
		start = time.Now()
		r, err = cl.Send(method, path, body, ct)
	}
	// A request asking for a fault leaves outside the budget (framework
	// WithFault): a refusal for the rate is waited out as the budget
	// would, never judged.
	for retry := 0; c.req.Fault != "" && err == nil && rateLimited(r) && retry < 3; retry++ {
		time.Sleep(retryAfter(r))
		start = time.Now()
		r, err = cl.Send(method, path, body, ct)
	}
	end := time.Now()
	s := Step{Request: c.req, Exchange: evidence.Exchange{Method: method, Path: x.fullPath(c.req.App) + path, RequestBody: body, Sent: start, Received: end}}
	if c.req.Principal.Kind == model.KindUnknown {
		s.Unlisted = c.auth
	}
	switch {
	case errors.As(err, &v) && v.Side == "response":
		s.Status, s.Header, s.ResponseBody = v.Status, v.Header, string(v.Body)
		return s, v.Finding, nil
	case err != nil:
		return s, "", err
	case c.req.Fault == "" && framework.Unavailable(r): // a 503 asked for is an answer to judge
		return s, "", fmt.Errorf("the target is unavailable: %s", r)
	}
	s.Status, s.Header, s.ResponseBody = r.Status, r.Header, r.ResponseBody
	if !r.Started.IsZero() {
		s.Sent = r.Started // the server's clock starts after this, whatever it measures
	}
	return s, "", nil
}
