package framework

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/attrconform/attrconform/contract"
)

// The two loads of the rate-limit specs, both bounded in count and time
// and sent without the client budget: a paced load under a rate, which a
// conforming target must serve whole, and a flood over it, which it must
// refuse.

// floodWorkers is how many requests a flood keeps in flight, so that a
// target a few milliseconds away still sees them arrive together.
const floodWorkers = 8

// Load is what a load sent and got: the number of requests answered, the
// time from the first send to the last answer, and the first answer other
// than 200 (nil when all were 200) or the error that stopped the load.
// Status is that answer's status, also when the answer broke the contract
// (Err is then the *contract.Violation and First is nil).
type Load struct {
	Sent    int
	Elapsed time.Duration
	First   *Response
	Status  int
	Err     error
}

// stop records the answer (or error) that ends a load.
func (l *Load) stop(resp *Response, err error) {
	l.First, l.Err = resp, err
	var v *contract.Violation
	switch {
	case resp != nil:
		l.Status = resp.Status
	case errors.As(err, &v):
		l.Status = v.Status
	}
}

// Calm waits until at most n requests of r's app and operation were sent
// in the last second (at most a second): earlier specs' traffic must not
// push a paced load over a per-second limit, nor make a window-based
// limiter refuse it.
func (c Caller) Calm(r Request, n int) {
	req, cancel, err := c.request(r.Method, r.Path, r.Body, r.ContentType)
	if err != nil {
		return
	}
	defer cancel()
	c.env.budget.calm(req.Context(), req, n)
}

// Paced sends r at most perSecond times a second, never two requests
// closer than 1/perSecond apart, for d or until an answer other than 200.
func (c Caller) Paced(r Request, perSecond float64, d time.Duration) Load {
	c.noBudget = true
	gap := time.Duration(float64(time.Second) / perSecond)
	start := time.Now()
	var l Load
	for next := start; time.Since(start) < d; next = next.Add(gap) {
		time.Sleep(time.Until(next))
		next = time.Now()
		resp, err := c.Send(r.Method, r.Path, r.Body, r.ContentType)
		l.Sent++
		if err != nil || resp.Status != http.StatusOK {
			l.stop(resp, err)
			break
		}
	}
	l.Elapsed = time.Since(start)
	return l
}

// Flood sends r up to n times as fast as floodWorkers workers can, for at
// most d, and stops at the first answer other than 200. A 409 is no such
// answer: concurrent writes of one user may conflict (UA-CONC-001), and
// a conflict was served, not refused for the rate.
func (c Caller) Flood(r Request, n int, d time.Duration) Load {
	c.noBudget = true
	var (
		mu   sync.Mutex
		l    Load
		wg   sync.WaitGroup
		stop bool
	)
	start := time.Now()
	for range floodWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if stop || l.Sent == n || time.Since(start) >= d {
					mu.Unlock()
					return
				}
				l.Sent++
				mu.Unlock()
				resp, err := c.Send(r.Method, r.Path, r.Body, r.ContentType)
				if err == nil && (resp.Status == http.StatusOK || resp.Status == http.StatusConflict) {
					continue
				}
				mu.Lock()
				if !stop {
					stop = true
					l.stop(resp, err)
				}
				mu.Unlock()
				return
			}
		}()
	}
	wg.Wait()
	l.Elapsed = time.Since(start)
	return l
}
