package history

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/attrconform/attrconform/contract"
	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/target"
)

// outcome is what became of an operation.
type outcome int

const (
	// answered: an answer the model judges (a 2xx or 4xx).
	answered outcome = iota
	// refused for the rate (429, or a 503 naming the limit): nothing changed.
	refused
	// unknown: a timeout, a lost connection, a 5xx, or an answer whose
	// envelope cannot be read; the operation may or may not have taken
	// effect.
	unknown
)

// op is one request of a history as it was recorded.
type op struct {
	client int
	node   string
	req    model.Request
	// call and ret are nanoseconds from the round's start; ret is
	// meaningless for an unknown outcome (in flight until the end).
	call, ret int64
	kind      outcome
	answer    model.Answer
	// why says what an unknown outcome was (the error, the status).
	why string
	// settled: a read of settle, sent once the burst was over; lost: the
	// target failed or did not answer (an unknown outcome that may still
	// take effect later).
	settled, lost bool
}

func (o op) read() bool { return o.req.Op == model.Get || o.req.Op == model.Batch }

// recorder is the state of one run.
type recorder struct {
	o     Options
	env   *framework.Env
	m     *model.Model
	users []string
	start time.Time
	// quiet is the model's state of the whole main app, stepped by the
	// requests sent while no burst runs (the capacity judged on it).
	quiet model.State
	res   Result
}

var admin = model.Principal{Kind: model.KindAdmin, App: target.MainApp}

// round records one history, checks it, and judges the capacity before
// and after its burst.
func (r *recorder) round(n int) error {
	ops, err := r.record(n)
	if err != nil {
		return err
	}
	h, illegal := r.check(n, ops, "")
	r.res.Histories = append(r.res.Histories, h)
	r.logf("history: round %d: %d requests, %d operations over %d users, %d overlapping writes, %d 409s, %d unknown: %s in %v\n",
		n, h.Requests, h.Operations, h.Partitions, h.Overlaps, h.Conflicts, h.Unknown, h.Result, h.CheckTime.Round(time.Microsecond))
	if illegal != nil {
		return r.control(n, ops, illegal)
	}
	lost := 0
	for _, o := range ops {
		if o.lost && !o.read() {
			lost++
		}
	}
	if lost > 0 {
		// A write whose answer was lost may still land later, in the next
		// round's history: stop here.
		r.res.Stopped = fmt.Sprintf("round %d had %d writes whose outcome is unknown (the target failed, timed out or dropped the connection)", n, lost)
	}
	return nil
}

// record records the history of round n, and judges the capacity before
// and after its burst.
func (r *recorder) record(n int) ([]op, error) {
	base := time.Now()
	clock := func() int64 { return int64(time.Since(base)) }
	var ops []op
	// Setup, one request at a time: every user emptied and given the same
	// four keys, so that the burst overwrites keys the users hold.
	for _, u := range r.users {
		for _, req := range []model.Request{
			{Principal: admin, App: target.MainApp, Op: model.Delete, User: u},
			put(u, framework.FormOf(baseAttrs)),
		} {
			o, err := r.send(r.env.Admin(), req, clock)
			if err != nil {
				return nil, err
			}
			o.client = r.o.Clients + len(r.env.Nodes()) // a row of its own in the visualization
			ops = append(ops, o)
			r.observe(req, o)
		}
	}
	if err := r.capacity(); err != nil {
		return nil, err
	}
	burst, err := r.burst(n, clock)
	if err != nil {
		return nil, err
	}
	ops = append(ops, burst...)
	reads, err := r.settle(clock)
	if err != nil {
		return nil, err
	}
	ops = append(ops, reads...)
	if err := r.empty(clock); err != nil {
		return nil, err
	}
	return ops, r.capacity()
}

// empty deletes the attributes of the round's users, stepping the quiet
// state.
func (r *recorder) empty(clock func() int64) error {
	for _, u := range r.users {
		req := model.Request{Principal: admin, App: target.MainApp, Op: model.Delete, User: u}
		o, err := r.send(r.env.Admin(), req, clock)
		if err != nil {
			return err
		}
		r.observe(req, o)
	}
	return nil
}

// control sends the operations of a history found not linearizable
// again, one at a time to one node, in the order they were sent and in
// the order they returned (the order the target served them, as near as
// a client can tell), and checks each replay: when both are answered as
// the documents say, the concurrency made the difference, a race
// (Result.Illegal); when not, the target breaks the documents without any
// race (Result.Sequential).
func (r *recorder) control(n int, ops []op, illegal *Illegal) error {
	orders := map[string]func(a, b op) int{
		"sent":     func(a, b op) int { return cmp.Compare(a.call, b.call) },
		"returned": func(a, b op) int { return cmp.Compare(a.ret, b.ret) },
	}
	var judged []string
	for _, name := range []string{"sent", "returned"} {
		ordered := slices.Clone(ops)
		slices.SortStableFunc(ordered, orders[name])
		base := time.Now()
		clock := func() int64 { return int64(time.Since(base)) }
		var again []op
		for _, o := range ordered {
			a, err := r.send(r.env.Admin(), o.req, clock)
			if err != nil {
				return err
			}
			a.client = o.client
			again = append(again, a)
		}
		if err := r.empty(clock); err != nil {
			return err
		}
		h, one := r.check(n, again, "-one-at-a-time-as-"+name)
		if one != nil {
			one.Text = fmt.Sprintf("Sent again one at a time to one node, in the order they %s, the same operations were not answered as the documents say either:\n%s", name, one.Text)
			if illegal.Visualization != "" {
				one.Text += "the concurrent history's " + visualization(illegal) + "\n"
			}
			r.res.Sequential = one
			return nil
		}
		judged = append(judged, fmt.Sprintf("in the order they %s: %s", name, h.Result))
	}
	illegal.Text += fmt.Sprintf("Sent again one at a time to one node (%s), the same operations were answered as the documents say: the concurrency made the difference.\n", strings.Join(judged, "; "))
	r.res.Illegal = illegal
	return nil
}

// baseAttrs are what the setup gives every user of a round.
var baseAttrs = map[string]string{"k0": "base", "k1": "base", "k2": "base", "k3": "base"}

// burst sends the clients' generated operations at once and records them.
func (r *recorder) burst(n int, clock func() int64) ([]op, error) {
	plans := r.plan(n)
	var all []framework.Request
	for _, p := range plans {
		for _, req := range p {
			all = append(all, wire(req))
		}
	}
	caller, err := r.env.Admin().Prepay(all)
	if err != nil {
		return nil, fmt.Errorf("history: taking the burst's share of the request budget: %s", r.env.Redactor.Redact(err.Error()))
	}
	out := make([][]op, len(plans))
	errs := make([]error, len(plans))
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i, p := range plans {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			c := caller.On(i)
			// The first request opens the client's connection before the
			// barrier, so that the others leave together.
			first, err := r.send(c, p[0], clock)
			out[i], errs[i] = append(out[i], first), err
			ready.Done()
			<-start
			for _, req := range p[1:] {
				if errs[i] != nil {
					return
				}
				o, err := r.send(c, req, clock)
				out[i], errs[i] = append(out[i], o), err
			}
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	var ops []op
	for i := range out {
		for j := range out[i] {
			out[i][j].client = i
		}
		ops = append(ops, out[i]...)
	}
	return ops, errors.Join(errs...)
}

// settle reads every user of the round on every node once the burst is
// over. A node may take up to framework.StaleWindow to show what another
// acknowledged: while the nodes disagree, the reads are repeated, and the
// last ones are recorded.
func (r *recorder) settle(clock func() int64) ([]op, error) {
	nodes := r.env.Nodes()
	deadline := time.Now().Add(framework.StaleWindow)
	for {
		var ops []op
		agree := true
		for _, u := range r.users {
			var first []byte
			for i := range nodes {
				req := model.Request{Principal: admin, App: target.MainApp, Op: model.Get, User: u}
				o, err := r.send(r.env.Admin().On(i), req, clock)
				if err != nil {
					return nil, err
				}
				o.client, o.settled = r.o.Clients+i, true
				ops = append(ops, o)
				if i == 0 {
					first = o.answer.Body
				}
				agree = agree && o.kind == answered && sameData(first, o.answer.Body)
			}
		}
		if agree || len(nodes) == 1 || time.Now().After(deadline) {
			return ops, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// send sends one request through c and records it. Its error is a harness
// failure: a generated request the contract refuses, the budget spent.
func (r *recorder) send(c framework.Caller, req model.Request, clock func() int64) (op, error) {
	w := wire(req)
	o := op{node: c.Node(), req: req, call: clock()}
	resp, err := c.Send(w.Method, w.Path, w.Body, w.ContentType)
	o.ret = clock()
	var v *contract.Violation
	switch {
	case errors.As(err, &v) && v.Side == "response":
		// The contract's specs judge the answer; here it is unknown.
		r.res.Unreadable++
		o.answer = model.Answer{Status: v.Status, Header: v.Header, Body: v.Body}
		o.kind, o.why = unknown, r.env.Redactor.Redact(fmt.Sprintf("answered %d, which breaks openapi.yaml: %s", v.Status, v.Finding))
		return o, nil
	case errors.As(err, &v), errors.Is(err, framework.ErrBudget):
		return o, fmt.Errorf("history: %s %s: %s", w.Method, w.Path, r.env.Redactor.Redact(err.Error()))
	case err != nil:
		o.kind, o.lost, o.why = unknown, true, r.env.Redactor.Redact(err.Error())
		return o, nil
	}
	o.answer = model.Answer{Status: resp.Status, Header: resp.Header, Body: []byte(resp.ResponseBody)}
	switch {
	case resp.Status == http.StatusTooManyRequests || (resp.Status == http.StatusServiceUnavailable && !framework.Unavailable(resp)):
		o.kind = refused
	case resp.Status >= 500:
		o.kind, o.lost, o.why = unknown, true, fmt.Sprintf("answered %d", resp.Status)
	case len(model.Envelope(o.answer)) > 0:
		// Times left out, the envelope is judged by its units only: an
		// answer that fails even that is the envelope rules' to judge.
		r.res.Unreadable++
		o.kind, o.why = unknown, fmt.Sprintf("answered %d with an envelope the model cannot read", resp.Status)
	}
	return o, nil
}

// wire is the request as the framework sends it.
func wire(req model.Request) framework.Request {
	return framework.Request{Method: req.Method(), Path: req.Path(), Body: string(req.Body), ContentType: req.ContentType}
}

// observe steps the quiet state with a request sent while no burst runs;
// an answer it does not allow leaves the state unknown until learn reads
// the users again (the history's check judges that answer).
func (r *recorder) observe(req model.Request, o op) {
	if o.kind != answered {
		r.quiet = r.m.Init()
		return
	}
	next, v := r.m.Observe(r.quiet, req, o.answer)
	if !v.OK() {
		r.quiet = r.m.Init()
		return
	}
	r.quiet = next
}

// learn reads every listed user of the main app into the quiet state, so
// that a capacity read can be judged by the data it sums.
func (r *recorder) learn() error {
	for _, u := range r.env.Target.Users {
		req := model.Request{Principal: admin, App: target.MainApp, Op: model.Get, User: u.Name}
		o, err := r.send(r.env.Admin(), req, func() int64 { return 0 })
		if err != nil {
			return err
		}
		r.observe(req, o)
	}
	return nil
}

// capacity reads the app's capacity on every node while traffic is quiet
// and judges each answer by the model: the sum of the data it follows.
// Nodes that disagree are read again for up to framework.StaleWindow.
// The users are read first: one that does not hold what the quiet state
// says (a DELETE that kept a key) is the business of the specs of those
// rules; the state learns it again, so that the capacity is judged by the
// data there is.
func (r *recorder) capacity() error {
	if err := r.learn(); err != nil {
		return err
	}
	for _, u := range r.env.Target.Users {
		if _, known := r.quiet.Attributes(target.MainApp, u.Name); !known {
			r.quiet = r.m.Init()
			if err := r.learn(); err != nil {
				return err
			}
			break
		}
	}
	req := model.Request{Principal: admin, App: target.MainApp, Op: model.Capacity}
	nodes := r.env.Nodes()
	deadline := time.Now().Add(framework.StaleWindow)
	for {
		var answers []op
		agree := true
		for i := range nodes {
			o, err := r.send(r.env.Admin().On(i), req, func() int64 { return 0 })
			if err != nil {
				return err
			}
			answers = append(answers, o)
			agree = agree && o.kind == answered && sameData(answers[0].answer.Body, o.answer.Body)
		}
		if !agree && len(nodes) > 1 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		for _, o := range answers {
			if o.kind != answered {
				continue
			}
			next, v := r.m.Observe(r.quiet, req, o.answer)
			r.res.CapacityReads++
			if !v.OK() {
				r.res.Capacity = append(r.res.Capacity, Disagreement{Exchange: r.env.Redactor.Redact(fmt.Sprintf("GET %s on %s -> %d %s", req.Path(), o.node, o.answer.Status, cut(o.answer.Body, 300))),
					IDs: v.Broken(), Problems: v.Problems, Allowed: v.Allowed})
				continue
			}
			r.quiet = next
		}
		return nil
	}
}

func (r *recorder) logf(format string, a ...any) {
	if r.o.Log != nil {
		fmt.Fprint(r.o.Log, r.env.Redactor.Redact(fmt.Sprintf(format, a...)))
	}
}

// sameData reports whether two answers carry the same data.
func sameData(a, b []byte) bool {
	var x, y struct {
		Data any `json:"data"`
	}
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x.Data, y.Data)
}

func cut(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + fmt.Sprintf("… (%d bytes)", len(b))
	}
	return string(b)
}
