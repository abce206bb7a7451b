// Package history records concurrent histories of requests to a target
// and checks them for linearizability against the model of the documents
// (package model) with porcupine (github.com/anishathalye/porcupine).
//
// A round empties a few listed users of the main app and gives each the
// same four keys; then several clients (spread over the target's nodes)
// send generated operations to those users at once, behind a barrier,
// their share of the request budget taken ahead: overwrites of existing
// keys, writes of new keys, deletes, reads and batch reads racing each
// other. Every operation is recorded with its invoke and return times
// (monotonic) and its outcome: an answer the model judges (a 2xx or 4xx;
// a 409 changes nothing), a refusal for the rate (nothing changed), or
// unknown (a timeout, a lost connection, a 5xx: it may or may not have
// taken effect). When the burst is over, every user is read once more on
// every node, and the app's capacity is judged while traffic is quiet.
//
// The history is split per user (a batch read into one read per user it
// names), each user's operations are checked from the model's state of
// that user alone, and porcupine searches for an order of the operations,
// each within its interval, in which every answer is one the documents
// allow. None exists: the history is not linearizable, a FAIL of the race
// requirements, with porcupine's visualization written for the report.
// porcupine may not finish in time (its cost grows with the clients that
// address one user): that is no verdict.
//
// The operations are drawn from a seed, so a seed replays the same
// requests; their interleaving is the target's and the network's, and no
// seed replays it.
package history

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/attrconform/attrconform/explore"
	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/target"
)

// Options say what to record and for how long.
type Options struct {
	Env *framework.Env
	// Seed draws the operations; 0 draws one (Result.Seed says which).
	Seed uint64
	// Clients send at once (default 6, at most MaxClients); each may
	// address every user of the round.
	Clients int
	// Users is how many listed users of the main app a round addresses
	// (default 2).
	Users int
	// Ops is how many operations each client sends in a round (default 8);
	// fewer when the request budget cannot let them all leave at once.
	Ops int
	// Rounds bounds the histories recorded (default 20); Time bounds the
	// wall time of recording and checking (default 2 s). A round runs to
	// its end once started.
	Rounds int
	Time   time.Duration
	// CheckTimeout bounds porcupine's search in one history (default 5 s).
	CheckTimeout time.Duration
	// Exclusive: nothing else writes to the target's main app, so capacity
	// is judged exactly.
	Exclusive bool
	// Dir receives the visualization of a history that is not
	// linearizable; "" writes it into a temporary directory.
	Dir string
	// Log receives a line per round; nil: none.
	Log io.Writer
}

// Defaults and bounds of Options.
const (
	DefaultClients = 6
	// MaxClients bounds the clients: porcupine's cost grows quickly with
	// the operations that overlap on one user.
	MaxClients          = 8
	DefaultUsers        = 2
	DefaultOps          = 8
	DefaultRounds       = 20
	DefaultTime         = 2 * time.Second
	DefaultCheckTimeout = 5 * time.Second
)

// Result is what the rounds showed.
type Result struct {
	Seed                  uint64
	Clients, Users, Nodes int
	Histories             []Checked
	Elapsed               time.Duration
	// Illegal is the first history found not linearizable while the same
	// operations sent one at a time to one node were answered as the
	// documents say: a race. Sequential is one found not linearizable
	// where the operations one at a time were not either: the target
	// breaks the documents without any race, which the histories cannot
	// tell apart from one. Both nil when every history was linearizable.
	Illegal, Sequential *Illegal
	// Capacity are the disagreements of the capacity reads while traffic
	// was quiet; CapacityReads counts those judged.
	Capacity      []Disagreement
	CapacityReads int
	// Unreadable counts answers that break openapi.yaml, or whose envelope
	// the model cannot read (no JSON object, no timestamp...): the specs
	// of those rules judge them; here they count as unknown outcomes.
	Unreadable int
	// Stopped says why recording stopped before its bounds, "" when it
	// did not.
	Stopped string
}

// Checked is one history and porcupine's verdict on it.
type Checked struct {
	Round int
	// Requests were sent; Operations are what porcupine checked (a batch
	// read counts once per user it names, a read without an answer not at
	// all); Partitions are the users.
	Requests, Operations, Partitions int
	// Overlaps counts pairs of writes to one user that were in flight at
	// the same time, Across pairs of writes to different users; Conflicts
	// the 409s, Spurious those that answered a write while only writes to
	// other users were in flight; Unknown the outcomes unknown; Refused
	// the refusals for the rate.
	Overlaps, Across, Conflicts, Spurious, Unknown, Refused int
	// SpuriousConflicts describe the first few 409s Spurious counts.
	SpuriousConflicts []string
	// Lagging counts the reads of a target of several nodes left out of a
	// second check, the first having found the history not linearizable
	// with them (see check); 0 when there was none.
	Lagging int
	// Result is porcupine's: Ok, Illegal, or Unknown when it ran out of time.
	Result    string
	CheckTime time.Duration
}

// Disagreement is an answer the model does not allow, outside a history.
type Disagreement struct {
	Exchange string
	IDs      []string
	Problems []model.Problem
	Allowed  []string
}

// ErrBudgetTooSmall means the target's request budget cannot let a burst
// leave at once: nothing to record, and nothing wrong with the target.
var ErrBudgetTooSmall = errors.New("history: the request budget is too small for a burst")

// Run records and checks histories of the target of o.Env. Its error is
// a harness failure (the budget ran out, a generated request broke the
// contract); a history that is not linearizable is Result.Illegal.
func Run(o Options) (Result, error) {
	r, err := newRecorder(o)
	if err != nil {
		return Result{}, err
	}
	for n := 1; n <= r.o.Rounds && time.Since(r.start) < r.o.Time && r.res.Illegal == nil && r.res.Sequential == nil && r.res.Stopped == ""; n++ {
		if err := r.round(n); err != nil {
			return r.res, err
		}
	}
	r.calm()
	r.res.Elapsed = time.Since(r.start)
	return r.res, nil
}

// calm waits (a second at most) until every operation the rounds sent has
// half its budget of the last second left: the bursts may spend it whole,
// and what follows them (the run's cleanup, sent outside the budget, or
// the target's other clients) must not meet a limit the histories
// reached.
func (r *recorder) calm() {
	half := int(r.env.Target.Budget()) / 2
	for _, op := range model.Ops {
		r.env.Admin().Calm(wire(model.Request{App: target.MainApp, Op: op, User: r.users[0]}), half)
	}
}

func newRecorder(o Options) (*recorder, error) {
	if o.Env == nil {
		return nil, errors.New("history: no environment")
	}
	o = o.withDefaults()
	switch {
	case o.Clients < 0 || o.Users < 0 || o.Ops < 0 || o.Rounds < 0 || o.Time < 0 || o.CheckTimeout < 0:
		return nil, errors.New("history: clients, users, operations, rounds and times cannot be negative")
	case o.Clients > MaxClients:
		return nil, fmt.Errorf("history: %d clients; at most %d (porcupine's search grows quickly with the clients of one user)", o.Clients, MaxClients)
	}
	// Every request of a burst leaves at once, so one burst must fit in
	// the request budget of each operation.
	budget := int(o.Env.Target.Budget())
	if budget < 4 {
		return nil, fmt.Errorf("%w: request_budget %.0f/s lets fewer than two clients send two requests each at once", ErrBudgetTooSmall, o.Env.Target.Budget())
	}
	o.Clients = min(o.Clients, budget/2)
	o.Ops = min(o.Ops, budget/o.Clients-1)
	users := listed(o.Env.Target, o.Users)
	if len(users) == 0 {
		return nil, errors.New("history: the target lists no user of the main app")
	}
	cfg, err := model.ConfigOf(o.Env.Target, o.Exclusive)
	if err != nil {
		return nil, err
	}
	m := model.New(cfg)
	return &recorder{o: o, env: o.Env, m: m, users: users, start: time.Now(), quiet: m.Init(),
		res: Result{Seed: o.Seed, Clients: o.Clients, Users: len(users), Nodes: len(o.Env.Nodes())}}, nil
}

func (o Options) withDefaults() Options {
	if o.Seed == 0 {
		o.Seed = explore.NewSeed()
	}
	o.Clients, o.Users, o.Ops = cmp.Or(o.Clients, DefaultClients), cmp.Or(o.Users, DefaultUsers), cmp.Or(o.Ops, DefaultOps)
	o.Rounds, o.Time, o.CheckTimeout = cmp.Or(o.Rounds, DefaultRounds), cmp.Or(o.Time, DefaultTime), cmp.Or(o.CheckTimeout, DefaultCheckTimeout)
	return o
}

// listed is the first n listed users of the main app whose names are
// valid usernames.
func listed(t *target.Target, n int) []string {
	var out []string
	for _, u := range t.Users {
		if len(out) < n && target.ValidUsername(u.Name) && !slices.ContainsFunc(out, func(o string) bool { return target.FoldName(o) == target.FoldName(u.Name) }) {
			out = append(out, u.Name)
		}
	}
	return out
}
