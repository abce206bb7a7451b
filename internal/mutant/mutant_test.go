package mutant

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/reference/store"
	"github.com/attrconform/attrconform/target"
)

const (
	adminToken = "AdminToken-0123456789"
	u1Token    = "UserToken-u1-0123456789"
	u2Token    = "UserToken-u2-0123456789"
)

// serve starts the reference for a small tenant with mutant name applied
// ("" for the faithful reference) and returns a request function.
func serve(t *testing.T, name string) func(method, path, token, body, contentType string) (int, string) {
	t.Helper()
	cfg := reference.Config{
		Tenant: target.Tenant{Org: "o", Apps: []target.App{
			{Name: "a", AdminToken: adminToken, Users: []target.User{{Name: "u1", Token: u1Token}, {Name: "u2", Token: u2Token}}},
		}},
		RaceWindow: reference.NoRaceWindow,
	}
	var wrap func(http.Handler) http.Handler
	if name != "" {
		m, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		wrap = m.Apply(&cfg)
	}
	ref, err := reference.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ref.Close() })
	var h http.Handler = ref
	if wrap != nil {
		h = wrap(ref)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return func(method, path, token, body, contentType string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+"/o/a/metadata/user/"+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(data)
	}
}

const form = "application/x-www-form-urlencoded"

// Each handler-level mutant changes the answer it should, where the
// faithful reference answers as the contract says.
func TestHandlerMutants(t *testing.T) {
	checkSteps(t, []stepCase{
		{"no-percent-decoding", []step{
			{"PUT", "u1", adminToken, "a=1", 200, 200, ""},
			{"GET", "%75%31", adminToken, "", 200, 200, `"data":{}`},
		}},
		{"user-limit-per-request", []step{
			{"PUT", "u1", adminToken, "a=" + strings.Repeat("x", 1500), 200, 200, ""},
			{"PUT", "u1", adminToken, "b=" + strings.Repeat("x", 1500), 403, 200, ""},
			{"PUT", "u2", adminToken, "c=" + strings.Repeat("x", 2100), 403, 403, "exceeds the user defined limit, 2048Bytes"},
		}},
		{"missing-token-accepted", []step{{"GET", "u1", "", "", 401, 200, ""}}},
		{"unknown-token-accepted", []step{
			{"GET", "u1", "NeverIssued-0123456789", "", 401, 200, ""},
			{"GET", "u1", "!!not*a*token!!", "", 401, 401, ""},
		}},
		{"capacity-open-to-users", []step{
			{"GET", "capacity", u1Token, "", 401, 200, ""},
			{"GET", "u2", u1Token, "", 401, 401, ""},
		}},
		{"foreign-token-delete", []step{{"DELETE", "u2", u1Token, "", 401, 200, ""}}},
		{"foreign-token-write", []step{{"PUT", "u2", u1Token, "a=1", 401, 200, ""}}},
		{"delete-unknown-user-404", []step{
			{"DELETE", "nobody", adminToken, "", 200, 404, ""},
			{"DELETE", "u1", adminToken, "", 200, 200, ""},
		}},
		{"put-replaces", []step{
			{"PUT", "u1", adminToken, "a=1", 200, 200, ""},
			{"PUT", "u1", adminToken, "b=2", 200, 200, ""},
			{"GET", "u1", adminToken, "", 200, 200, `"data":{"b":"2"}`},
		}},
		{"numeric-values", []step{
			{"PUT", "u1", adminToken, "n=1&t=true&s=x", 200, 200, ""},
			{"GET", "u1", adminToken, "", 200, 200, `"n":1`},
		}},
		{"batch-empty-for-missing", []step{
			{"PUT", "u1", adminToken, "a=1", 200, 200, ""},
			{"POST", "get", adminToken, `{"targets":["u1"],"properties":["a","b"]}`, 200, 200, `"b":""`},
		}},
		{"batch-first-property-only", []step{
			{"PUT", "u1", adminToken, "a=1&b=2", 200, 200, ""},
			{"POST", "get", adminToken, `{"targets":["u1"],"properties":["a","b"]}`, 200, 200, `"data":{"u1":{"a":"1"}}`},
		}},
		{"batch-201", []step{{"POST", "get", adminToken, `{"targets":["u1"]}`, 200, 201, ""}}},
		{"wrong-method-404", []step{{"POST", "u1", adminToken, "a=1", 405, 404, "service_resource_not_found"}}},
		{"errors-text-plain", []step{{"GET", "u1", "", "", 401, 401, "Unauthorized"}}},
		{"capacity-charges-refused", []step{
			{"PUT", "u1", adminToken, "a=" + strings.Repeat("x", 2100), 403, 403, ""},
			{"GET", "capacity", adminToken, "", 200, 200, `"data":2102`},
		}},
		{"put-echoes-old-value", []step{
			{"PUT", "u1", adminToken, "a=1", 200, 200, ""},
			{"PUT", "u1", adminToken, "a=2&b=3", 200, 200, `"data":{"a":"1","b":"3"}`},
			{"GET", "u1", adminToken, "", 200, 200, `"data":{"a":"2","b":"3"}`},
		}},
		{"get-leaks-last-write", []step{
			{"PUT", "u1", adminToken, "a=1", 200, 200, ""},
			{"GET", "u2", adminToken, "", 200, 200, `"data":{"a":"1"}`},
			{"GET", "u2", adminToken, "", 200, 200, `"data":{}`},
			{"GET", "nobody", adminToken, "", 200, 200, `"data":{}`},
		}},
		{"long-name-accepted", []step{
			{"PUT", strings.Repeat("x", 65), adminToken, "a=1", 404, 200, ""},
			{"GET", strings.Repeat("X", 65), adminToken, "", 200, 200, `"data":{"a":"1"}`},
			{"PUT", strings.Repeat("x", 64) + "!", adminToken, "a=1", 404, 404, ""},
		}},
		{"bad-charset-accepted", []step{
			{"PUT", "bad%20name", adminToken, "a=1", 404, 200, ""},
			{"GET", "bad%20name", adminToken, "", 200, 200, `"data":{"a":"1"}`},
			{"PUT", "bad%20name", u1Token, "a=1", 401, 401, ""},
		}},
		{"form-charset-refused", []step{{"PUT", "u1", adminToken, "a=1", 200, 200, ""}}},
		{"plus-not-space", []step{
			{"PUT", "u1", adminToken, "a=x+y", 200, 200, ""},
			{"GET", "u1", adminToken, "", 200, 200, `"a":"x+y"`},
		}},
		{"empty-value-keeps-old", []step{
			{"PUT", "u1", adminToken, "a=1&b=2", 200, 200, ""},
			{"PUT", "u1", adminToken, "a=&c=", 200, 200, ""},
			{"GET", "u1", adminToken, "", 200, 200, `"data":{"a":"1","b":"2","c":""}`},
		}},
		{"empty-put-clears", []step{
			{"PUT", "u1", adminToken, "a=1", 200, 200, ""},
			{"PUT", "u1", adminToken, "", 200, 200, ""},
			{"GET", "u1", adminToken, "", 200, 200, `"data":{}`},
		}},
		{"user-put-replaces", []step{
			{"PUT", "u1", u1Token, "a=1", 200, 200, ""},
			{"PUT", "u1", u1Token, "b=2", 200, 200, ""},
			{"PUT", "u2", adminToken, "a=1", 200, 200, ""},
			{"PUT", "u2", adminToken, "b=2", 200, 200, ""},
			{"GET", "u1", adminToken, "", 200, 200, `"data":{"b":"2"}`},
			{"GET", "u2", adminToken, "", 200, 200, `"data":{"a":"1","b":"2"}`},
		}},
		{"avatar-renamed", []step{
			{"PUT", "u1", adminToken, "avatar=x", 200, 200, ""},
			{"GET", "u1", adminToken, "", 200, 200, `"data":{"avatarurl":"x"}`},
		}},
		{"keys-case-folded", []step{
			{"PUT", "u1", adminToken, "Nickname=N&nickname=n", 200, 200, ""},
			{"GET", "u1", adminToken, "", 200, 200, `"data":{"nickname":"n"}`},
		}},
		{"name-case-sensitive", []step{
			{"PUT", "U1", adminToken, "a=1", 200, 404, ""},
			{"PUT", "u1", adminToken, "a=1", 200, 200, ""},
			{"GET", "U1", adminToken, "", 200, 200, `"data":{}`},
		}},
		{"admin-reads-not-user-writes", []step{
			{"PUT", "u1", u1Token, "a=1", 200, 200, ""},
			{"GET", "u1", adminToken, "", 200, 401, ""},
			{"GET", "u1", u1Token, "", 200, 200, `"a":"1"`},
			{"PUT", "u1", adminToken, "b=1", 200, 200, ""},
			{"GET", "u1", adminToken, "", 200, 200, ""},
		}},
		{"batch-user-token-own-only", []step{
			{"POST", "get", u1Token, `{"targets":["u1"]}`, 200, 200, ""},
			{"POST", "get", u1Token, `{"targets":["u2"]}`, 200, 401, ""},
		}},
		{"batch-empty-targets-ok", []step{{"POST", "get", adminToken, `{"targets":[]}`, 400, 200, ""}}},
		{"batch-duplicate-target-400", []step{{"POST", "get", adminToken, `{"targets":["u1","u1"]}`, 200, 400, ""}}},
		{"batch-shares-map", []step{
			{"PUT", "u1", adminToken, "a=1", 200, 200, ""},
			{"PUT", "u2", adminToken, "b=2", 200, 200, ""},
			{"POST", "get", adminToken, `{"targets":["u1","u2"]}`, 200, 200, `"u2":{"a":"1","b":"2"}`},
		}},
		{"batch-miss-leaks", []step{
			{"PUT", "u1", adminToken, "a=1", 200, 200, ""},
			{"POST", "get", adminToken, `{"targets":["u1","nobody"]}`, 200, 200, `"nobody":{"a":"1"}`},
		}},
		{"delete-empty-false", []step{
			{"DELETE", "u1", adminToken, "", 200, 200, `"data":false`},
		}},
		{"delete-stale-read", []step{
			{"PUT", "u1", adminToken, "a=1", 200, 200, ""},
			{"DELETE", "u1", adminToken, "", 200, 200, ""},
			{"GET", "u1", adminToken, "", 200, 200, `"data":{"a":"1"}`},
			{"GET", "u1", adminToken, "", 200, 200, `"data":{}`},
		}},
		{"unknown-user-data-array", []step{
			{"GET", "nobody", adminToken, "", 200, 200, `"data":[]`},
			{"GET", "u1", adminToken, "", 200, 200, `"data":{}`},
		}},
		{"capacity-without-token", []step{{"GET", "capacity", "", "", 401, 200, ""}}},
		{"capacity-not-integer", []step{
			{"PUT", "u1", adminToken, "a=1", 200, 200, ""},
			{"GET", "capacity", adminToken, "", 200, 200, `"data":9.0`},
		}},
	})
}

// A stepCase is a sequence of requests whose answers show a mutant.
type stepCase struct {
	mutant string
	steps  []step
}

type step struct {
	method, path, token, body string
	faithful, mutant          int    // expected statuses
	contains                  string // in the mutant's body of this step, when set
}

// checkSteps sends each case's steps to the faithful reference and to the
// reference with the case's mutant, and checks every answer.
func checkSteps(t *testing.T, cases []stepCase) {
	for _, c := range cases {
		t.Run(c.mutant, func(t *testing.T) {
			for _, variant := range []string{"", c.mutant} {
				send := serve(t, variant)
				for i, s := range c.steps {
					ct := ""
					if s.method == "PUT" {
						ct = form
					}
					status, body := send(s.method, s.path, s.token, s.body, ct)
					want := s.faithful
					if variant != "" {
						want = s.mutant
					}
					if status != want {
						t.Fatalf("%q step %d (%s %s): status %d, want %d: %s", variant, i+1, s.method, s.path, status, want, body)
					}
					if variant != "" && s.contains != "" && !strings.Contains(body, s.contains) {
						t.Errorf("step %d: body %s lacks %s", i+1, body, s.contains)
					}
				}
			}
		})
	}
}

// The store wrappers keep the Store contract where the mutant does not
// break it, and break it where it does.
func TestStoreMutants(t *testing.T) {
	big := int64(1 << 40)
	write := func(s store.Store, user string, attrs map[string]string) error {
		e, err := s.Load("app", user)
		if err != nil {
			return err
		}
		return s.Commit("app", user, store.Write{Version: e.Version, Attrs: attrs, Size: jsonSize(attrs), AppQuota: big})
	}

	t.Run("spurious-409 conflicts across users", func(t *testing.T) {
		s := &appVersions{Store: store.NewMemory(), version: map[string]uint64{}}
		e1, _ := s.Load("app", "u1")
		e2, _ := s.Load("app", "u2")
		if err := s.Commit("app", "u1", store.Write{Version: e1.Version, Attrs: map[string]string{"a": "1"}, AppQuota: big}); err != nil {
			t.Fatal(err)
		}
		if err := s.Commit("app", "u2", store.Write{Version: e2.Version, Attrs: map[string]string{"b": "1"}, AppQuota: big}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a write to u2 after a write to u1 since its read: %v, want a conflict", err)
		}
		if err := write(s, "u2", map[string]string{"b": "1"}); err != nil {
			t.Fatalf("a sequential write: %v", err)
		}
	})

	t.Run("torn-write acknowledges a losing write with one key", func(t *testing.T) {
		s := &tornWrites{Store: store.NewMemory()}
		stale, _ := s.Load("app", "u")
		if err := write(s, "u", map[string]string{"w0a": "0", "last": "0"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Commit("app", "u", store.Write{Version: stale.Version, Attrs: map[string]string{"w1a": "1", "last": "1"}, AppQuota: big}); err != nil {
			t.Fatalf("the losing write: %v, want it acknowledged", err)
		}
		e, _ := s.Load("app", "u")
		if e.Attrs["last"] != "1" || e.Attrs["w0a"] != "0" || e.Attrs["w1a"] != "" || e.Size != jsonSize(e.Attrs) {
			t.Fatalf("stored %v (size %d): want the winner's map with only the loser's first changed key", e.Attrs, e.Size)
		}
	})

	t.Run("capacity drift", func(t *testing.T) {
		stale := &drift{Store: store.NewMemory(), onDelete: func(old int64) int64 { return old }}
		double := &drift{Store: store.NewMemory(), onCommit: func(old int64) int64 { return old }}
		for _, s := range []*drift{stale, double} {
			write(s, "u", map[string]string{"a": "1"})
			write(s, "u", map[string]string{"a": "2"})
		}
		if n, _ := double.Usage("app"); n != 18 {
			t.Errorf("double count after two 9-byte writes: usage %d, want 18", n)
		}
		stale.Delete("app", "u")
		if n, _ := stale.Usage("app"); n != 9 {
			t.Errorf("stale after delete: usage %d, want the deleted 9 bytes", n)
		}
	})

	t.Run("delete-keeps-one", func(t *testing.T) {
		s := keepOne{store.NewMemory()}
		write(s, "u", map[string]string{"b": "2", "a": "1"})
		s.Delete("app", "u")
		if e, _ := s.Load("app", "u"); len(e.Attrs) != 1 || e.Attrs["a"] != "1" {
			t.Fatalf("after the delete: %v, want only a=1", e.Attrs)
		}
	})
}

// jsonSize is the reference's json metric: the sizes the reference stores
// and reports agree with it.
func TestJSONSizeMatchesTheReference(t *testing.T) {
	send := serve(t, "")
	send("PUT", "u1", adminToken, "k=%E6%B7%B1&html=%3Cb%3E&q=%22", form)
	status, body := send("GET", "capacity", adminToken, "", "")
	var got struct{ Data int64 }
	if status != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil {
		t.Fatalf("capacity: %d %s", status, body)
	}
	if want := jsonSize(map[string]string{"k": "深", "html": "<b>", "q": `"`}); got.Data != want {
		t.Fatalf("the reference counts %d bytes, jsonSize %d", got.Data, want)
	}
}

func TestRouteOf(t *testing.T) {
	for path, want := range map[string]route{
		"/o/a/metadata/user/Alice":    {org: "o", app: "a", rest: "Alice", ok: true},
		"/o/a/metadata/user/get":      {org: "o", app: "a", rest: "get", ok: true},
		"/o/a/metadata/user/":         {},
		"/o/a/metadata/users/x":       {},
		"/o/a/metadata/user/a%2Fb":    {org: "o", app: "a", rest: "a/b", ok: true},
		"/o/a/metadata/user/capacity": {org: "o", app: "a", rest: "capacity", ok: true},
	} {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		if got := routeOf(r); got != want {
			t.Errorf("%s: %+v, want %+v", path, got, want)
		}
	}
	if got := parseForm("a=1&a=2&b+c=%E6%B7%B1&bad=%zz&=x"); len(got) != 3 || got["a"] != "1" || got["b c"] != "深" || got["bad"] != "%zz" {
		t.Errorf("parseForm: %v", got)
	}
}
