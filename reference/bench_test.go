package reference

// Go benchmarks of the reference. `make bench` runs them next to the
// loopback load run of tools/bench, which measures the ratios
// BENCHMARKS.md reports; these give the costs behind them: the handler
// alone, the handler over loopback, and the stores. Every benchmark runs
// with the rate limit lifted and the race window off (RaceWindow < 0), or
// it would measure the 100 requests/s budget and the 10 ms sleep.

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	attrconform "github.com/attrconform/attrconform"
	"github.com/attrconform/attrconform/contract"
	"github.com/attrconform/attrconform/reference/store"
	"github.com/attrconform/attrconform/reference/store/boltstore"
	"github.com/attrconform/attrconform/target"
)

// benchOp is one kind of request; worker picks the user, so parallel
// writers never collide.
type benchOp struct {
	name, method, contentType string
	path                      func(worker int) string
	body                      func(i int) string
}

// benchUsers are enough users for one per parallel worker.
var benchUsers = func() []string {
	var out []string
	for i := range 16 {
		out = append(out, fmt.Sprintf("bench%02d", i))
	}
	return out
}()

func benchUser(w int) string { return benchUsers[w%len(benchUsers)] }

var benchOps = []benchOp{
	{name: "GET", method: "GET",
		path: func(w int) string { return "/acme/chat/metadata/user/" + benchUser(w) },
		body: func(int) string { return "" }},
	{name: "PUT", method: "PUT", contentType: form,
		path: func(w int) string { return "/acme/chat/metadata/user/" + benchUser(w) },
		body: func(i int) string { return fmt.Sprintf("nickname=n%06d&sign=hello", i%1000000) }},
	{name: "batch", method: "POST", contentType: "application/json",
		path: func(int) string { return "/acme/chat/metadata/user/get" },
		body: func(int) string { return `{"targets":["bench00","bench01"],"properties":["nickname","sign"]}` }},
}

func benchServer(b *testing.B, st store.Store) *Server {
	b.Helper()
	tn := testTenant()
	for _, u := range benchUsers {
		tn.Apps[0].Users = append(tn.Apps[0].Users, target.User{Name: u})
	}
	cfg := Config{Tenant: tn, RaceWindow: NoRaceWindow, Store: st}
	cfg.Limits.RatePerSecond = 1e9
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	for _, u := range benchUsers {
		req := httptest.NewRequest("PUT", "/acme/chat/metadata/user/"+u, strings.NewReader("nickname=seed&sign=hello"))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", form)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("seeding %s: %d %s", u, rec.Code, rec.Body)
		}
	}
	return s
}

// bareHandler answers like a server that does nothing: the body drained,
// a fixed JSON answer of the reference's size.
func bareHandler(answer []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(http.StatusOK)
		w.Write(answer)
	})
}

func newBenchRequest(o benchOp, worker, i int) *http.Request {
	req := httptest.NewRequest(o.method, o.path(worker), strings.NewReader(o.body(i)))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if o.contentType != "" {
		req.Header.Set("Content-Type", o.contentType)
	}
	return req
}

// BenchmarkHandler is the handler alone, called directly.
func BenchmarkHandler(b *testing.B) {
	s := benchServer(b, store.NewMemory())
	for _, o := range benchOps {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, newBenchRequest(o, 0, 0))
		bare := bareHandler(rec.Body.Bytes())
		for _, side := range []struct {
			name string
			h    http.Handler
		}{{"bare", bare}, {"reference", s}} {
			b.Run(o.name+"/"+side.name, func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					rec := httptest.NewRecorder()
					side.h.ServeHTTP(rec, newBenchRequest(o, 0, i))
					if rec.Code != 200 {
						b.Fatalf("%d %s", rec.Code, rec.Body)
					}
					i++
				}
			})
		}
	}
}

// BenchmarkLoopback is the handler behind a real listener on 127.0.0.1,
// with parallel keep-alive clients, one user per worker.
func BenchmarkLoopback(b *testing.B) {
	s := benchServer(b, store.NewMemory())
	ref := httptest.NewServer(s)
	defer ref.Close()
	for _, o := range benchOps {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, newBenchRequest(o, 0, 0))
		bare := httptest.NewServer(bareHandler(rec.Body.Bytes()))
		for _, side := range []struct{ name, url string }{{"bare", bare.URL}, {"reference", ref.URL}} {
			b.Run(o.name+"/"+side.name, func(b *testing.B) { loopback(b, side.url, o) })
		}
		bare.Close()
	}
}

func loopback(b *testing.B, base string, o benchOp) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}}
	defer client.CloseIdleConnections()
	var workers, seq atomic.Int64
	b.SetParallelism(2)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := int(workers.Add(1))
		for pb.Next() {
			req, _ := http.NewRequest(o.method, base+o.path(w), strings.NewReader(o.body(int(seq.Add(1)))))
			req.Header.Set("Authorization", "Bearer "+adminToken)
			if o.contentType != "" {
				req.Header.Set("Content-Type", o.contentType)
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("%s: %d", o.name, resp.StatusCode)
				return
			}
		}
	})
}

// BenchmarkStore is a read and a compare-and-swap write on each store;
// the bolt write includes its fsync.
func BenchmarkStore(b *testing.B) {
	open := map[string]func(b *testing.B) store.Store{
		"memory": func(*testing.B) store.Store { return store.NewMemory() },
		"bolt": func(b *testing.B) store.Store {
			st, err := boltstore.Open(filepath.Join(b.TempDir(), "db"))
			if err != nil {
				b.Fatal(err)
			}
			return st
		},
	}
	for _, kind := range []string{"memory", "bolt"} {
		st := open[kind](b)
		attrs := map[string]string{"nickname": "n", "sign": "hello"}
		if err := st.Commit("o/a", "u", store.Write{Attrs: attrs, Size: 30, AppQuota: 1 << 30}); err != nil {
			b.Fatal(err)
		}
		b.Run(kind+"/load", func(b *testing.B) {
			for b.Loop() {
				if _, err := st.Load("o/a", "u"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(kind+"/commit", func(b *testing.B) {
			for b.Loop() {
				e, err := st.Load("o/a", "u")
				if err != nil {
					b.Fatal(err)
				}
				if err := st.Commit("o/a", "u", store.Write{Version: e.Version, Attrs: attrs, Size: 30, AppQuota: 1 << 30}); err != nil {
					b.Fatal(err)
				}
			}
		})
		st.Close()
	}
}

// BenchmarkClient is one sequential exchange with the reference over
// loopback through http.DefaultTransport ("plain") and through the
// suite's contract-validating transport over it ("validated").
func BenchmarkClient(b *testing.B) {
	s := benchServer(b, store.NewMemory())
	srv := httptest.NewServer(s)
	defer srv.Close()
	c, err := contract.Load(attrconform.Contract, srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	clients := []struct {
		name string
		rt   http.RoundTripper
	}{{"plain", http.DefaultTransport}, {"validated", &contract.Transport{Contract: c, Base: http.DefaultTransport}}}
	for _, o := range benchOps {
		for _, cl := range clients {
			b.Run(o.name+"/"+cl.name, func(b *testing.B) {
				client := &http.Client{Transport: cl.rt}
				i := 0
				for b.Loop() {
					req, _ := http.NewRequest(o.method, srv.URL+o.path(0), strings.NewReader(o.body(i)))
					req.Header.Set("Authorization", "Bearer "+adminToken)
					if o.contentType != "" {
						req.Header.Set("Content-Type", o.contentType)
					}
					resp, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Fatalf("%s: %d", o.name, resp.StatusCode)
					}
					i++
				}
			})
		}
	}
}
