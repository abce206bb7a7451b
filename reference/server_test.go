package reference

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/target"
)

const (
	adminToken = "ADMIN-token-0001"
	aliceToken = "ALICE-token-0001"
	bobToken   = "BOB-token-00001"
)

func testTenant() target.Tenant {
	return target.Tenant{Org: "acme", Apps: []target.App{
		{Name: "chat", AdminToken: adminToken, Users: []target.User{{Name: "alice", Token: aliceToken}, {Name: "bob", Token: bobToken}}},
		{Name: "tiny", AdminToken: "TINY-admin-0001", AppBytes: 40, Users: []target.User{{Name: "erin"}, {Name: "frank"}}},
		{Name: "slow", AdminToken: "SLOW-admin-0001", RatePerSecond: 2, Users: []target.User{{Name: "hank"}}},
	}}
}

func newServer(t *testing.T, tweak ...func(*Config)) *Server {
	t.Helper()
	cfg := Config{Tenant: testTenant(), RaceWindow: NoRaceWindow}
	for _, f := range tweak {
		f(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func do(t *testing.T, h http.Handler, method, path, token, contentType, body string) answer {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	raw, _ := io.ReadAll(rec.Body)
	a := answer{status: rec.Code, header: rec.Header(), raw: string(raw)}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		t.Fatalf("%s %s answered %d with a non-JSON body %q", method, path, rec.Code, raw)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	return a
}

const form = "application/x-www-form-urlencoded"

func put(t *testing.T, h http.Handler, user, token, body string) answer {
	return do(t, h, http.MethodPut, "/acme/chat/metadata/user/"+user, token, form, body)
}

func attrs(t *testing.T, h http.Handler, user string) map[string]any {
	t.Helper()
	a := do(t, h, http.MethodGet, "/acme/chat/metadata/user/"+user, adminToken, "", "")
	if a.status != 200 {
		t.Fatalf("GET %s: %d %s", user, a.status, a.raw)
	}
	m, _ := a.body["data"].(map[string]any)
	return m
}

func TestPutMergesAndGetReads(t *testing.T) {
	s := newServer(t)
	if a := put(t, s, "alice", adminToken, "a=1&b=x+y"); a.status != 200 {
		t.Fatalf("first PUT: %d %s", a.status, a.raw)
	}
	a := put(t, s, "ALICE", aliceToken, "b=2&c=%E6%B7%B1")
	if a.status != 200 || a.raw == "" || a.body["data"].(map[string]any)["c"] != "深" {
		t.Fatalf("second PUT: %d %s", a.status, a.raw)
	}
	got := attrs(t, s, "alice")
	want := map[string]any{"a": "1", "b": "2", "c": "深"}
	if len(got) != len(want) || got["a"] != "1" || got["b"] != "2" || got["c"] != "深" {
		t.Fatalf("after merge: %v, want %v", got, want)
	}
}

func TestErrorsAreJSONEverywhere(t *testing.T) {
	s := newServer(t)
	cases := []struct {
		method, path, token string
		status              int
		kind                string
	}{
		{"GET", "/nope", adminToken, 404, "service_resource_not_found"},
		{"GET", "/acme/chat/metadata/user/", adminToken, 404, "service_resource_not_found"},
		{"GET", "/acme//chat/metadata/user/alice", adminToken, 404, "service_resource_not_found"},
		{"GET", "/acme/other/metadata/user/alice", adminToken, 404, "organization_application_not_found"},
		{"POST", "/acme/chat/metadata/user/alice", adminToken, 405, "method_not_allowed"},
		{"PATCH", "/acme/chat/metadata/user/get", adminToken, 405, "method_not_allowed"},
		{"GET", "/acme/chat/metadata/user/alice", "", 401, "unauthorized"},
		{"GET", "/acme/chat/metadata/user/alice", "bad token!", 401, "auth_bad_access_token"},
		{"GET", "/acme/chat/metadata/user/alice", "TINY-admin-0001", 401, "auth_bad_access_token"},
		{"GET", "/acme/chat/metadata/user/capacity", aliceToken, 401, "unauthorized"},
		{"GET", "/acme/chat/metadata/user/bob", aliceToken, 401, "metadata_error"},
	}
	for _, c := range cases {
		a := do(t, s, c.method, c.path, c.token, "", "")
		if a.status != c.status || a.body["error"] != c.kind || a.body["error_description"] == "" || a.body["timestamp"] == nil {
			t.Errorf("%s %s (token %q): got %d %s, want %d %s", c.method, c.path, c.token, a.status, a.raw, c.status, c.kind)
		}
	}
}

func TestPutRefusals(t *testing.T) {
	s := newServer(t)
	cases := []struct {
		name, user, token, ct, body string
		status                      int
	}{
		{"json body", "alice", adminToken, "application/json", `{"a":"1"}`, 415},
		{"no content type", "alice", adminToken, "", "a=1", 415},
		{"other user's token", "alice", bobToken, form, "a=1", 401},
		{"ordinary user, unknown user", "ghost", aliceToken, form, "a=1", 401},
		{"admin, unknown user", "ghost", adminToken, form, "a=1", 404},
		{"admin, invalid username", "bad%20name", adminToken, form, "a=1", 404},
		{"user total over 2048", "alice", adminToken, form, "k=" + strings.Repeat("v", 2041), 403},
		{"body over 4096", "alice", adminToken, form, "k=" + strings.Repeat("%41", 1365), 403},
		{"empty key", "alice", adminToken, form, "=v", 400},
	}
	for _, c := range cases {
		a := do(t, s, http.MethodPut, "/acme/chat/metadata/user/"+c.user, c.token, c.ct, c.body)
		if a.status != c.status {
			t.Errorf("%s: got %d %s, want %d", c.name, a.status, a.raw, c.status)
		}
	}
	if got := attrs(t, s, "alice"); len(got) != 0 {
		t.Fatalf("refused PUTs stored %v", got)
	}
	// The exact edges: 2048 (user, JSON metric) and 4096 (body, raw bytes) are accepted.
	if a := put(t, s, "alice", adminToken, "k="+strings.Repeat("v", 2040)); a.status != 200 {
		t.Errorf("user total of 2048 bytes: %d %s", a.status, a.raw)
	}
	if a := put(t, s, "bob", adminToken, "k="+strings.Repeat("%41", 1364)+"AA"); a.status != 200 {
		t.Errorf("body of 4096 bytes: %d %s", a.status, a.raw)
	}
}

func TestCapacityFollowsWritesAndDeletes(t *testing.T) {
	s := newServer(t)
	capacity := func() float64 {
		a := do(t, s, http.MethodGet, "/acme/chat/metadata/user/capacity", adminToken, "", "")
		return a.body["data"].(float64)
	}
	put(t, s, "alice", adminToken, "a=1") // {"a":"1"} = 9 bytes
	put(t, s, "bob", adminToken, "bb=22") // {"bb":"22"} = 11 bytes
	put(t, s, "alice", adminToken, "a=1") // an overwrite counts once
	if c := capacity(); c != 20 {
		t.Fatalf("capacity %v, want 20", c)
	}
	for range 2 {
		if a := do(t, s, http.MethodDelete, "/acme/chat/metadata/user/alice", adminToken, "", ""); a.status != 200 || a.body["data"] != true {
			t.Fatalf("delete: %d %s", a.status, a.raw)
		}
	}
	if c := capacity(); c != 11 {
		t.Fatalf("capacity after delete %v, want 11", c)
	}
}

func TestAppQuota(t *testing.T) {
	s := newServer(t)
	p := func(user, body string) int {
		return do(t, s, http.MethodPut, "/acme/tiny/metadata/user/"+user, "TINY-admin-0001", form, body).status
	}
	if st := p("erin", "k="+strings.Repeat("v", 20)); st != 200 { // 28 bytes of 40
		t.Fatalf("first write: %d", st)
	}
	if st := p("frank", "k="+strings.Repeat("v", 10)); st != 403 { // 18 more: over
		t.Fatalf("write over the app quota: %d, want 403", st)
	}
	if st := p("frank", "k=v"); st != 200 { // 9 more: 37 of 40
		t.Fatalf("write within the quota: %d", st)
	}
}

func TestBatch(t *testing.T) {
	s := newServer(t)
	put(t, s, "alice", adminToken, "a=1&b=2")
	batch := func(token, body string) answer {
		return do(t, s, http.MethodPost, "/acme/chat/metadata/user/get", token, "application/json", body)
	}
	a := batch(bobToken, `{"targets":["ALICE","ghost","bob"],"properties":["a"]}`)
	if a.status != 200 || a.raw == "" {
		t.Fatalf("batch: %d %s", a.status, a.raw)
	}
	data := a.body["data"].(map[string]any)
	if len(data) != 1 || data["ALICE"].(map[string]any)["a"] != "1" {
		t.Fatalf("batch data %v", data)
	}
	targets := make([]string, 101)
	for i := range targets {
		targets[i] = `"u"`
	}
	a = batch(adminToken, `{"targets":[`+strings.Join(targets, ",")+`]}`)
	if a.status != 400 || a.body["error_description"] != "exceed allowed batch size 100" {
		t.Fatalf("101 targets: %d %s", a.status, a.raw)
	}
	a = batch(adminToken, `{"targets":[`+strings.Join(targets[:100], ",")+`]}`)
	if a.status != 200 {
		t.Fatalf("100 targets: %d %s", a.status, a.raw)
	}
	for _, body := range []string{`{`, `{"targets":[]}`, `{"targets":"a"}`, `{"targets":[1]}`, `{"targets":["a"],"properties":"x"}`} {
		if a := batch(adminToken, body); a.status != 400 {
			t.Errorf("batch body %s: %d %s", body, a.status, a.raw)
		}
	}
}

func TestLegacyProfile(t *testing.T) {
	legacy, _ := profile.Named(profile.Legacy)
	s := newServer(t, func(c *Config) { c.Profile = legacy })
	if a := do(t, s, http.MethodGet, "/acme/chat/metadata/user/ghost", adminToken, "", ""); a.status != 404 || a.body["data"] == nil {
		t.Errorf("legacy GET of an unknown user: %d %s", a.status, a.raw)
	}
	if a := put(t, s, "alice", bobToken, "a=1"); a.status != 401 || a.body["desc"] != "unauthorized" {
		t.Errorf("legacy foreign write: %d %s", a.status, a.raw)
	}
	if a := do(t, s, http.MethodGet, "/acme/chat/metadata/user/bob", aliceToken, "", ""); a.status != 200 {
		t.Errorf("legacy GET of another user: %d %s", a.status, a.raw)
	}
}

func TestRateLimitAnswers429WithRetryAfter(t *testing.T) {
	s := newServer(t)
	var last answer
	for range 10 {
		if last = do(t, s, http.MethodGet, "/acme/slow/metadata/user/hank", "SLOW-admin-0001", "", ""); last.status != 200 {
			break
		}
	}
	if last.status != 429 || last.header.Get("Retry-After") == "" || last.body["error"] != "reach_limit" {
		t.Fatalf("over the budget: %d %v %s", last.status, last.header, last.raw)
	}
}

// Concurrent writers to one user: each gets 200 or 409, every 200's keys
// are kept, and no 409 left a key behind.
func TestConcurrentWritersOptimisticLocking(t *testing.T) {
	s := newServer(t, func(c *Config) { c.RaceWindow = DefaultRaceWindow })
	const writers = 16
	statuses := make([]int, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i] = put(t, s, "alice", adminToken, "k"+string(rune('a'+i))+"=1").status
		}()
	}
	close(start)
	wg.Wait()
	got := attrs(t, s, "alice")
	conflicts := 0
	for i, st := range statuses {
		key := "k" + string(rune('a'+i))
		switch st {
		case 200:
			if got[key] != "1" {
				t.Errorf("writer %d got 200 but %s is missing: lost update", i, key)
			}
		case 409:
			conflicts++
			if _, has := got[key]; has {
				t.Errorf("writer %d got 409 but %s is stored: torn write", i, key)
			}
		default:
			t.Errorf("writer %d: status %d", i, st)
		}
	}
	if conflicts == 0 {
		t.Errorf("no 409 among %d simultaneous writers", writers)
	}
}

func TestConfigRefusesAmbiguousTenants(t *testing.T) {
	for name, tn := range map[string]target.Tenant{
		"duplicate token": {Org: "o", Apps: []target.App{{Name: "a", AdminToken: adminToken, Users: []target.User{{Name: "u", Token: adminToken}}}}},
		"duplicate app":   {Org: "o", Apps: []target.App{{Name: "a", AdminToken: adminToken}, {Name: "a", AdminToken: aliceToken}}},
		"bad username":    {Org: "o", Apps: []target.App{{Name: "a", AdminToken: adminToken, Users: []target.User{{Name: "no spaces"}}}}},
		"no apps":         {Org: "o"},
	} {
		if _, err := New(Config{Tenant: tn}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(Config{Tenant: testTenant(), SizeMetric: "chars"}); err == nil {
		t.Error("unknown size metric accepted")
	}
	if _, err := New(Config{Tenant: testTenant(), BodyMetric: "chars"}); err == nil {
		t.Error("unknown body metric accepted")
	}
}

// Under the json body metric a PUT body is measured as the JSON object of
// its pairs (a=1&b=2 as {"a":"1","b":"2"}), not as the bytes sent: with
// the pairs user metric, 400 short pairs fit the user limit (1892 bytes)
// and break the body limit (4293 bytes as JSON, 2691 sent).
func TestBodyMetricJSON(t *testing.T) {
	s := newServer(t, func(c *Config) { c.SizeMetric, c.BodyMetric = MetricPairs, BodyJSON })
	var pairs []string
	for i := 1; i <= 400; i++ {
		pairs = append(pairs, fmt.Sprintf("k%d=1", i))
	}
	body := strings.Join(pairs, "&")
	if a := put(t, s, "alice", adminToken, body); a.status != http.StatusForbidden || !strings.Contains(a.raw, "4096Bytes") {
		t.Errorf("400 pairs, 4293 bytes as JSON: %d %s", a.status, a.raw)
	}
	// 360 pairs: 3853 bytes as JSON, accepted.
	if a := put(t, s, "alice", adminToken, strings.Join(pairs[:360], "&")); a.status != http.StatusOK {
		t.Errorf("360 pairs, under the body limit as JSON: %d %s", a.status, a.raw)
	}
	// Escapes cost nothing once decoded: 4096 bytes sent, 1372 as JSON.
	if a := put(t, s, "bob", adminToken, "k="+strings.Repeat("%41", 1364)+"AA"); a.status != http.StatusOK {
		t.Errorf("4096 bytes sent, 1372 as JSON: %d %s", a.status, a.raw)
	}
}
