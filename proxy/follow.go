package proxy

import (
	"container/list"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/judge"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/redact"
	"github.com/attrconform/attrconform/report"
	"github.com/attrconform/attrconform/target"
)

// The states the proxy follows are bounded by number and by size: past
// MaxFollowed users, or StateBytes in all (as model.State.Footprint
// counts them), it forgets the users it used least recently, and counts
// them.
const (
	MaxFollowed = 10000
	StateBytes  = 64 << 20
)

// follower follows, with the model of the documents (package model), the
// state of every user whose history the proxy has seen from a known
// point, and judges that user's exchanges by it: a PUT merges into what
// the user held, a DELETE empties it, a read shows it. A known point is an
// answer that shows the user's whole state: a GET, a batch read without a
// property filter, a DELETE answered 200 true, a PUT answered with the
// whole map. Until one, and again after anything that leaves the state in
// doubt, a user is judged per exchange only (package judge), never by a
// guess.
//
// Real clients send concurrently, and the proxy cannot know in which
// order the target handled requests that overlapped in time. A clock of
// events tells: a request's start is counted before it is forwarded, an
// exchange's end after its answer arrived, so an exchange that ended
// before another started was handled before it. A write is judged by
// state only when no other write of its user overlapped it (otherwise the
// state is forgotten until the next known point), a read only when no
// write of its user overlapped it. Reads change nothing, so they need not
// be ordered among themselves.
//
// With exclusive (nothing but the traffic through the proxy writes to the
// target's apps), an app's capacity is followed too, from a capacity read
// on: it changes by what the users written since hold, as their states
// say (UA-CAP-003, -004).
type follower struct {
	m         *model.Model
	target    *target.Target
	exclusive bool
	metric    string
	redact    func(string) string
	// path is a request's path below the target's base URL.
	path func(*http.Request) string
	// max and budget are the bounds: MaxFollowed and StateBytes.
	max, budget int

	mu sync.Mutex
	// clock counts starts and ends; evicted is its reading when a user was
	// last forgotten for the bound, wild when the last write that no
	// followed user accounts for ended (a PUT without a username, a write
	// to an app the target does not have), and wilds how many such writes
	// are in flight.
	clock, evicted, wild uint64
	wilds                int
	users                map[userKey]*followed
	lru                  *list.List // of userKey, most recently used first
	bytes                int        // the followed states' footprints, summed
	apps                 map[string]*appState
	pending              map[int]pending // by exchange number
	counts               report.StateTraffic
}

// userKey names a user: the app's role and the folded name.
type userKey struct{ role, name string }

// followed is what the follower knows of one user.
type followed struct {
	state model.State
	// known: the state holds the user's history from a known point, the
	// exchange since.
	known bool
	since int
	// writes are the user's writes in flight; lastWrite the clock when
	// one last ended.
	writes    int
	lastWrite uint64
	elem      *list.Element // nil until kept
	bytes     int           // the state's footprint
}

// appState is what the follower knows of one app: its writes in flight
// and, with exclusive, its capacity.
type appState struct {
	writes    int
	lastWrite uint64
	// base is the capacity read at exchange baseSeq, when baseKnown;
	// changed holds, for every user written since, what it held then.
	base      int64
	baseKnown bool
	baseSeq   int
	changed   map[userKey]held
}

// held is what a user held, as capacity counts it: its size under the
// target's metric, and a digest of its attributes (the same data reads
// the same).
type held struct {
	size   model.Size
	digest [sha256.Size]byte
}

func holding(metric string, attrs map[string]string) held {
	if attrs == nil {
		attrs = map[string]string{}
	}
	canonical, _ := json.Marshal(attrs) // keys sorted
	return held{model.UserSize(metric, attrs), sha256.Sum256(canonical)}
}

// pending is an exchange in flight.
type pending struct {
	start uint64
	write bool
	// user is the user a write addresses; zero for a write no followed
	// user accounts for (wild) and for a read.
	user userKey
	wild bool
}

func newFollower(t *target.Target, exclusive bool, redact func(string) string, path func(*http.Request) string) (*follower, error) {
	cfg, err := model.ConfigOf(t, false)
	if err != nil {
		return nil, err
	}
	return &follower{m: model.New(cfg), target: t, exclusive: exclusive, metric: t.SizeMetric, redact: redact, path: path, max: MaxFollowed, budget: StateBytes,
		users: map[userKey]*followed{}, lru: list.New(), apps: map[string]*appState{}, pending: map[int]pending{}}, nil
}

// read is the request as the model reads it, false when it addresses no
// operation of the API.
func (f *follower) read(out *http.Request, body []byte) (model.Request, bool) {
	jp := judge.Identify(f.target, out.Header.Get("Authorization"))
	p := model.Principal{Kind: model.Kind(jp.Kind), App: jp.App, User: jp.User}
	return f.m.ReadRequest(p, out.Method, f.path(out), out.Header, body)
}

// writes reports whether r may change what the target holds: anything
// but a GET, HEAD, OPTIONS or batch read.
func writes(r model.Request) bool {
	switch r.Method() {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return r.Op != model.Batch
}

// followable reports whether r addresses one user the follower can
// follow: a valid name in one of the target's apps.
func followable(r model.Request) bool {
	return (r.Op == model.Put || r.Op == model.Get || r.Op == model.Delete) && r.App != model.NoSuchApp && target.ValidUsername(r.User)
}

func keyOf(role, name string) userKey { return userKey{role, target.FoldName(name)} }

// begin notes that exchange seq starts: out is about to be forwarded.
func (f *follower) begin(seq int, out *http.Request) {
	r, api := f.read(out, nil)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock++
	p := pending{start: f.clock}
	if api && writes(r) {
		p.write = true
		switch {
		case followable(r):
			p.user = keyOf(r.App, r.User)
			f.user(p.user).writes++
			f.app(r.App).writes++
		default:
			p.wild = true
			f.wilds++
		}
	}
	f.pending[seq] = p
}

// drop ends exchange seq without an answer to judge (none came, the client
// stopped reading, the proxy's bounds): a write leaves its user in doubt.
// It does nothing once end has run.
func (f *follower) drop(seq int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pending[seq]
	if !ok {
		return
	}
	f.finish(seq, p)
	if p.write {
		f.doubt(p)
	}
}

// end judges exchange seq by state, its request out with body and its
// answer a: it adds to v what the state shows.
func (f *follower) end(seq int, out *http.Request, body []byte, a model.Answer, v *judge.Verdict) {
	r, api := f.read(out, body)
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pending[seq]
	if !ok {
		return
	}
	defer f.finish(seq, p)
	var j judged
	switch {
	case !api:
	case r.Principal.Kind == model.KindUnknown, a.Status == http.StatusTooManyRequests, a.Status >= 500:
		// A token the target file does not list may be anyone's; a refusal
		// for the rate or a failure says nothing of what was done.
		if p.write && a.Status/100 != 4 {
			f.doubt(p)
		}
	case followable(r):
		j = f.step(p, keyOf(r.App, r.User), r.User, seq, r, a)
	case r.Op == model.Batch:
		j = f.batch(p, seq, r, a)
	case r.Op == model.Capacity && a.Status == http.StatusOK:
		j = f.capacity(p, seq, r.App, a)
	case p.wild && a.Status/100 == 2:
		f.doubt(p)
	}
	f.add(j, v)
}

// finish takes exchange seq off the exchanges in flight.
func (f *follower) finish(seq int, p pending) {
	delete(f.pending, seq)
	f.clock++
	switch {
	case p.wild:
		f.wilds--
		f.wild = f.clock
	case p.write:
		e := f.users[p.user]
		e.writes--
		e.lastWrite = f.clock
		a := f.apps[p.user.role]
		a.writes--
		a.lastWrite = f.clock
	}
}

// overlapped reports whether a write of user k, or one no followed user
// accounts for, overlapped exchange p (still in flight).
func (f *follower) overlapped(k userKey, p pending) bool {
	if f.wilds > 0 || f.wild > p.start {
		return true
	}
	e, ok := f.users[k]
	if !ok {
		// No write of k since p started, unless a user was forgotten since.
		return f.evicted > p.start
	}
	mine := 0
	if p.write && p.user == k {
		mine = 1
	}
	return e.writes > mine || e.lastWrite > p.start
}

// judged is what following the states made of an exchange: the model's
// verdict for each user judged by a known state, and the problem of a
// capacity read that broke what the states say.
type judged struct {
	verdicts []userVerdict
	capacity *model.Problem
}

// userVerdict is the model's verdict on an exchange of one user, whose
// state was known since exchange number since.
type userVerdict struct {
	who   string
	since int
	model.Verdict
}

// step judges one exchange of user k (name as the request spells it) by
// its state, moves the state on, and notes a write's change for the
// app's capacity.
func (f *follower) step(p pending, k userKey, name string, seq int, r model.Request, a model.Answer) judged {
	if f.overlapped(k, p) {
		f.counts.Overlapping++
		if p.write {
			f.forget(k, nil)
			f.unbase(k.role)
		}
		return judged{}
	}
	e, ok := f.users[k]
	if ok {
		f.lru.MoveToFront(e.elem)
	} else {
		e = &followed{}
		f.set(e, f.m.Unknown(k.role, name))
	}
	before, beforeKnown := e.state.Attributes(k.role, name)
	next, v := f.m.Observe(e.state, r, a)
	var out judged
	if e.known {
		f.counts.Judged++
		who := name
		if k.role != target.MainApp {
			who += " of app " + k.role
		}
		out.verdicts = []userVerdict{{who, e.since, v}}
	}
	if !v.OK() {
		if p.write {
			// The write's effect is unknown: follow the user again from
			// the next known point. A read changes nothing: the state,
			// made of what the target acknowledged, still says what it
			// must hold.
			f.forget(k, &f.counts.Doubtful)
			f.unbase(k.role)
		}
		return out
	}
	f.set(e, next)
	if !e.known && next.Knows(k.role, name) {
		e.known, e.since = true, seq
		f.counts.Known++
		if !ok {
			f.keep(k, e)
		}
	}
	f.trim()
	if p.write {
		f.wrote(k, a.Status, before, beforeKnown)
	}
	return out
}

// batch judges a batch read by the state of each target it names, one
// user at a time: the request as if it named only that user's targets,
// a success as if it held only their entries. What depends on the batch
// as a whole (a malformed body, more targets than the cap) is left to the
// exchange's own rules.
func (f *follower) batch(p pending, seq int, r model.Request, a model.Answer) judged {
	bb := model.DecodeBatch(r.Body)
	var req, ans map[string]json.RawMessage
	var data map[string]json.RawMessage
	switch {
	case bb.Problem != "" || bb.Count > f.m.Config().BatchLimit || r.App == model.NoSuchApp || json.Unmarshal(r.Body, &req) != nil:
		return judged{}
	case a.Status == http.StatusOK && (json.Unmarshal(a.Body, &ans) != nil || json.Unmarshal(ans["data"], &data) != nil):
		return judged{} // not an object of users: the exchange's own rules say so
	}
	targets := map[userKey][]string{}
	for _, t := range bb.Targets {
		if target.ValidUsername(t) {
			k := keyOf(r.App, t)
			targets[k] = append(targets[k], t)
		}
	}
	var out judged
	for _, k := range slices.SortedFunc(maps.Keys(targets), func(a, b userKey) int { return strings.Compare(a.name, b.name) }) {
		sub, one := r, a
		req["targets"], _ = json.Marshal(targets[k])
		sub.Body, _ = json.Marshal(req)
		if data != nil {
			entries := map[string]json.RawMessage{}
			for key, entry := range data {
				if target.FoldName(key) == k.name {
					entries[key] = entry
				}
			}
			ans["data"], _ = json.Marshal(entries)
			one.Body, _ = json.Marshal(ans)
		}
		out.verdicts = append(out.verdicts, f.step(p, k, targets[k][0], seq, sub, one).verdicts...)
	}
	return out
}

// wrote notes a write of user k that the model allowed, answered status,
// for the capacity of its app: the attributes k had before it (when
// known) are what it held at the last capacity read, if it was not
// written since.
func (f *follower) wrote(k userKey, status int, before map[string]string, known bool) {
	a := f.app(k.role)
	switch {
	case !f.exclusive || !a.baseKnown:
	case status != http.StatusOK:
		// Refused: nothing changed (UA-LIMIT-006).
	case !known || len(a.changed) >= f.max:
		f.unbase(k.role)
	default:
		if _, ok := a.changed[k]; !ok {
			a.changed[k] = holding(f.metric, before)
		}
	}
}

// capacity judges a capacity read of app role by the capacity last read
// and what the users written since hold now, with exclusive only.
func (f *follower) capacity(p pending, seq int, role string, ans model.Answer) judged {
	if !f.exclusive || role == model.NoSuchApp {
		return judged{}
	}
	a := f.app(role)
	if a.writes > 0 || a.lastWrite > p.start || f.wilds > 0 || f.wild > p.start {
		f.counts.Overlapping++
		return judged{}
	}
	var body struct{ Data json.RawMessage }
	var value int64
	if json.Unmarshal(ans.Body, &body) != nil || json.Unmarshal(body.Data, &value) != nil {
		return judged{} // not an integer: the judge says so (UA-CAP-001)
	}
	var out judged
	if lo, hi, ok := f.expected(a); ok {
		f.counts.Judged++
		if value < lo || value > hi {
			want := fmt.Sprintf("from %d to %d", lo, hi)
			if lo == hi {
				want = fmt.Sprint(lo)
			}
			since := "no write accepted since changed any data"
			if n := len(a.changed); n > 0 {
				since = fmt.Sprintf("what the %d users written since hold now changes it", n)
			}
			out.capacity = &model.Problem{IDs: []string{"UA-CAP-003", "UA-CAP-004"},
				Text: fmt.Sprintf("capacity is %d, where the documents answer %s: the capacity read at #%d was %d, and %s", value, want, a.baseSeq, a.base, since)}
		}
	}
	a.base, a.baseKnown, a.baseSeq, a.changed = value, true, seq, map[userKey]held{}
	return out
}

// expected is the range the capacity of a must lie in: the capacity
// last read, changed by the size of each user written since. Without a
// declared size metric only "the same data reads the same" is known.
func (f *follower) expected(a *appState) (int64, int64, bool) {
	if !a.baseKnown {
		return 0, 0, false
	}
	lo, hi := a.base, a.base
	for k, then := range a.changed {
		e, ok := f.users[k]
		if !ok || !e.known {
			return 0, 0, false
		}
		attrs, ok := e.state.Attributes(k.role, k.name)
		now := holding(f.metric, attrs)
		switch {
		case !ok:
			return 0, 0, false
		case f.metric == "" && now.digest != then.digest:
			return 0, 0, false
		case f.metric != "":
			lo += now.size.Min - then.size.Max
			hi += now.size.Max - then.size.Min
		}
	}
	return lo, hi, true
}

// doubt forgets what a write the proxy cannot judge may have changed.
func (f *follower) doubt(p pending) {
	if p.wild {
		for k := range f.users {
			f.forget(k, &f.counts.Doubtful)
		}
		for role := range f.apps {
			f.unbase(role)
		}
		return
	}
	f.forget(p.user, &f.counts.Doubtful)
	f.unbase(p.user.role)
}

// forget makes user k's state unknown until the next known point,
// counting it in n when it was known.
func (f *follower) forget(k userKey, n *int) {
	e, ok := f.users[k]
	if !ok || !e.known {
		return
	}
	if n != nil {
		*n++
	}
	e.known = false
	f.set(e, f.m.Unknown(k.role, k.name))
}

// set gives user entry e state s, keeping count of the followed states'
// footprints.
func (f *follower) set(e *followed, s model.State) {
	n := s.Footprint()
	if e.elem != nil {
		f.bytes += n - e.bytes
	}
	e.state, e.bytes = s, n
}

// unbase forgets the capacity of app role until the next capacity read.
func (f *follower) unbase(role string) {
	a := f.app(role)
	a.baseKnown, a.changed = false, nil
}

// user is the entry of user k, made (with an unknown state) if need be.
func (f *follower) user(k userKey) *followed {
	if e, ok := f.users[k]; ok {
		f.lru.MoveToFront(e.elem)
		return e
	}
	e := &followed{}
	f.set(e, f.m.Unknown(k.role, k.name))
	f.keep(k, e)
	f.trim()
	return e
}

// keep adds the entry of user k, the most recently used.
func (f *follower) keep(k userKey, e *followed) {
	e.elem = f.lru.PushFront(k)
	f.users[k] = e
	f.bytes += e.bytes
}

// trim forgets the least recently used users while the bounds are passed,
// never one with a write in flight nor the most recently used.
func (f *follower) trim() {
	for el := f.lru.Back(); (len(f.users) > f.max || f.bytes > f.budget) && el != nil && el != f.lru.Front(); {
		prev := el.Prev()
		old := el.Value.(userKey)
		if o := f.users[old]; o.writes == 0 {
			if o.known {
				f.counts.Evicted++
			}
			f.lru.Remove(el)
			delete(f.users, old)
			f.bytes -= o.bytes
			f.evicted = f.clock
		}
		el = prev
	}
}

func (f *follower) app(role string) *appState {
	a, ok := f.apps[role]
	if !ok {
		a = &appState{}
		f.apps[role] = a
	}
	return a
}

// byState starts what following the state found.
const byState = "by state"

// add puts what the states showed into v: a violation for each
// requirement a problem names that the exchange's own rules did not
// already find, and the requirements judged and kept.
func (f *follower) add(j judged, v *judge.Verdict) {
	problems := map[string][]string{} // per requirement, a text per user
	note := func(whose string, ps []model.Problem) {
		texts := map[string][]string{}
		for _, p := range ps {
			for _, id := range p.IDs {
				if !slices.Contains(texts[id], p.Text) {
					texts[id] = append(texts[id], p.Text)
				}
			}
		}
		for id, t := range texts {
			problems[id] = append(problems[id], fmt.Sprintf("%s (%s): %s", byState, whose, strings.Join(t, "; ")))
		}
	}
	var held []string
	for _, uv := range j.verdicts {
		note(fmt.Sprintf("%s, followed since #%d", uv.who, uv.since), uv.Problems)
		held = append(held, uv.IDs...)
	}
	if j.capacity != nil {
		note("the app's capacity", []model.Problem{*j.capacity})
	}
	violated := func(id string) bool {
		return slices.ContainsFunc(v.Violations, func(x evidence.Finding) bool { return x.Requirement == id })
	}
	for id, texts := range problems {
		if !violated(id) {
			v.Violations = append(v.Violations, evidence.Finding{Requirement: id, Problem: redact.Shorten(f.redact(strings.Join(texts, "; ")), maxFinding)})
		}
	}
	sort.Slice(v.Violations, func(a, b int) bool { return v.Violations[a].Requirement < v.Violations[b].Requirement })
	for _, id := range held {
		if !violated(id) && !slices.Contains(v.Held, id) {
			v.Held = append(v.Held, id)
		}
	}
	sort.Strings(v.Held)
}

// maxFinding bounds a finding's text, as the judge bounds its own.
const maxFinding = 2048

// stats is what following the states amounted to so far.
func (f *follower) stats() report.StateTraffic {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts
}
