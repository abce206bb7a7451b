package framework

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
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

func TestBudgetKeepsOneLimiterPerApp(t *testing.T) {
	b := &budget{perSecond: 5}
	if b.limiter("/acme/chat/metadata/user/a") != b.limiter("/acme/chat/metadata/user/b") {
		t.Error("two limiters for one app")
	}
	if b.limiter("/acme/chat/metadata/user/a") == b.limiter("/acme/tiny/metadata/user/a") {
		t.Error("one limiter for two apps")
	}
}
