package framework

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/attrconform/attrconform/target"
)

// A target that stops answering stops the run after MaxTransportErrors
// requests in a row got no answer; an answer in between (even one the
// contract refuses) starts the count again. The cleanup's requests
// outlive the stopped run, within their own time limit.
func TestATargetThatStopsAnsweringStopsTheRun(t *testing.T) {
	var silent atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if silent.Load() {
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`not json`))
	}))
	defer srv.Close()
	tg := &target.Target{BaseURL: srv.URL, Org: "acme", App: target.App{Name: "chat", AdminToken: "YWMtAdmin-0123456789"}}
	e, err := NewEnv(tg)
	if err != nil {
		t.Fatal(err)
	}
	e.RequestTimeout = 100 * time.Millisecond
	admin := e.Admin()
	send := func() error { _, err := admin.Send(http.MethodGet, "/metadata/user/capacity", "", ""); return err }

	silent.Store(true)
	for range MaxTransportErrors - 1 {
		send()
	}
	silent.Store(false)
	if err := send(); err == nil || e.Stopped() != nil {
		t.Fatalf("an answer the contract refuses: %v, stopped %v; want a violation and the run going on", err, e.Stopped())
	}
	silent.Store(true)
	for range MaxTransportErrors {
		send()
	}
	cause := e.Stopped()
	if cause == nil || !strings.Contains(cause.Error(), "the target stopped answering after the preflight; 5 transport errors in a row") {
		t.Fatalf("stopped: %v", cause)
	}
	start := time.Now()
	if err := send(); err == nil || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("a request after the stop: %v after %v, want a failure at once", err, time.Since(start))
	}
	silent.Store(false)
	_, err = e.RestoreUsers(nil)
	if err != nil {
		t.Fatalf("the cleanup after a stop: %v", err)
	}
}

// The cleanup against a target that gives no answer is bounded: it tries
// one user, and names the others as not tried.
func TestTheCleanupNamesWhatItCouldNotRestore(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close() // accepts (the kernel's backlog) and never answers
	users := []target.User{{Name: "alice"}, {Name: "bob"}, {Name: "carol"}}
	tg := &target.Target{BaseURL: "http://" + ln.Addr().String(), Org: "acme", App: target.App{Name: "chat", AdminToken: "YWMtAdmin-0123456789", Users: users}}
	e, err := NewEnv(tg)
	if err != nil {
		t.Fatal(err)
	}
	e.RequestTimeout = 200 * time.Millisecond
	start := time.Now()
	_, err = e.RestoreUsers(nil)
	if err == nil || !strings.Contains(err.Error(), "emptying chat/alice") || !strings.Contains(err.Error(), "not tried, the target stopped answering: chat/bob, chat/carol") {
		t.Fatalf("cleanup: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the cleanup took %v", took)
	}
}

// The leak check reads each user back: an answer that shows nothing of
// what the user holds (here a server error) is no clean check but
// a cleanup error naming the user; a 404 for an emptied user is clean.
func TestTheLeakCheckNeedsAnAnswerThatShowsTheUser(t *testing.T) {
	refuse := map[string]bool{"bob": true}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		user := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		switch {
		case r.Method == http.MethodDelete:
			w.Write([]byte(`{"timestamp":` + strconv.FormatInt(time.Now().UnixMilli(), 10) + `,"data":true,"duration":0}`))
		case refuse[user]:
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"error":"internal","error_description":"the store is down","timestamp":1,"duration":0}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":"not_found","error_description":"no such user","timestamp":1,"duration":0}`))
		}
	}))
	defer srv.Close()
	users := []target.User{{Name: "alice"}, {Name: "bob"}}
	e, err := NewEnv(&target.Target{BaseURL: srv.URL, Org: "acme", App: target.App{Name: "chat", AdminToken: "YWMtAdmin-0123456789", Users: users}})
	if err != nil {
		t.Fatal(err)
	}
	leaks, err := e.RestoreUsers(nil)
	if len(leaks) > 0 || err == nil || !strings.Contains(err.Error(), "the leak check of chat/bob: 500") || strings.Contains(err.Error(), "alice") {
		t.Fatalf("leaks %v, error %v: want bob's check refused, alice's clean", leaks, err)
	}
}
