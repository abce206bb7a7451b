package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/target"
)

// event is one operation as porcupine checks it: a request addressed to
// one user (a batch read narrowed to it) and its outcome.
type event struct {
	user string // folded
	// sent is the request as sent, req as judged (a batch read narrowed
	// to the user); answer is narrowed alike; why says what an unknown
	// outcome was.
	sent, req model.Request
	kind      outcome
	answer    model.Answer
	why       string
	// write: a PUT or a DELETE; read: a GET or a batch read, settled when
	// settle sent it.
	write, read, settled bool
	// justified: a 409 answered while another write was in flight; it
	// changed nothing (UA-CONC-001). A 409 with nothing else in flight is
	// judged by the model, which allows none. others: a 409 while writes
	// to other users were in flight and none to its own (UA-CONC-004).
	justified, others bool
	text              string
}

// Illegal is a history that is not linearizable.
type Illegal struct {
	Round int
	User  string
	// IDs are the requirements the model names for the answers that could
	// not come next.
	IDs  []string
	Text string
	// Visualization is the path of porcupine's HTML visualization, ""
	// when it could not be written (Text says why).
	Visualization string
}

// userState is porcupine's state: the model's state of one user, with
// its key computed once (porcupine compares states often).
type userState struct {
	user string // "" before the first step of a partition
	s    model.State
	key  string
}

// checker steps the model for porcupine. Its step is pure: it returns
// new states and never changes the one it was given.
type checker struct{ m *model.Model }

func (c checker) state(user string, s model.State) userState {
	return userState{user: user, s: s, key: s.Key()}
}

func (c checker) step(st userState, ev *event) (bool, userState) {
	if st.user == "" {
		// Attributes unknown until the round's setup empties the user.
		st = c.state(ev.user, c.m.UserState(target.MainApp, ev.user, nil))
	}
	switch {
	case ev.kind == refused, ev.justified:
		return true, st
	case ev.kind == unknown:
		return true, c.state(st.user, c.m.Unanswered(st.s, ev.req))
	}
	next, v := c.m.Observe(st.s, ev.req, ev.answer)
	if !v.OK() {
		return false, st
	}
	return true, c.state(st.user, next)
}

func (c checker) model(users []string) porcupine.Model {
	return porcupine.Model{
		Partition: func(h []porcupine.Operation) [][]porcupine.Operation { return partition(h, users) },
		Init:      func() any { return userState{} },
		Step: func(state, input, _ any) (bool, any) {
			return c.step(state.(userState), input.(*event))
		},
		Equal: func(a, b any) bool {
			x, y := a.(userState), b.(userState)
			return x.user == y.user && x.key == y.key
		},
		Hash: func(s any) uint64 {
			x := s.(userState)
			h := fnv.New64a()
			h.Write([]byte(x.user + "\x00" + x.key))
			return h.Sum64()
		},
		DescribeOperation: func(input, _ any) string { return input.(*event).text },
		DescribeState:     func(s any) string { return describeState(s.(userState)) },
	}
}

// partition splits a history per user, in the round's order of users.
func partition(h []porcupine.Operation, users []string) [][]porcupine.Operation {
	var out [][]porcupine.Operation
	for _, u := range users {
		var part []porcupine.Operation
		for _, o := range h {
			if o.Input.(*event).user == target.FoldName(u) {
				part = append(part, o)
			}
		}
		if len(part) > 0 {
			out = append(out, part)
		}
	}
	return out
}

func describeState(st userState) string {
	switch attrs, known := st.s.Attributes(target.MainApp, st.user); {
	case st.user == "":
		return "(before the round)"
	case known:
		return showAttrs(attrs)
	case st.s.Worlds() == 1:
		return "(attributes unknown)"
	default:
		return fmt.Sprintf("one of %d states: %s", st.s.Worlds(), st.key)
	}
}

// check turns a round's operations into porcupine's history, checks it
// within the timeout, and explains and visualizes a history that is not
// linearizable.
//
// On a target of several nodes, a node may show another's writes late:
// the documents promise nothing about how soon, and the framework allows
// up to framework.StaleWindow. A history found not linearizable there is
// checked again without the reads sent during the burst: the verdict is
// that second check's, whose reads (settle's, once the nodes agreed or
// the window had passed) a lagging node no longer excuses.
func (r *recorder) check(n int, ops []op, suffix string) (Checked, *Illegal) {
	h := Checked{Round: n, Requests: len(ops)}
	var end int64
	for _, o := range ops {
		end = max(end, o.ret)
	}
	end++
	var history []porcupine.Operation
	for _, o := range ops {
		ret := o.ret
		switch o.kind {
		case unknown:
			h.Unknown++
			ret = end
		case refused:
			h.Refused++
		}
		if o.answer.Status == http.StatusConflict {
			h.Conflicts++
		}
		if o.read() && o.kind == unknown {
			continue // a read that got no answer shows nothing
		}
		for _, ev := range r.events(o) {
			history = append(history, porcupine.Operation{ClientId: o.client, Input: ev, Output: ev, Call: o.call, Return: ret,
				Metadata: fmt.Sprintf("client %d on %s", o.client, o.node)})
		}
	}
	parts := partition(history, r.users)
	h.Partitions = len(parts)
	for _, part := range parts {
		h.Operations += len(part)
	}
	overlaps(history, &h)
	for _, o := range history {
		ev := o.Input.(*event)
		ev.text = r.env.Redactor.Redact(ev.String())
		if ev.others && len(h.SpuriousConflicts) < 3 {
			h.SpuriousConflicts = append(h.SpuriousConflicts, fmt.Sprintf("round %d: %s (%s)", n, ev.text, o.Metadata))
		}
	}
	pm := checker{r.m}.model(r.users)
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(pm, history, r.o.CheckTimeout)
	if res == porcupine.Illegal && r.env.Clustered() {
		var settled []porcupine.Operation
		for _, o := range history {
			if ev := o.Input.(*event); !ev.read || ev.settled {
				settled = append(settled, o)
			}
		}
		h.Lagging = len(history) - len(settled)
		history, parts = settled, partition(settled, r.users)
		res, info = porcupine.CheckOperationsVerbose(pm, history, r.o.CheckTimeout)
	}
	h.CheckTime, h.Result = time.Since(start), string(res)
	if res != porcupine.Illegal {
		return h, nil
	}
	illegal := r.explain(n, parts, info)
	if path, err := r.visualize(fmt.Sprintf("history-%d-round-%d%s.html", r.o.Seed, n, suffix), pm, info); err != nil {
		illegal.Text += fmt.Sprintf("(no visualization: %v)\n", err)
	} else {
		illegal.Visualization = path
	}
	return h, illegal
}

// events are an operation as porcupine checks it: one per user it
// addresses.
func (r *recorder) events(o op) []*event {
	users := []string{o.req.User}
	if o.req.Op == model.Batch {
		users = model.DecodeBatch(o.req.Body).Targets
	}
	var out []*event
	for _, u := range r.users {
		if !slices.ContainsFunc(users, func(t string) bool { return target.FoldName(t) == target.FoldName(u) }) {
			continue
		}
		ev := &event{user: target.FoldName(u), sent: o.req, req: o.req, kind: o.kind, answer: o.answer, why: o.why,
			write: o.req.Op == model.Put || o.req.Op == model.Delete, read: o.read(), settled: o.settled}
		if o.req.Op == model.Batch {
			ev.req, ev.answer = narrow(o.req, o.answer, ev.user)
		}
		out = append(out, ev)
	}
	return out
}

// narrow is a batch read and its answer as one user's: the targets that
// name it, the data of its entries.
func narrow(req model.Request, a model.Answer, user string) (model.Request, model.Answer) {
	var body map[string]json.RawMessage
	if json.Unmarshal(req.Body, &body) != nil {
		return req, a
	}
	var mine []string
	for _, t := range model.DecodeBatch(req.Body).Targets {
		if target.FoldName(t) == user {
			mine = append(mine, t)
		}
	}
	body["targets"], _ = json.Marshal(mine)
	req.Body, _ = json.Marshal(body)
	var env map[string]json.RawMessage
	var data map[string]json.RawMessage
	if a.Status != http.StatusOK || json.Unmarshal(a.Body, &env) != nil || json.Unmarshal(env["data"], &data) != nil || data == nil {
		return req, a
	}
	for k := range data {
		if target.FoldName(k) != user {
			delete(data, k)
		}
	}
	env["data"], _ = json.Marshal(data)
	a.Body, _ = json.Marshal(env)
	return req, a
}

// overlaps marks the 409s of a history that answered a write while
// another write was in flight (justified: whatever else it did, a 409
// changes nothing, and reads show whether it did), and those that raced
// acknowledged writes to other users and no write to the same user
// (others: UA-CONC-004, a conflict is only ever between writes to the
// same user). It counts the pairs of writes in flight at the same time,
// to one user and to different users, and the 409s of the second kind.
func overlaps(history []porcupine.Operation, h *Checked) {
	overlap := func(a, b porcupine.Operation) bool { return a.Call <= b.Return && b.Call <= a.Return }
	effective := func(ev *event) bool {
		return ev.kind == unknown || (ev.kind == answered && ev.answer.Status == http.StatusOK)
	}
	for i, o := range history {
		ev := o.Input.(*event)
		for _, p := range history[i+1:] {
			pe := p.Input.(*event)
			switch {
			case !ev.write || !pe.write || ev.kind == refused || pe.kind == refused || !overlap(o, p):
			case pe.user == ev.user:
				h.Overlaps++
			default:
				h.Across++
			}
		}
		if ev.kind != answered || ev.answer.Status != http.StatusConflict || ev.req.Op != model.Put {
			continue
		}
		same := false
		for _, p := range history {
			pe := p.Input.(*event)
			if pe == ev || !pe.write || pe.kind == refused || !overlap(o, p) {
				continue
			}
			ev.justified = true
			same = same || pe.user == ev.user
			ev.others = ev.others || (pe.user != ev.user && effective(pe))
		}
		ev.others = ev.others && !same
		if ev.others {
			h.Spurious++
		}
	}
}

// explain finds the user whose operations have no legal order, replays
// the longest order porcupine found, and says which answers could not
// come next and why.
func (r *recorder) explain(n int, parts [][]porcupine.Operation, info porcupine.LinearizationInfo) *Illegal {
	c := checker{r.m}
	out := &Illegal{Round: n}
	partials := info.PartialLinearizations()
	for i, part := range parts {
		var longest []int
		for _, p := range partials[i] {
			if len(p) > len(longest) {
				longest = p
			}
		}
		if len(longest) == len(part) {
			continue
		}
		st := userState{}
		done := map[int]bool{}
		for _, id := range longest {
			_, st = c.step(st, part[id].Input.(*event))
			done[id] = true
		}
		// The operations that could come next: those not taken that were
		// sent before any other not taken had returned.
		first := int64(-1)
		for id, o := range part {
			if !done[id] && (first < 0 || o.Return < first) {
				first = o.Return
			}
		}
		var b strings.Builder
		ev0 := part[0].Input.(*event)
		out.User = ev0.user
		fmt.Fprintf(&b, "round %d, user %s: no order of its %d operations, each within its interval, has every answer allowed by the documents.\n", n, ev0.user, len(part))
		fmt.Fprintf(&b, "The longest order found takes %d of them, leaving the user %s; none of those that could come next is allowed there:\n", len(longest), describeState(st))
		for id, o := range part {
			ev := o.Input.(*event)
			if done[id] || o.Call > first {
				continue
			}
			if ok, _ := c.step(st, ev); ok {
				continue // allowed here, but what it leads to is not
			}
			fmt.Fprintf(&b, "  - %s (%s)\n", ev.text, o.Metadata)
			if st.user == "" {
				st = c.state(ev.user, r.m.UserState(target.MainApp, ev.user, nil))
			}
			_, v := r.m.Observe(st.s, ev.req, ev.answer)
			out.IDs = appendNew(out.IDs, v.Broken()...)
			for _, p := range v.Problems {
				fmt.Fprintf(&b, "    %s\n", p)
			}
		}
		out.Text = r.env.Redactor.Redact(b.String())
		break
	}
	return out
}

// visualize writes porcupine's visualization of the history into the
// report directory (or a temporary one) and returns its path.
func (r *recorder) visualize(name string, pm porcupine.Model, info porcupine.LinearizationInfo) (string, error) {
	dir := r.o.Dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "attrconform-history-*"); err != nil {
			return "", err
		}
	}
	path := filepath.Join(dir, name)
	return path, porcupine.VisualizePath(pm, info, path)
}

// String is the operation as the visualization shows it.
func (ev *event) String() string {
	var b strings.Builder
	switch ev.sent.Op {
	case model.Put:
		fmt.Fprintf(&b, "PUT %s %s", ev.user, ev.sent.Body)
	case model.Batch:
		fmt.Fprintf(&b, "batch %s, as %s's", ev.sent.Body, ev.user)
	default:
		fmt.Fprintf(&b, "%s %s", ev.sent.Method(), ev.user)
	}
	switch {
	case ev.kind == unknown:
		fmt.Fprintf(&b, " -> unknown (%s)", ev.why)
	case ev.kind == refused:
		fmt.Fprintf(&b, " -> %d, refused for the rate", ev.answer.Status)
	case ev.justified:
		b.WriteString(" -> 409, while another write was in flight")
	default:
		fmt.Fprintf(&b, " -> %d", ev.answer.Status)
		if d, ok := dataOf(ev.answer.Body); ok {
			fmt.Fprintf(&b, " %s", cut(d, 200))
		}
	}
	return b.String()
}

func dataOf(body []byte) ([]byte, bool) {
	var env map[string]json.RawMessage
	if json.Unmarshal(body, &env) != nil {
		return nil, false
	}
	d, ok := env["data"]
	return bytes.TrimSpace(d), ok
}

func showAttrs(attrs map[string]string) string {
	if len(attrs) == 0 {
		return "{}"
	}
	raw, _ := json.Marshal(attrs)
	return string(raw)
}

func appendNew(list []string, v ...string) []string {
	for _, x := range v {
		if !slices.Contains(list, x) {
			list = append(list, x)
		}
	}
	return list
}
