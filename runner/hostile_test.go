package main

import (
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/attrconform/attrconform/target"
)

// The tests of this file point the runner at hostile servers: targets
// nobody here controls, which echo tokens, answer garbage, drip, never
// answer or never stop. All of them listen on loopback.

// echoing is a target in front of a faithful one (upstream) that echoes
// the credentials of every request in every place a server can put text:
// a header of every answer, and instead of each error answer, a body
// whose error, error_description and desc quote them; every other such
// body is cut inside the token, at a length that moves on with every
// answer, and every third error answer carries the token in its
// Content-Type. echoed counts the answers it changed.
func echoing(t *testing.T, upstream string, echoed *atomic.Int64) *httptest.Server {
	t.Helper()
	rp := httputil.NewSingleHostReverseProxy(mustParse(t, upstream))
	rp.ModifyResponse = func(resp *http.Response) error {
		auth := resp.Request.Header.Get("Authorization")
		if auth == "" {
			return nil
		}
		_, token, _ := strings.Cut(auth, " ")
		resp.Header.Set("X-Debug-Authorization", auth)
		if resp.StatusCode < 400 {
			return nil
		}
		n := echoed.Add(1)
		body := fmt.Sprintf(`{"error":"invalid %s","error_description":"the token %s is not accepted","desc":"Bearer %s","timestamp":1,"duration":0}`, auth, token, token)
		if n%2 == 0 {
			at := strings.Index(body, token) + int(n/2)%(len(token)+1)
			body = body[:at]
		}
		if n%3 == 0 {
			resp.Header.Set("Content-Type", "application/json; token="+token)
		}
		resp.Body.Close()
		resp.Body = io.NopCloser(strings.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv
}

// outputsOf is what a run let out: its stdout, stderr and every file of
// the report directory (and below).
func outputsOf(t *testing.T, res runResult, dir string) map[string]string {
	t.Helper()
	out := map[string]string{"stdout": res.stdout, "stderr": res.stderr}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			out[path] = string(data)
		}
		return nil
	})
	return out
}

// piece is the shortest part of a secret a leak is looked for by.
const piece = 6

// expectNoSecret fails when an output holds a secret, whole, or cut: its
// start or its end of piece bytes or more.
func expectNoSecret(t *testing.T, outputs map[string]string, secrets ...string) {
	t.Helper()
	for name, text := range outputs {
		for _, s := range secrets {
			for k := min(piece, len(s)); k <= len(s); k++ {
				if strings.Contains(text, s[:k]) || strings.Contains(text, s[len(s)-k:]) {
					i := strings.Index(text, s[:k])
					if i < 0 {
						i = strings.Index(text, s[len(s)-k:])
					}
					t.Errorf("%s holds %d bytes of a secret (%s…): …%s…", name, k, s[:min(3, len(s))], text[max(0, i-60):min(len(text), i+k+20)])
					break
				}
			}
		}
	}
}

// A target that echoes the admin's and the users' tokens, and the Basic
// credentials of a password in base_url, in its error texts, headers and
// bodies cut at every length: no piece of any of them reaches stdout,
// stderr or any report.
func TestNoSecretLeavesWhenTheTargetEchoesIt(t *testing.T) {
	t.Parallel()
	const password = "s3cret-Passw0rd"
	var echoed atomic.Int64
	var live *target.Target
	file := startReference(t, func(*target.Target) {}, func(tg *target.Target) {
		srv := echoing(t, tg.BaseURL, &echoed)
		tg.BaseURL = "http://ops:" + password + "@" + strings.TrimPrefix(srv.URL, "http://")
		live = tg
	})
	dir := t.TempDir()
	res := runRunner(t, "--target", file, "--report-dir", dir, "-v")
	if res.code == 0 || echoed.Load() < 50 {
		t.Fatalf("exit %d after %d echoing answers: want failing specs quoting the echoes\n%s", res.code, echoed.Load(), res.stdout)
	}
	outputs := outputsOf(t, res, dir)
	if !strings.Contains(outputs[filepath.Join(dir, "report.json")], "[REDACTED]") || !strings.Contains(outputs[filepath.Join(dir, "junit.xml")], "[REDACTED]") {
		t.Fatalf("Ginkgo's reports quote no redacted echo: the test proves nothing")
	}
	secrets := append(live.Secrets(), password)
	if len(secrets) < 10 {
		t.Fatalf("secrets %d: the target lost its tokens", len(secrets))
	}
	expectNoSecret(t, outputs, secrets...)
}

// With one-character tokens (common in local setups) the messages stay
// readable: a refused connection reads "connection refused" with its URL,
// and one line warns that such tokens are redacted as whole words only.
func TestOneCharacterTokensKeepMessagesReadable(t *testing.T) {
	t.Parallel()
	closed := closedPort(t)
	tg := target.Target{BaseURL: "http://127.0.0.1:" + closed, Org: "acme", App: target.App{Name: "chat", AdminToken: "t",
		Users: []target.User{{Name: "alice", Token: "u"}, {Name: "bob", Token: "v"}, {Name: "carol"}}}}
	data, _ := yaml.Marshal(tg)
	file := filepath.Join(t.TempDir(), "target.yaml")
	os.WriteFile(file, data, 0o600)
	res := runRunner(t, "--target", file)
	lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
	want := `preflight: http://127.0.0.1:` + closed + ` does not answer as the API: Get "http://127.0.0.1:` + closed + `/acme/chat/metadata/user/capacity": dial tcp 127.0.0.1:` + closed + `: connect: connection refused`
	if res.code != 2 || len(lines) != 2 || !strings.Contains(lines[0], "warning: 3 of the target's tokens or passwords are shorter than 8 characters") || !strings.HasSuffix(lines[1], want) {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 2, a warning and a line ending in\n%s", res.code, res.stderr, want)
	}
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}

// A password in base_url is never printed: not in a failed preflight's
// line, not in a dry run's plan.
func TestAPasswordInBaseURLIsNeverPrinted(t *testing.T) {
	t.Parallel()
	const password = "hunter2-Passw0rd"
	file := startReference(t, func(*target.Target) {}, func(tg *target.Target) {
		tg.BaseURL = "http://ops:" + password + "@127.0.0.1:" + closedPort(t)
	})
	for _, args := range [][]string{{"--target", file}, {"--target", file, "--dry-run", "--label-filter", "UA-PUT-001"}} {
		res := runRunner(t, args...)
		if res.code == 0 && args[2] != "--dry-run" || !strings.Contains(res.stdout+res.stderr, "127.0.0.1") {
			t.Fatalf("%v: exit %d\n%s%s", args, res.code, res.stdout, res.stderr)
		}
		expectNoSecret(t, map[string]string{"stdout": res.stdout, "stderr": res.stderr}, password, "b3BzOmh1bnRlcjItUGFzc3cwcmQ=")
	}
}

// A client's traffic through `runner proxy` to a target that echoes every
// credential (listed tokens, an unlisted one) in its headers and error
// texts: the proxy's lines, its record and its reports hold none of them.
func TestProxyRedactsWhatTheTargetEchoes(t *testing.T) {
	t.Parallel()
	const unlisted = "Unlisted-Token-0f9e8d7c"
	var echoed atomic.Int64
	var live *target.Target
	file := startReference(t, func(*target.Target) {}, func(tg *target.Target) {
		tg.BaseURL = echoing(t, tg.BaseURL, &echoed).URL
		live = tg
	})
	dir := t.TempDir()
	r := startRunner(t, "proxy", "--target", file, "--report-dir", dir, "--record", filepath.Join(dir, "traffic.jsonl"))
	url := r.waitFor("http://127.0.0.1:")
	for i := range 40 { // error answers cut at every length of the token
		token := []string{live.AdminToken, live.Users[0].Token, unlisted}[i%3]
		send(t, "GET", url+userURL+"nobody%20here", token, "", "")
		send(t, "PUT", url+userURL+"alice", token, "application/json", `{"a":"1"}`)
	}
	traffic(t, url, live)
	r.cmd.Process.Signal(os.Interrupt)
	r.exit()
	if echoed.Load() < 60 {
		t.Fatalf("%d echoing answers: the test proves nothing", echoed.Load())
	}
	outputs := outputsOf(t, runResult{stdout: r.out(), stderr: r.err()}, dir)
	if !strings.Contains(outputs[filepath.Join(dir, "traffic.jsonl")], "[REDACTED]") {
		t.Fatalf("the record shows no redacted echo: the test proves nothing")
	}
	expectNoSecret(t, outputs, append(live.Secrets(), unlisted)...)
}
