package framework

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
)

// How races are produced. A round sends RaceWriters requests that leave
// together: their connections are opened beforehand, their whole share of
// the request budget is taken before the barrier opens (so a budget that
// earlier specs spent cannot spread them out), and the time each one was
// written is measured. Rounds are repeated until a collision is seen,
// bounded in count and time: a server whose window between reading and
// committing is short may need many rounds, and one that serialises writes
// never collides at all.
const (
	RaceWriters   = 12
	raceMinRounds = 3  // rounds run even after the first collision
	raceMaxRounds = 40 // rounds tried at most without one
	raceMaxTime   = 20 * time.Second
)

// NotObservedPrefix starts the skip message of a spec that ran but could
// not provoke what it judges (no collision, no refusal): its reason gives
// the numbers, and it is never a FAIL.
const NotObservedPrefix = "NOT OBSERVED: "

// NotObserved ends the spec as skipped because the target never showed the
// behaviour the spec judges, with what was tried.
func NotObserved(format string, a ...any) {
	GinkgoHelper()
	Skip(NotObservedPrefix + fmt.Sprintf(format, a...))
}

// Request is one request of a round.
type Request struct {
	Method, Path, Body, ContentType string
}

// Outcome is what one request of a round got: a response or an error.
type Outcome struct {
	*Response
	Err error
}

// Round is the outcomes of requests sent together, in request order, and
// the spread between the first and the last one written.
type Round struct {
	Outcomes []Outcome
	Spread   time.Duration
}

// Together sends reqs through c at the same moment and waits for every
// answer: connections are warmed, the requests validated and their share of
// the budget taken before the barrier opens. It never fails the spec;
// errors are in the outcomes.
func (c Caller) Together(reqs []Request) Round {
	c.warm(reqs)
	built := make([]*http.Request, len(reqs))
	for i, r := range reqs {
		req, cancel, err := c.forRequest(i).request(r.Method, r.Path, r.Body, r.ContentType)
		if err != nil {
			return failedRound(len(reqs), err)
		}
		defer cancel()
		if built[i], err = c.env.checker.CheckRequest(req); err != nil {
			return failedRound(len(reqs), err)
		}
	}
	if !c.noBudget {
		if _, err := c.reserve(built); err != nil {
			return failedRound(len(reqs), err)
		}
		for i, req := range built {
			built[i] = req.WithContext(prepaid(req.Context()))
		}
	}
	out := make([]Outcome, len(reqs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range built {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i].Response, out[i].Err = c.forRequest(i).do(built[i], reqs[i].Body)
		}()
	}
	close(start)
	wg.Wait()
	return Round{Outcomes: out, Spread: spread(out)}
}

// Answered counts the outcomes answered with status.
func (r Round) Answered(status int) int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Err == nil && o.Status == status {
			n++
		}
	}
	return n
}

// warm opens one connection per request with concurrent reads of the
// requests' paths, so that the round's writers do not spread out while
// dialling; kept-alive connections then carry the round.
func (c Caller) warm(reqs []Request) {
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.forRequest(i).Send(http.MethodGet, r.Path, "", "")
		}()
	}
	wg.Wait()
}

// reserve takes from the budget, ahead, one request for each of reqs
// (per app and operation), waiting at most 30 s, and returns how many it
// took per budget key.
func (c Caller) reserve(reqs []*http.Request) (map[string]int, error) {
	ctx, cancel := context.WithTimeout(c.env.run, 30*time.Second)
	defer cancel()
	taken := map[string]int{}
	for i, n := range sameOperation(c.env, reqs) {
		if err := c.env.budget.reserve(ctx, reqs[i], n); err != nil {
			return nil, err
		}
		taken[c.env.budget.key(reqs[i])] = n
	}
	return taken, nil
}

// Prepay takes from the request budget, ahead, what reqs will spend (per
// app and operation), and returns a caller whose requests leave at once
// while that share lasts (then wait their turn as any other) and are
// never retried: a concurrent history records what the target answered
// each request, once, a 429 or a 503 included.
func (c Caller) Prepay(reqs []Request) (Caller, error) {
	built := make([]*http.Request, len(reqs))
	for i, r := range reqs {
		req, cancel, err := c.request(r.Method, r.Path, r.Body, r.ContentType)
		if err != nil {
			return c, err
		}
		cancel()
		built[i] = req
	}
	c.once = true
	if c.noBudget {
		return c, nil
	}
	taken, err := c.reserve(built)
	if err != nil {
		return c, err
	}
	c.share = &share{left: taken}
	return c, nil
}

// sameOperation counts the requests per budget: index of the first request
// of each app and operation -> how many of reqs share its budget.
func sameOperation(e *Env, reqs []*http.Request) map[int]int {
	counts := map[int]int{}
	first := map[string]int{}
	for i, r := range reqs {
		key := e.budget.key(r)
		j, seen := first[key]
		if !seen {
			first[key], j = i, i
		}
		counts[j]++
	}
	return counts
}

func failedRound(n int, err error) Round {
	out := make([]Outcome, n)
	for i := range out {
		out[i].Err = err
	}
	return Round{Outcomes: out}
}

// spread is the time between the first and the last request written.
func spread(out []Outcome) time.Duration {
	var first, last time.Time
	for _, o := range out {
		if o.Err != nil || o.Sent.IsZero() {
			continue
		}
		if first.IsZero() || o.Sent.Before(first) {
			first = o.Sent
		}
		if o.Sent.After(last) {
			last = o.Sent
		}
	}
	return last.Sub(first)
}

// Race keeps the tally of a spec's rounds and decides when to stop.
type Race struct {
	start      time.Time
	writers    int
	rounds     int
	collisions int
	spreads    []time.Duration
}

// NewRace starts the tally of rounds of the given number of writers.
func NewRace(writers int) *Race { return &Race{start: time.Now(), writers: writers} }

// More reports whether another round should run: until a collision has
// been seen in at least raceMinRounds rounds, within raceMaxRounds rounds
// and raceMaxTime.
func (r *Race) More() bool {
	if r.collisions > 0 && r.rounds >= raceMinRounds {
		return false
	}
	return r.rounds < raceMaxRounds && time.Since(r.start) < raceMaxTime
}

// Record adds a round and whether it collided.
func (r *Race) Record(round Round, collided bool) {
	r.rounds++
	if collided {
		r.collisions++
	}
	r.spreads = append(r.spreads, round.Spread)
}

// Rounds is the number of rounds recorded.
func (r *Race) Rounds() int { return r.rounds }

// Collisions is the number of rounds that collided.
func (r *Race) Collisions() int { return r.collisions }

// String sums the race up for reports: rounds, collisions and the send
// spread of the writers (first to last written).
func (r *Race) String() string {
	s := slices.Clone(r.spreads)
	slices.Sort(s)
	med, worst := time.Duration(0), time.Duration(0)
	if len(s) > 0 {
		med, worst = s[len(s)/2], s[len(s)-1]
	}
	rounds := fmt.Sprintf("%d rounds", r.rounds)
	if r.rounds == 1 {
		rounds = "1 round"
	}
	return fmt.Sprintf("%s of %d simultaneous writers in %.1fs, %d with a 409; send spread (first to last writer) median %s, max %s",
		rounds, r.writers, time.Since(r.start).Seconds(), r.collisions, med.Round(time.Microsecond), worst.Round(time.Microsecond))
}
