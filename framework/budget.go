package framework

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/attrconform/attrconform/contract/wire"
)

// Retries of a request answered 429 or 503 outside the specs about those
// codes (UA-RATE-004), and the longest pause honoured between them.
const (
	maxRetries   = 3
	maxRetryWait = 2 * time.Second
)

type (
	noBudgetKey struct{}
	prepaidKey  struct{}
	shareKey    struct{}
	onceKey     struct{}
)

// share is budget taken ahead (Caller.Prepay): per budget key, how many
// requests may still leave without waiting.
type share struct {
	mu   sync.Mutex
	left map[string]int
}

func (s *share) take(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.left[key] == 0 {
		return false
	}
	s.left[key]--
	return true
}

// withoutBudget marks a request of a spec that tests the server's own rate
// limit: it is neither throttled nor retried.
func withoutBudget(ctx context.Context) context.Context {
	return context.WithValue(ctx, noBudgetKey{}, true)
}

// prepaid marks a request whose share of the budget was taken in advance
// (reserve): its first attempt leaves at once, retries are budgeted.
func prepaid(ctx context.Context) context.Context {
	return context.WithValue(ctx, prepaidKey{}, true)
}

// ErrBudget means the request could not be sent within the client budget
// or was refused for rate reasons after every retry: a harness error.
var ErrBudget = errors.New("request budget exhausted")

// budget keeps the suite under the target's request rate, per app and
// operation as the documents set the limit (100 calls/s per App Key for
// each method), and backs off on 429/503 with Retry-After.
type budget struct {
	next      http.RoundTripper
	perSecond float64
	// operation names the documented operation of a request; requests
	// outside the contract share one budget per app.
	operation func(*http.Request) string
	mu        sync.Mutex
	limiters  map[string]*rate.Limiter // "/org/app operationId" -> limiter
	sent      map[string][]time.Time   // key -> sends of the last second
}

// window is how far back sends are remembered: the documented limits
// count calls per second.
const window = time.Second

// note records a send of key at t and forgets sends older than window.
func (b *budget) note(key string, t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sent == nil {
		b.sent = map[string][]time.Time{}
	}
	times := b.sent[key]
	i := 0
	for i < len(times) && t.Sub(times[i]) >= window {
		i++
	}
	b.sent[key] = append(times[i:], t)
}

// calm waits until at most n requests of req's app and operation were sent
// in the last window, so that a load judged against the target's limit
// is not pushed over it by earlier traffic. It waits at most window.
func (b *budget) calm(ctx context.Context, req *http.Request, n int) error {
	key := b.key(req)
	for {
		b.mu.Lock()
		now, times := time.Now(), b.sent[key]
		var recent []time.Time
		for _, t := range times {
			if now.Sub(t) < window {
				recent = append(recent, t)
			}
		}
		b.mu.Unlock()
		if len(recent) <= n {
			return nil
		}
		select {
		case <-time.After(recent[len(recent)-n-1].Add(window).Sub(now)):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// key names the budget req spends: its app and operation.
func (b *budget) key(req *http.Request) string {
	key := req.URL.Path
	if parts := strings.SplitN(key, "/", 4); len(parts) >= 3 {
		key = "/" + parts[1] + "/" + parts[2]
	}
	if b.operation != nil {
		key += " " + b.operation(req)
	}
	return key
}

func (b *budget) limiter(req *http.Request) *rate.Limiter {
	key := b.key(req)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limiters == nil {
		b.limiters = map[string]*rate.Limiter{}
	}
	l, ok := b.limiters[key]
	if !ok {
		l = rate.NewLimiter(rate.Limit(b.perSecond), b.burst())
		b.limiters[key] = l
	}
	return l
}

// burst is how many requests of one operation may leave at once: one
// second's worth, as the documented per-second limit allows.
func (b *budget) burst() int { return max(1, int(b.perSecond)) }

// reserve waits until the budget of req's app and operation holds n
// requests and takes them, so that n requests marked prepaid can then
// leave together. n above the burst can never be held: an error.
func (b *budget) reserve(ctx context.Context, req *http.Request, n int) error {
	if err := b.limiter(req).WaitN(ctx, n); err != nil {
		return fmt.Errorf("%w: %v", ErrBudget, err)
	}
	return nil
}

func (b *budget) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Context().Value(noBudgetKey{}) != nil {
		b.note(b.key(req), time.Now())
		return b.next.RoundTrip(req)
	}
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	limiter := b.limiter(req)
	paid := req.Context().Value(prepaidKey{}) != nil
	if s, ok := req.Context().Value(shareKey{}).(*share); ok {
		paid = s.take(b.key(req))
	}
	once := req.Context().Value(onceKey{}) != nil
	// A request asking for a fault (Caller.WithFault) takes the 503 it
	// asked for as its answer: only a 429 is waited out.
	fault := req.Header.Get(wire.FaultHeader) != ""
	for attempt := 0; ; attempt++ {
		if attempt > 0 || !paid {
			if err := limiter.Wait(req.Context()); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrBudget, err)
			}
		}
		req.Body = body()
		b.note(b.key(req), time.Now())
		resp, err := b.next.RoundTrip(req)
		refused := resp != nil && (resp.StatusCode == http.StatusTooManyRequests || (resp.StatusCode == http.StatusServiceUnavailable && !fault))
		if err != nil || once || !refused {
			return resp, err
		}
		if attempt == maxRetries {
			resp.Body.Close()
			return nil, fmt.Errorf("%w: still %d after %d retries", ErrBudget, resp.StatusCode, maxRetries)
		}
		wait := retryAfter(resp.Header.Get("Retry-After"), attempt)
		resp.Body.Close()
		select {
		case <-time.After(wait):
		case <-req.Context().Done():
			return nil, fmt.Errorf("%w: %v", ErrBudget, req.Context().Err())
		}
	}
}

// retryAfter honours the server's Retry-After seconds, else backs off
// exponentially, never beyond maxRetryWait.
func retryAfter(h string, attempt int) time.Duration {
	wait := time.Duration(100<<attempt) * time.Millisecond
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		wait = time.Duration(s) * time.Second
	}
	return min(wait, maxRetryWait)
}

// readBody buffers the request body so that a retry can send it again.
func readBody(req *http.Request) (func() io.ReadCloser, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return func() io.ReadCloser { return http.NoBody }, nil
	}
	data, err := io.ReadAll(req.Body)
	req.Body.Close()
	return func() io.ReadCloser { return io.NopCloser(bytes.NewReader(data)) }, err
}
