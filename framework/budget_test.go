package framework

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/attrconform/attrconform/contract/wire"
)

// A target that keeps answering 429 gets the first try and maxRetries
// retries, honouring Retry-After, then a budget error: a harness ERROR,
// not a verdict on the target.
func TestBudgetRetriesThenGivesUp(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	b := &budget{next: http.DefaultTransport, perSecond: 1000}
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/acme/chat/metadata/user/alice", strings.NewReader("a=1"))
	_, err := b.RoundTrip(req)
	if !errors.Is(err, ErrBudget) || calls.Load() != maxRetries+1 {
		t.Fatalf("err %v after %d calls; want ErrBudget after %d", err, calls.Load(), maxRetries+1)
	}
}

func TestBudgetResendsTheBodyAndStopsAtSuccess(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, 3)
		n, _ := r.Body.Read(body)
		if string(body[:n]) != "a=1" {
			t.Errorf("attempt %d got body %q", calls.Load(), body[:n])
		}
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	b := &budget{next: http.DefaultTransport, perSecond: 1000}
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/acme/chat/metadata/user/alice", strings.NewReader("a=1"))
	resp, err := b.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK || calls.Load() != 2 {
		t.Fatalf("status %v err %v calls %d", resp, err, calls.Load())
	}
}

func TestRetryAfterIsBounded(t *testing.T) {
	for h, want := range map[string]time.Duration{"1": time.Second, "3600": maxRetryWait, "": 100 * time.Millisecond, "soon": 100 * time.Millisecond} {
		if got := retryAfter(h, 0); got != want {
			t.Errorf("Retry-After %q: %v, want %v", h, got, want)
		}
	}
}

func request(method, path string) *http.Request {
	req, _ := http.NewRequest(method, "http://127.0.0.1:1"+path, nil)
	return req
}

// The documents limit calls per app for each method, so the budget is one
// per app and operation: a PUT-heavy spec does not slow the reads.
func TestBudgetKeepsOneLimiterPerAppAndOperation(t *testing.T) {
	op := func(r *http.Request) string { return r.Method }
	b := &budget{perSecond: 5, operation: op}
	if b.limiter(request("PUT", "/acme/chat/metadata/user/a")) != b.limiter(request("PUT", "/acme/chat/metadata/user/b")) {
		t.Error("two limiters for one app and operation")
	}
	if b.limiter(request("PUT", "/acme/chat/metadata/user/a")) == b.limiter(request("GET", "/acme/chat/metadata/user/a")) {
		t.Error("one limiter for two operations")
	}
	if b.limiter(request("PUT", "/acme/chat/metadata/user/a")) == b.limiter(request("PUT", "/acme/tiny/metadata/user/a")) {
		t.Error("one limiter for two apps")
	}
}

// A prepaid request leaves without waiting for the budget, whatever earlier
// requests spent; its share was taken by reserve, which waits for it.
func TestPrepaidRequestsLeaveAtOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	b := &budget{next: http.DefaultTransport, perSecond: 10}
	url := srv.URL + "/acme/chat/metadata/user/a"
	if err := b.reserve(context.Background(), request("PUT", "/acme/chat/metadata/user/a"), 10); err != nil {
		t.Fatal(err)
	}
	// A deadline the limiter could not meet: Wait refuses at once, so only
	// a request that skips the limiter gets through.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	paid, _ := http.NewRequestWithContext(prepaid(ctx), "PUT", url, nil)
	for i := range 5 {
		resp, err := b.RoundTrip(paid)
		if err != nil {
			t.Fatalf("prepaid request %d on a spent budget: %v", i+1, err)
		}
		resp.Body.Close()
	}
	unpaid, _ := http.NewRequestWithContext(ctx, "PUT", url, nil)
	if _, err := b.RoundTrip(unpaid); !errors.Is(err, ErrBudget) {
		t.Errorf("an unpaid request on a spent budget went through at once: %v", err)
	}
	if err := b.reserve(context.Background(), request("PUT", "/acme/chat/metadata/user/a"), 11); !errors.Is(err, ErrBudget) {
		t.Errorf("reserving more than the burst: %v", err)
	}
}

// A share taken ahead lets that many requests of its app and operation
// leave at once and no more; a request sent once is never retried, so a
// history records the 429 the target answered.
func TestAShareLeavesAtOnceAndOnceIsNeverRetried(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	b := &budget{next: http.DefaultTransport, perSecond: 10}
	key := b.key(request("PUT", "/acme/chat/metadata/user/a"))
	if err := b.reserve(context.Background(), request("PUT", "/acme/chat/metadata/user/a"), 10); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	ctx = context.WithValue(context.WithValue(ctx, shareKey{}, &share{left: map[string]int{key: 2}}), onceKey{}, true)
	url := srv.URL + "/acme/chat/metadata/user/a"
	for i := range 2 {
		req, _ := http.NewRequestWithContext(ctx, "PUT", url, nil)
		resp, err := b.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("request %d of the share: %v %v", i+1, resp, err)
		}
		resp.Body.Close()
	}
	if calls.Load() != 2 {
		t.Errorf("%d calls for two requests sent once", calls.Load())
	}
	req, _ := http.NewRequestWithContext(ctx, "PUT", url, nil)
	if _, err := b.RoundTrip(req); !errors.Is(err, ErrBudget) {
		t.Errorf("a third request, beyond the share, left at once on a spent budget: %v", err)
	}
}

// A request asking for a fault goes through the budget: a 429 is waited
// out and sent again; the 503 it asked for is its answer, not retried.
func TestAFaultRequestRetriesOnlyARefusalForTheRate(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	b := &budget{next: http.DefaultTransport, perSecond: 100}
	req, _ := http.NewRequest("DELETE", srv.URL+"/acme/chat/metadata/user/a", nil)
	req.Header.Set(wire.FaultHeader, wire.FaultOverload)
	resp, err := b.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || calls.Load() != 2 {
		t.Fatalf("%v %v after %d calls: want the 503 asked for, after one retry of the 429", resp, err, calls.Load())
	}
	resp.Body.Close()
}
