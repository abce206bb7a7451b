package reference

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attrconform/attrconform/reference/store/boltstore"
)

const (
	chatClientID     = "YXA6chat-client-id"
	chatClientSecret = "YXA6chat-client-secret"
	alicePassword    = "alice-pass-1"
)

// withAccounts gives the chat app client credentials and alice a password.
func withAccounts(c *Config) {
	c.Tenant.Apps[0].ClientID = chatClientID
	c.Tenant.Apps[0].ClientSecret = chatClientSecret
	c.Tenant.Apps[0].Users[0].Password = alicePassword
}

func postJSON(t *testing.T, h http.Handler, path, token, body string) answer {
	t.Helper()
	return do(t, h, http.MethodPost, path, token, "application/json", body)
}

// tokenOf asks for a token and fails the test unless it gets one.
func tokenOf(t *testing.T, h http.Handler, body string) (string, answer) {
	t.Helper()
	a := postJSON(t, h, "/acme/chat/token", "", body)
	tok, _ := a.body["access_token"].(string)
	if a.status != 200 || tok == "" {
		t.Fatalf("token %s: %d %s", redactBody(body), a.status, a.raw)
	}
	return tok, a
}

// redactBody keeps passwords and secrets out of test failures.
func redactBody(body string) string {
	var m map[string]any
	if json.Unmarshal([]byte(body), &m) != nil {
		return "(body)"
	}
	for _, k := range []string{"password", "client_secret"} {
		if _, has := m[k]; has {
			m[k] = "[REDACTED]"
		}
	}
	out, _ := json.Marshal(m)
	return string(out)
}

func TestClientCredentialsGiveAnAdminToken(t *testing.T) {
	s := newServer(t, withAccounts)
	tok, a := tokenOf(t, s, `{"grant_type":"client_credentials","client_id":"`+chatClientID+`","client_secret":"`+chatClientSecret+`","ttl":"1024000"}`)
	if a.body["expires_in"] != float64(1024000) || a.body["application"] == "" || a.body["user"] != nil {
		t.Fatalf("app token answer: %s", a.raw)
	}
	if strings.Contains(a.raw, chatClientSecret) {
		t.Fatal("the answer echoes the client secret")
	}
	if a := do(t, s, "GET", "/acme/chat/metadata/user/capacity", tok, "", ""); a.status != 200 {
		t.Fatalf("capacity with the issued app token: %d %s", a.status, a.raw)
	}
	if a := put(t, s, "bob", tok, "k=v"); a.status != 200 {
		t.Fatalf("admin PUT with the issued app token: %d %s", a.status, a.raw)
	}
	for _, body := range []string{
		`{"grant_type":"client_credentials","client_id":"` + chatClientID + `","client_secret":"wrong"}`,
		`{"grant_type":"client_credentials","client_id":"wrong","client_secret":"` + chatClientSecret + `"}`,
		`{"grant_type":"client_credentials"}`,
	} {
		if a := postJSON(t, s, "/acme/chat/token", "", body); a.status != 400 || a.body["error"] != "invalid_grant" || strings.Contains(a.raw, chatClientSecret) {
			t.Errorf("%s: %d %s, want 400 invalid_grant", redactBody(body), a.status, a.raw)
		}
	}
	// An app without client credentials in the tenant file hands out no app token.
	if a := postJSON(t, s, "/acme/tiny/token", "", `{"grant_type":"client_credentials","client_id":"","client_secret":""}`); a.status != 400 {
		t.Errorf("app without credentials: %d %s", a.status, a.raw)
	}
	// The token is the chat app's only.
	if a := do(t, s, "GET", "/acme/tiny/metadata/user/capacity", tok, "", ""); a.status != 401 {
		t.Errorf("chat's token on tiny: %d, want 401", a.status)
	}
}

func TestPasswordGivesAUserToken(t *testing.T) {
	s := newServer(t, withAccounts)
	tok, a := tokenOf(t, s, `{"grant_type":"password","username":"ALICE","password":"`+alicePassword+`"}`)
	user, _ := a.body["user"].(map[string]any)
	if user["username"] != "alice" || user["type"] != "user" || user["activated"] != true || a.body["expires_in"] != float64(defaultTokenTTL/time.Second) {
		t.Fatalf("user token answer: %s", a.raw)
	}
	if a := put(t, s, "alice", tok, "nickname=A"); a.status != 200 {
		t.Fatalf("own PUT with the issued token: %d %s", a.status, a.raw)
	}
	if a := put(t, s, "bob", tok, "nickname=A"); a.status != 401 {
		t.Fatalf("PUT of another user with the issued token: %d, want 401", a.status)
	}
	if a := do(t, s, "GET", "/acme/chat/metadata/user/capacity", tok, "", ""); a.status != 401 {
		t.Fatalf("capacity with a user token: %d, want 401", a.status)
	}
	for _, body := range []string{
		`{"grant_type":"password","username":"alice","password":"wrong"}`,
		`{"grant_type":"password","username":"alice","password":""}`,
		`{"grant_type":"password","username":"bob","password":""}`, // bob has no password
		`{"grant_type":"password","username":"nobody","password":"x"}`,
		`{"grant_type":"password","username":"bad name!","password":"x"}`,
	} {
		if a := postJSON(t, s, "/acme/chat/token", "", body); a.status != 400 || a.body["error"] != "invalid_grant" {
			t.Errorf("%s: %d %s, want 400 invalid_grant", redactBody(body), a.status, a.raw)
		}
	}
}

func TestTokenRequestsAreChecked(t *testing.T) {
	s := newServer(t, withAccounts)
	cases := []struct {
		method, path, body string
		status             int
		kind               string
	}{
		{"GET", "/acme/chat/token", "", 405, "method_not_allowed"},
		{"POST", "/acme/nope/token", `{}`, 404, "organization_application_not_found"},
		{"POST", "/acme/chat/token", `{`, 400, "json_parse"},
		{"POST", "/acme/chat/token", `[]`, 400, "json_parse"},
		{"POST", "/acme/chat/token", `{}`, 400, "illegal_argument"},
		{"POST", "/acme/chat/token", `{"grant_type":"authorization_code"}`, 400, "unsupported_grant_type"},
		{"POST", "/acme/chat/token", `{"grant_type":"password","username":"alice","password":"` + alicePassword + `","ttl":-1}`, 400, "illegal_argument"},
		{"POST", "/acme/chat/token", `{"grant_type":"password","username":"alice","password":"` + alicePassword + `","ttl":"soon"}`, 400, "illegal_argument"},
		{"POST", "/acme/chat/token", `{"grant_type":"inherit","username":"alice"}`, 401, "unauthorized"},
		{"POST", "/acme/chat/token", `{"grant_type":"password","username":"alice","password":"` + strings.Repeat("x", maxAccountBody) + `"}`, 400, "illegal_argument"},
	}
	for _, c := range cases {
		a := do(t, s, c.method, c.path, "", "application/json", c.body)
		if a.status != c.status || a.body["error"] != c.kind {
			t.Errorf("%s %s %.60s: %d %s, want %d %s", c.method, c.path, redactBody(c.body), a.status, a.body["error"], c.status, c.kind)
		}
	}
}

func TestInheritGivesAUserTokenToTheAdmin(t *testing.T) {
	s := newServer(t)
	if a := postJSON(t, s, "/acme/chat/token", adminToken, `{"grant_type":"inherit","username":"newbie"}`); a.status != 404 {
		t.Fatalf("inherit for an unknown user without autoCreateUser: %d %s", a.status, a.raw)
	}
	if a := postJSON(t, s, "/acme/chat/token", aliceToken, `{"grant_type":"inherit","username":"alice"}`); a.status != 401 {
		t.Fatalf("inherit with a user token: %d %s", a.status, a.raw)
	}
	a := postJSON(t, s, "/acme/chat/token", adminToken, `{"grant_type":"inherit","username":"Newbie","autoCreateUser":true,"ttl":0}`)
	tok, _ := a.body["access_token"].(string)
	if a.status != 200 || tok == "" || a.body["expires_in"] != float64(0) {
		t.Fatalf("inherit with autoCreateUser: %d %s", a.status, a.raw)
	}
	if a := put(t, s, "newbie", tok, "k=v"); a.status != 200 {
		t.Fatalf("own PUT of the created user: %d %s", a.status, a.raw)
	}
	if a := postJSON(t, s, "/acme/chat/token", adminToken, `{"grant_type":"inherit","username":"newbie"}`); a.status != 200 {
		t.Fatalf("inherit for the created user: %d %s", a.status, a.raw)
	}
}

func TestTokenLifetimes(t *testing.T) {
	s := newServer(t, withAccounts)
	for ttl, want := range map[string]float64{
		`"1024000"`:             1024000,
		`7`:                     7,
		`0`:                     0,
		`99999999999999999`:     float64(maxTokenTTL / time.Second), // capped, not wrapped around
		`"9223372036854775807"`: float64(maxTokenTTL / time.Second),
	} {
		_, a := tokenOf(t, s, `{"grant_type":"password","username":"alice","password":"`+alicePassword+`","ttl":`+ttl+`}`)
		if a.body["expires_in"] != want {
			t.Errorf("ttl %s: expires_in %v, want %v", ttl, a.body["expires_in"], want)
		}
	}
}

func TestTokensExpire(t *testing.T) {
	now := time.UnixMilli(1_800_000_000_000)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := newServer(t, withAccounts, func(c *Config) { c.Now = clock })
	tok, _ := tokenOf(t, s, `{"grant_type":"password","username":"alice","password":"`+alicePassword+`","ttl":60}`)
	if a := do(t, s, "GET", "/acme/chat/metadata/user/alice", tok, "", ""); a.status != 200 {
		t.Fatalf("fresh token: %d", a.status)
	}
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	a := do(t, s, "GET", "/acme/chat/metadata/user/alice", tok, "", "")
	if a.status != 401 || a.body["error"] != "unauthorized" || !strings.Contains(a.raw, "expired") {
		t.Fatalf("expired token: %d %s, want 401 unauthorized (expired)", a.status, a.raw)
	}
}

func TestRegistration(t *testing.T) {
	s := newServer(t, withAccounts)
	if a := put(t, s, "zed", adminToken, "k=v"); a.status != 404 {
		t.Fatalf("PUT before registration: %d, want 404", a.status)
	}
	a := postJSON(t, s, "/acme/chat/users", adminToken, `{"username":"Zed","password":"zed-pass","nickname":"Z"}`)
	ents, _ := a.body["entities"].([]any)
	if a.status != 200 || len(ents) != 1 || ents[0].(map[string]any)["username"] != "zed" || a.body["action"] != "post" || a.body["applicationName"] != "chat" {
		t.Fatalf("registering zed: %d %s", a.status, a.raw)
	}
	if strings.Contains(a.raw, "zed-pass") {
		t.Fatal("the answer echoes the password")
	}
	// At once usable: admin PUT, password login, own PUT, batch.
	if a := put(t, s, "zed", adminToken, "k=v"); a.status != 200 {
		t.Fatalf("admin PUT after registration: %d %s", a.status, a.raw)
	}
	tok, _ := tokenOf(t, s, `{"grant_type":"password","username":"zed","password":"zed-pass"}`)
	if a := put(t, s, "ZED", tok, "m=w"); a.status != 200 {
		t.Fatalf("own PUT after registration: %d %s", a.status, a.raw)
	}
	if got := attrs(t, s, "zed"); got["k"] != "v" || got["m"] != "w" {
		t.Fatalf("zed holds %v", got)
	}
	b := postJSON(t, s, "/acme/chat/metadata/user/get", tok, `{"targets":["zed"],"properties":["m"]}`)
	if d, _ := b.body["data"].(map[string]any); b.status != 200 || d["zed"] == nil {
		t.Fatalf("batch for zed: %d %s", b.status, b.raw)
	}

	a = postJSON(t, s, "/acme/chat/users", adminToken, `[{"username":"y1","password":"p"},{"username":"y2","password":"p"}]`)
	if ents, _ := a.body["entities"].([]any); a.status != 200 || len(ents) != 2 {
		t.Fatalf("registering two: %d %s", a.status, a.raw)
	}

	refused := []struct {
		token, body string
		status      int
		kind        string
	}{
		{adminToken, `{"username":"ZED","password":"p"}`, 400, kindDuplicate},
		{adminToken, `{"username":"Alice","password":"p"}`, 400, kindDuplicate},
		{adminToken, `[{"username":"x1","password":"p"},{"username":"X1","password":"p"}]`, 400, kindDuplicate},
		{adminToken, `[{"username":"x2","password":"p"},{"username":"y1","password":"p"}]`, 400, kindDuplicate},
		{adminToken, `{"username":"bad name","password":"p"}`, 400, "illegal_argument"},
		{adminToken, `{"username":"` + strings.Repeat("a", 65) + `","password":"p"}`, 400, "illegal_argument"},
		{adminToken, `{"username":"","password":"p"}`, 400, "illegal_argument"},
		{adminToken, `{"password":"p"}`, 400, "illegal_argument"},
		{adminToken, `{"username":"x3"}`, 400, "illegal_argument"},
		{adminToken, `{"username":"x3","password":"` + strings.Repeat("é", 65) + `"}`, 400, "illegal_argument"},
		{adminToken, `[]`, 400, "illegal_argument"},
		{adminToken, `{"username":5,"password":"p"}`, 400, "json_parse"},
		{adminToken, `not json`, 400, "json_parse"},
		{aliceToken, `{"username":"x4","password":"p"}`, 401, "unauthorized"},
		{"", `{"username":"x4","password":"p"}`, 401, "unauthorized"},
	}
	var many []string
	for i := range maxRegisterBatch + 1 {
		many = append(many, fmt.Sprintf(`{"username":"m%d","password":"p"}`, i))
	}
	refused = append(refused, struct {
		token, body string
		status      int
		kind        string
	}{adminToken, "[" + strings.Join(many, ",") + "]", 400, "illegal_argument"})
	for _, c := range refused {
		a := postJSON(t, s, "/acme/chat/users", c.token, c.body)
		if a.status != c.status || a.body["error"] != c.kind {
			t.Errorf("%.80s: %d %s, want %d %s", c.body, a.status, a.raw, c.status, c.kind)
		}
	}
	// All or none: x1, x2 and m0 were not created.
	for _, u := range []string{"x1", "x2", "m0"} {
		if a := put(t, s, u, adminToken, "k=v"); a.status != 404 {
			t.Errorf("%s exists after a refused registration: PUT answered %d", u, a.status)
		}
	}
	if a := do(t, s, "GET", "/acme/chat/users", adminToken, "", ""); a.status != 405 || a.header.Get("Allow") != "POST" {
		t.Errorf("GET …/users: %d Allow %q", a.status, a.header.Get("Allow"))
	}
}

// TestAccountsSurviveARestart: with the bolt store, registered users and
// issued tokens outlive the server, and the tenant file still wins.
func TestAccountsSurviveARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	open := func() *Server {
		st, err := boltstore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return newServer(t, withAccounts, func(c *Config) { c.Store = st })
	}
	s := open()
	if a := postJSON(t, s, "/acme/chat/users", adminToken, `{"username":"zed","password":"zed-pass"}`); a.status != 200 {
		t.Fatalf("registering: %d %s", a.status, a.raw)
	}
	userTok, _ := tokenOf(t, s, `{"grant_type":"password","username":"zed","password":"zed-pass"}`)
	appTok, _ := tokenOf(t, s, `{"grant_type":"client_credentials","client_id":"`+chatClientID+`","client_secret":"`+chatClientSecret+`"}`)
	if a := put(t, s, "zed", userTok, "k=v"); a.status != 200 {
		t.Fatalf("PUT: %d %s", a.status, a.raw)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open()
	defer s.Close()
	if got := attrs(t, s, "zed"); got["k"] != "v" {
		t.Fatalf("zed after the restart: %v", got)
	}
	if a := put(t, s, "zed", userTok, "k=w"); a.status != 200 {
		t.Fatalf("the user token after the restart: %d %s", a.status, a.raw)
	}
	if a := do(t, s, "GET", "/acme/chat/metadata/user/capacity", appTok, "", ""); a.status != 200 {
		t.Fatalf("the app token after the restart: %d %s", a.status, a.raw)
	}
	tokenOf(t, s, `{"grant_type":"password","username":"zed","password":"zed-pass"}`)
	if a := postJSON(t, s, "/acme/chat/users", adminToken, `{"username":"ZED","password":"p"}`); a.status != 400 {
		t.Fatalf("registering zed again after the restart: %d", a.status)
	}
}

// TestAccountsUnderConcurrency registers users and issues tokens while
// other requests use them and the fixture's accounts (run with -race).
func TestAccountsUnderConcurrency(t *testing.T) {
	s := newServer(t, withAccounts, func(c *Config) { c.Limits.RatePerSecond = 1e9 })
	const workers, rounds = 4, 15
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				name := fmt.Sprintf("w%dr%d", w, r)
				a := postJSON(t, s, "/acme/chat/users", adminToken, `{"username":"`+name+`","password":"p"}`)
				if a.status != 200 {
					t.Errorf("registering %s: %d %s", name, a.status, a.raw)
					return
				}
				tok, _ := tokenOf(t, s, `{"grant_type":"password","username":"`+name+`","password":"p"}`)
				if a := put(t, s, name, tok, "k="+name); a.status != 200 {
					t.Errorf("own PUT of %s: %d %s", name, a.status, a.raw)
				}
				if a := put(t, s, "alice", aliceToken, "w"+name+"=1"); a.status != 200 && a.status != 409 {
					t.Errorf("alice's PUT: %d %s", a.status, a.raw)
				}
				b := postJSON(t, s, "/acme/chat/metadata/user/get", tok, `{"targets":["`+name+`","alice"]}`)
				if d, _ := b.body["data"].(map[string]any); b.status != 200 || d[name] == nil {
					t.Errorf("batch: %d %s", b.status, b.raw)
				}
			}
		})
	}
	wg.Wait()
}
