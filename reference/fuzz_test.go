package reference

// Fuzz targets against the handler: form bodies, JSON bodies, usernames,
// headers and whole requests. Every input must get an answer that is not a
// 5xx (apart from the two a fault hook was asked for by name), carries the
// JSON envelope, and, unless it is a 200, changes nothing: no committed
// write or delete, no new account, no new token. The store's invariants
// (capacity is the sum of the users' sizes, no user over its limit) hold
// after every request.
//
// The seed corpus is in testdata/fuzz/<Target>/; `make fuzz` runs each
// target for FUZZTIME, and a plain `go test` runs the seeds.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/attrconform/attrconform/contract/wire"

	"github.com/attrconform/attrconform/reference/store"
)

// countingStore counts the writes and deletes that took effect.
type countingStore struct {
	store.Store
	changes atomic.Int64
}

func (c *countingStore) Commit(app, user string, w store.Write) error {
	err := c.Store.Commit(app, user, w)
	if err == nil {
		c.changes.Add(1)
	}
	return err
}

func (c *countingStore) Delete(app, user string) error {
	err := c.Store.Delete(app, user)
	if err == nil {
		c.changes.Add(1)
	}
	return err
}

// fuzzBed is a fresh server with seeded data and a counting store.
type fuzzBed struct {
	s     *Server
	store *countingStore
}

func newFuzzBed(t *testing.T, hooks bool) *fuzzBed {
	t.Helper()
	cs := &countingStore{Store: store.NewMemory()}
	s := newServer(t, withAccounts, func(c *Config) {
		c.Store = cs
		c.FaultHooks = hooks
		c.Limits.RatePerSecond = 1e9 // the budget would hide what the fuzzer sends
	})
	for user, body := range map[string]string{"alice": "nickname=Alice&avatarurl=http%3A%2F%2Fa.example%2Fa.png", "bob": "sign=%E6%B7%B1&ext="} {
		if a := put(t, s, user, adminToken, body); a.status != 200 {
			t.Fatalf("seeding %s: %d %s", user, a.status, a.raw)
		}
	}
	if a := do(t, s, "PUT", "/acme/tiny/metadata/user/erin", "TINY-admin-0001", form, "k=v"); a.status != 200 {
		t.Fatalf("seeding erin: %d %s", a.status, a.raw)
	}
	cs.changes.Store(0)
	return &fuzzBed{s: s, store: cs}
}

// accountState fingerprints what the account endpoints change.
func (b *fuzzBed) accountState() string {
	b.s.mu.RLock()
	defer b.s.mu.RUnlock()
	var parts []string
	for key, a := range b.s.apps {
		for u := range a.users {
			parts = append(parts, key+"/"+u)
		}
	}
	slices.Sort(parts)
	parts = append(parts, "tokens="+strconv.Itoa(len(b.s.tokens)))
	return strings.Join(parts, ",")
}

// exercise sends req and checks the answer and the state around it. A
// fault hook named by the request may answer 500 or 503.
func (b *fuzzBed) exercise(t *testing.T, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	before := b.accountState()
	b.store.changes.Store(0)
	rec := httptest.NewRecorder()
	b.s.ServeHTTP(rec, req)
	status := rec.Code
	desc := req.Method + " " + req.URL.Path

	fault := req.Header.Get(wire.FaultHeader)
	hooked := b.s.cfg.FaultHooks && (status == 500 && fault == wire.FaultStore || status == 503 && fault == wire.FaultOverload)
	if status >= 500 && !hooked {
		t.Fatalf("%s answered %d: %s", desc, status, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s answered %d with Content-Type %q", desc, status, ct)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s answered %d with a body that is not a JSON object: %q", desc, status, rec.Body.String())
	}
	if status >= 400 {
		if _, ok := body["error_description"].(string); !ok {
			t.Fatalf("%s answered %d without error_description: %s", desc, status, rec.Body.String())
		}
		if _, has := body["error"]; !has {
			t.Fatalf("%s answered %d without error: %s", desc, status, rec.Body.String())
		}
	} else if _, has := body["error"]; has {
		t.Fatalf("%s answered %d with an error key: %s", desc, status, rec.Body.String())
	}
	if status != http.StatusOK {
		if n := b.store.changes.Load(); n != 0 {
			t.Fatalf("%s was refused (%d) but committed %d changes", desc, status, n)
		}
		if after := b.accountState(); after != before {
			t.Fatalf("%s was refused (%d) but changed the accounts", desc, status)
		}
	}
	b.checkInvariants(t)
	return rec
}

// checkInvariants: every app's capacity is the sum of its users' sizes,
// each size is the metric of the stored map, and none is over the limit.
func (b *fuzzBed) checkInvariants(t *testing.T) {
	t.Helper()
	b.s.mu.RLock()
	defer b.s.mu.RUnlock()
	for key, a := range b.s.apps {
		var sum int64
		for u := range a.users {
			e, err := b.store.Load(key, u)
			if err != nil {
				t.Fatal(err)
			}
			size, _ := b.s.cfg.SizeMetric.Measure(e.Attrs)
			if size != e.Size || size > b.s.cfg.Limits.UserBytes {
				t.Fatalf("%s/%s holds %d bytes recorded as %d (limit %d)", key, u, size, e.Size, b.s.cfg.Limits.UserBytes)
			}
			sum += e.Size
		}
		usage, err := b.store.Usage(key)
		if err != nil {
			t.Fatal(err)
		}
		if usage != sum {
			t.Fatalf("%s: capacity %d, users hold %d", key, usage, sum)
		}
	}
}

func request(method, target, token, contentType, body string) *http.Request {
	req := httptest.NewRequest(method, "/", strings.NewReader(body))
	req.URL.Path = target
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// principals the fuzzers pick from.
var fuzzTokens = []string{adminToken, aliceToken, bobToken, "TINY-admin-0001", ""}

// FuzzFormBody: any PUT body, with any Content-Type, by any principal.
func FuzzFormBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, body, contentType string, who uint8) {
		b := newFuzzBed(t, false)
		token := fuzzTokens[int(who)%len(fuzzTokens)]
		before, _ := b.store.Load("acme/chat", "alice")
		rec := b.exercise(t, request("PUT", "/acme/chat/metadata/user/alice", token, contentType, body))
		if rec.Code != 200 {
			return
		}
		// The answer shows what was stored; untouched keys are kept (merge).
		var answer struct{ Data map[string]string }
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
			t.Fatalf("a 200 PUT answered %s", rec.Body.String())
		}
		after, _ := b.store.Load("acme/chat", "alice")
		for k, v := range answer.Data {
			if got, has := after.Attrs[k]; !has && v != "" || has && got != v {
				t.Fatalf("the answer says %q=%q, the store holds %q", k, v, got)
			}
		}
		for k, v := range before.Attrs {
			if _, named := answer.Data[k]; !named && after.Attrs[k] != v {
				t.Fatalf("key %q not in the request changed from %q to %q", k, v, after.Attrs[k])
			}
		}
	})
}

// FuzzJSONBody: any JSON body to the batch read, the token endpoint and
// registration, by any principal.
func FuzzJSONBody(f *testing.F) {
	paths := []string{"/acme/chat/metadata/user/get", "/acme/chat/token", "/acme/chat/users"}
	f.Fuzz(func(t *testing.T, endpoint uint8, body string, who uint8) {
		b := newFuzzBed(t, false)
		path := paths[int(endpoint)%len(paths)]
		rec := b.exercise(t, request("POST", path, fuzzTokens[int(who)%len(fuzzTokens)], "application/json", body))
		if rec.Code == 200 && strings.HasSuffix(path, "/token") {
			var answer struct {
				AccessToken string `json:"access_token"`
				ExpiresIn   int64  `json:"expires_in"`
			}
			json.Unmarshal(rec.Body.Bytes(), &answer)
			if !wellFormedToken(answer.AccessToken) || answer.ExpiresIn < 0 {
				t.Fatalf("issued token %q for %d s cannot be used", answer.AccessToken, answer.ExpiresIn)
			}
			b.exercise(t, request("GET", "/acme/chat/metadata/user/alice", answer.AccessToken, "", ""))
		}
	})
}

// FuzzUsername: any username in the path of PUT, GET and DELETE.
func FuzzUsername(f *testing.F) {
	methods := []string{"GET", "PUT", "DELETE", "POST", "PATCH"}
	f.Fuzz(func(t *testing.T, name string, method, who uint8) {
		b := newFuzzBed(t, false)
		m := methods[int(method)%len(methods)]
		body := ""
		if m == "PUT" {
			body = "fuzz=1"
		}
		b.exercise(t, request(m, "/acme/chat/metadata/user/"+name, fuzzTokens[int(who)%len(fuzzTokens)], form, body))
	})
}

// FuzzHeaders: any Authorization, Content-Type, fault and other headers
// on a PUT and a GET, with fault hooks on: only the two named faults may
// answer 5xx, and they change nothing.
func FuzzHeaders(f *testing.F) {
	f.Fuzz(func(t *testing.T, authorization, contentType, fault, name, value string) {
		b := newFuzzBed(t, true)
		for _, m := range []string{"PUT", "GET"} {
			req := request(m, "/acme/chat/metadata/user/alice", "", "", "fuzz=1")
			req.Header["Authorization"] = []string{authorization}
			req.Header["Content-Type"] = []string{contentType}
			req.Header[wire.FaultHeader] = []string{fault}
			req.Header.Add(name, value)
			b.exercise(t, req)
		}
	})
}

// FuzzRequest: whole HTTP/1.1 requests, as a client could send them, with
// fault hooks on.
func FuzzRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return // net/http answers these itself, before any handler
		}
		body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		if err != nil {
			return // a truncated body: net/http would not call the handler either
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		b := newFuzzBed(t, true)
		b.exercise(t, req)
	})
}
