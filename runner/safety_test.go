package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/target"
)

func TestPreflightStopsHopelessRunsWithOneLine(t *testing.T) {
	keep := func(*target.Target) {}
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirecting.Close)
	cases := []struct {
		name string
		file func(*target.Target)
		want string
	}{
		{"wrong admin token", func(t *target.Target) { t.AdminToken = "YWMtWrongToken-000000" }, "preflight: the target refuses admin_token (401"},
		{"unreachable port", func(t *target.Target) { t.BaseURL = "http://127.0.0.1:1" }, "preflight: http://127.0.0.1:1 does not answer"},
		{"users that do not exist", func(t *target.Target) {
			t.Users = append(t.Users, target.User{Name: "ghost-user-1"})
		}, `preflight: users[5] "ghost-user-1": no such user on the target`},
		{"a user token that is refused", func(t *target.Target) { t.Users[0].Token = "YWMtWrongToken-000001" }, `preflight: users[0].token is refused for its own user "alice"`},
		{"a redirect", func(t *target.Target) { t.BaseURL = redirecting.URL }, "-> 307: status 307 is not documented for getAttributeCapacity; the answer is a redirect to http://127.0.0.1:1/elsewhere, which was not followed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := runRunner(t, "--target", startReference(t, keep, c.file))
			lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
			if res.code != 2 || len(lines) != 1 || !strings.Contains(lines[0], c.want) {
				t.Fatalf("exit %d, stderr %q: want exit 2 and one line with %q\nstdout:\n%s", res.code, res.stderr, c.want, res.stdout)
			}
			if strings.Contains(res.stdout, "passed,") {
				t.Fatalf("specs ran after a failed preflight:\n%s", res.stdout)
			}
		})
	}
}

// call sends one request to a reference with the given token.
func call(t *testing.T, method, url, token, body string) string {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, data)
	}
	return string(data)
}

func attrsOf(t *testing.T, tg *target.Target, user string) string {
	body := call(t, http.MethodGet, tg.BaseURL+"/acme/chat/metadata/user/"+user, tg.AdminToken, "")
	i := strings.Index(body, `"data":`)
	j := strings.Index(body, `,"duration"`)
	return body[i:j]
}

// A run against a target leaves its listed users as it found them when
// the target preserves attributes, and empty otherwise.
func TestListedUsersArePreservedOrEmptied(t *testing.T) {
	for _, preserve := range []bool{true, false} {
		t.Run(map[bool]string{true: "preserve", false: "empty"}[preserve], func(t *testing.T) {
			t.Parallel()
			var live *target.Target
			file := startReference(t, func(*target.Target) {}, func(tg *target.Target) {
				tg.PreserveAttributes = preserve
				live = tg
			})
			call(t, http.MethodPut, live.BaseURL+"/acme/chat/metadata/user/alice", live.AdminToken, "nickname=Alice&mail=a%40example.com")
			call(t, http.MethodPut, live.BaseURL+"/acme/chat/metadata/user/carol", live.AdminToken, "sign=hello")
			before := attrsOf(t, live, "alice") + attrsOf(t, live, "carol")
			res := runRunner(t, "--target", file, "--label-filter", "write || race")
			if res.code != 0 {
				t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
			}
			after := attrsOf(t, live, "alice") + attrsOf(t, live, "carol")
			want := `"data":{}"data":{}`
			if preserve {
				want = before
			}
			if after != want {
				t.Fatalf("listed users after the run: %s, want %s", after, want)
			}
		})
	}
}

func TestBurstAndHookSpecsAreOptIn(t *testing.T) {
	t.Parallel()
	file := startReference(t, func(*target.Target) {}, func(tg *target.Target) { tg.OptIn = nil })
	dir := t.TempDir()
	res := runRunner(t, "--target", file, "--report-dir", dir)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
	summary := readSummary(t, filepath.Join(dir, "requirements.json"))
	for _, id := range []string{"UA-CONC-001", "UA-CONC-003", "UA-RATE-002", "UA-ERR-004"} {
		r := requirement(summary, id)
		if r.Verdict != "DISABLED" || !strings.Contains(r.Reason, "opt_in") {
			t.Errorf("%s: %s (%s), want DISABLED naming opt_in", id, r.Verdict, r.Reason)
		}
	}
	res = runRunner(t, "--target", file, "--opt-in", "burst,hooks", "--label-filter", "race || hooks")
	if res.code != 0 || !strings.Contains(lastLine(res.stdout), "0 failed, 0 skipped") || strings.HasPrefix(lastLine(res.stdout), "0 passed") {
		t.Fatalf("--opt-in burst,hooks: exit %d, %q", res.code, lastLine(res.stdout))
	}
}

func TestDryRunSendsNothingAndPrintsThePlan(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer live.Close()
	file := startReference(t, func(*target.Target) {}, func(x *target.Target) { x.BaseURL = live.URL; x.AdminToken = "${ATTRCONFORM_UNSET_TOKEN}" })
	res := runRunner(t, "--target", file, "--dry-run", "--label-filter", "!burst")
	if res.code != 0 || hits.Load() != 0 {
		t.Fatalf("exit %d, %d requests reached the target\n%s%s", res.code, hits.Load(), res.stdout, res.stderr)
	}
	for _, want := range []string{"nothing was sent", "Specs selected:", "Requests per operation:", "setUserAttributes", "app chat: alice*", "generated usernames"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, res.stdout)
		}
	}
}

// No token of the target appears in any output, log or report, also when
// specs fail and their exchanges are reported.
func TestTokensAppearInNoOutput(t *testing.T) {
	t.Parallel()
	tg, err := reference.BundledTarget()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	res := runRunner(t, "--mutant", "foreign-token-write", "--report-dir", dir, "-v")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1 (failures to report)", res.code)
	}
	outputs := map[string]string{"stdout": res.stdout, "stderr": res.stderr}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		outputs[e.Name()] = string(data)
	}
	if len(entries) < 3 || !strings.Contains(outputs["report.json"], `"exchange"`) {
		t.Fatalf("expected reports carrying the failing exchanges, got %d files", len(entries))
	}
	for name, out := range outputs {
		for _, secret := range tg.Secrets() {
			if strings.Contains(out, secret) {
				t.Errorf("%s contains a token (%s…)", name, secret[:6])
			}
		}
	}
}

// A spec whose requests keep being refused for rate (429 after every
// retry) is an ERROR: the harness could not judge the target.
func TestRequestsThatNeverGetThroughAreErrors(t *testing.T) {
	t.Parallel()
	var real *target.Target
	file := startReference(t, func(*target.Target) {}, func(tg *target.Target) { real = tg })
	proxy := httputil.NewSingleHostReverseProxy(mustParse(t, real.BaseURL))
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":"reach_limit","error_description":"This request has reached api limit","timestamp":1,"duration":0}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer busy.Close()
	data, _ := os.ReadFile(file)
	os.WriteFile(file, []byte(strings.Replace(string(data), real.BaseURL, busy.URL, 1)), 0o600)
	dir := t.TempDir()
	res := runRunner(t, "--target", file, "--label-filter", "batch", "--report-dir", dir)
	if res.code != 2 {
		t.Fatalf("exit %d, want 2\n%s", res.code, res.stdout)
	}
	if r := requirement(readSummary(t, filepath.Join(dir, "requirements.json")), "UA-BATCH-002"); r.Verdict != "ERROR" || !strings.Contains(r.Reason, "request budget exhausted") {
		t.Fatalf("UA-BATCH-002: %s (%s), want ERROR", r.Verdict, r.Reason)
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
