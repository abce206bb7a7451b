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
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/target"
)

// The tests of this file point the runner at hostile servers: targets
// nobody here controls, which echo tokens, answer garbage, drip, never
// answer or never stop. All of them listen on loopback.

// hostileFront is a target in front of a faithful one (upstream) whose
// answers change on the way back: a header of every answer echoes the
// request's credentials, and each error answer (the specs provoke many;
// the preflight none) gets the body body returns for it, numbered from 1.
// changed counts the error answers changed.
func hostileFront(t *testing.T, upstream string, body func(resp *http.Response, n int64) string) (srv *httptest.Server, changed *atomic.Int64) {
	t.Helper()
	changed = &atomic.Int64{}
	rp := httputil.NewSingleHostReverseProxy(mustParse(t, upstream))
	rp.ModifyResponse = func(resp *http.Response) error {
		if auth := resp.Request.Header.Get("Authorization"); auth != "" {
			resp.Header.Set("X-Debug-Authorization", auth)
		}
		if resp.StatusCode < 400 {
			return nil
		}
		b := body(resp, changed.Add(1))
		resp.Body.Close()
		resp.Body = io.NopCloser(strings.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	}
	srv = httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv, changed
}

// echo is an error answer whose error, error_description and desc quote
// the request's credentials; every other one is cut inside the token, at
// a length that moves on with every answer, and every third carries the
// token in its Content-Type.
func echo(resp *http.Response, n int64) string {
	auth := resp.Request.Header.Get("Authorization")
	_, token, _ := strings.Cut(auth, " ")
	body := fmt.Sprintf(`{"error":"invalid %s","error_description":"the token %s is not accepted","desc":"Bearer %s","timestamp":1,"duration":0}`, auth, token, token)
	if n%2 == 0 && token != "" {
		body = body[:strings.Index(body, token)+int(n/2)%(len(token)+1)]
	}
	if n%3 == 0 {
		resp.Header.Set("Content-Type", "application/json; token="+token)
	}
	return body
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
	var echoed *atomic.Int64
	var live *target.Target
	file := startReference(t, func(*target.Target) {}, func(tg *target.Target) {
		var srv *httptest.Server
		srv, echoed = hostileFront(t, tg.BaseURL, echo)
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
	var echoed *atomic.Int64
	var live *target.Target
	file := startReference(t, func(*target.Target) {}, func(tg *target.Target) {
		var srv *httptest.Server
		srv, echoed = hostileFront(t, tg.BaseURL, echo)
		tg.BaseURL = srv.URL
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

// Error answers of JSON nested 9000 deep (18 KB) or an object of 285,000
// keys (4 MB): each is a violation with a short message; the runner stays
// under 400 MB and its reports under 50 MB.
func TestHostileJSONKeepsMemoryAndReportsBounded(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", 9000) + strings.Repeat("]", 9000)
	var wide strings.Builder
	for i := range 285_000 {
		fmt.Fprintf(&wide, `,"k%d":1`, i)
	}
	for name, body := range map[string]string{
		"deep": `{"error":"x","error_description":` + deep + `,"timestamp":1,"duration":0}`,
		"wide": `{"error":"x","error_description":"y","timestamp":1,"duration":0` + wide.String() + `}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var changed *atomic.Int64
			file := startReference(t, func(*target.Target) {}, func(tg *target.Target) {
				var srv *httptest.Server
				srv, changed = hostileFront(t, tg.BaseURL, func(*http.Response, int64) string { return body })
				tg.BaseURL = srv.URL
			})
			dir := t.TempDir()
			res := runRunner(t, "--target", file, "--report-dir", dir, "--label-filter", "auth || names || limits")
			if res.code != 1 || changed.Load() < 20 || !strings.Contains(res.stdout, "beyond any the contract allows") {
				t.Fatalf("exit %d after %d hostile answers: want FAILs naming the shape\n%s", res.code, changed.Load(), lastLines(res.stdout, 30))
			}
			if res.maxRSS > 400<<20 {
				t.Errorf("the runner peaked at %d MB", res.maxRSS>>20)
			}
			var size int64
			for _, text := range outputsOf(t, res, dir) {
				size += int64(len(text))
			}
			if size > 50<<20 {
				t.Errorf("the outputs and reports hold %d MB", size>>20)
			}
			t.Logf("%d hostile answers; peak RSS %d MB; outputs %d KB", changed.Load(), res.maxRSS>>20, size>>10)
		})
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// 50 clients PUT 9 MB each at once through `runner proxy`: the proxy keeps
// what it may judge within its bounds, passes the rest through unjudged
// and says so, and stays under 1 GB.
func TestProxyMemoryStaysBoundedUnderLargeBodies(t *testing.T) {
	t.Parallel()
	tg, file := referenceFile(t, "")
	r := startRunner(t, "proxy", "--target", file)
	url := r.waitFor("http://127.0.0.1:")
	body := "a=" + strings.Repeat("x", 9<<20)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			req, _ := http.NewRequest("PUT", url+userURL+"alice", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tg.AdminToken)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	r.cmd.Process.Signal(os.Interrupt)
	r.exit()
	rss := r.cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
	if rss > 1<<30 {
		t.Errorf("the proxy peaked at %d MB", rss>>20)
	}
	if !strings.Contains(r.out(), "UNJUDGED") || !strings.Contains(r.out(), "passed through unjudged (the proxy's bounds): ") {
		t.Errorf("the proxy does not say what it passed through unjudged:\n%s", lastLines(r.out(), 20))
	}
	t.Logf("peak RSS %d MB", rss>>20)
}

// stalling is a target that accepts and then never answers (/silent),
// drips its answer a byte at a time (/drip) or never ends it (/endless).
func stalling(t *testing.T) *httptest.Server {
	t.Helper()
	quit := make(chan struct{}) // lets the stalled handlers go at the end
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/silent") {
			select {
			case <-r.Context().Done():
			case <-quit:
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		chunk := []byte(strings.Repeat(" ", 32<<10))
		if strings.HasSuffix(r.URL.Path, "/drip") {
			chunk = chunk[:1]
		}
		for r.Context().Err() == nil {
			select {
			case <-quit:
				return
			default:
			}
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			if len(chunk) == 1 {
				time.Sleep(200 * time.Millisecond)
			}
		}
	}))
	t.Cleanup(func() {
		close(quit)
		srv.Close()
	})
	return srv
}

// A target that never answers, drips or never ends its answer, and
// clients that send their body a byte at a time: `runner proxy` holds
// none of them for longer than its time limits and says what happened.
func TestProxyHoldsNothingForEver(t *testing.T) {
	t.Parallel()
	tg, err := reference.BundledTarget()
	if err != nil {
		t.Fatal(err)
	}
	tg.BaseURL = stalling(t).URL
	data, _ := yaml.Marshal(tg)
	file := filepath.Join(t.TempDir(), "target.yaml")
	os.WriteFile(file, data, 0o600)
	r := startRunner(t, "proxy", "--target", file, "--upstream-timeout", "1s", "--client-timeout", "1s")
	url := r.waitFor("http://127.0.0.1:")
	within := func(what string, d time.Duration, f func()) {
		t.Helper()
		start := time.Now()
		f()
		if took := time.Since(start); took > d {
			t.Errorf("%s took %v, want at most %v", what, took.Round(time.Millisecond), d)
		}
	}
	within("a target that never answers", 5*time.Second, func() {
		if code, _ := send(t, "GET", url+userURL+"silent", tg.AdminToken, "", ""); code != http.StatusBadGateway {
			t.Errorf("status %d, want 502", code)
		}
	})
	for _, path := range []string{"drip", "endless"} {
		within("an answer that "+path+"s", 5*time.Second, func() {
			req, _ := http.NewRequest("GET", url+userURL+path, nil)
			req.Header.Set("Authorization", "Bearer "+tg.AdminToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err == nil {
				t.Errorf("%s: %d bytes and a clean end, want a body broken off", path, n)
			}
		})
	}
	within("20 clients dripping their body", 8*time.Second, func() {
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() { dripClient(t, url) })
		}
		wg.Wait()
	})
	r.cmd.Process.Signal(os.Interrupt)
	r.exit()
	out := r.out()
	for _, want := range []string{"no whole answer within 1s (--upstream-timeout)", "UNANSWERED", "the answer broke off after", "UNJUDGED", "the client's request body broke off"} {
		if !strings.Contains(out, want) {
			t.Errorf("the proxy's output lacks %q:\n%s", want, lastLines(out, 30))
		}
	}
}

// dripClient sends a PUT whose body comes a byte every 300 ms, and
// returns once the proxy has answered or closed the connection.
func dripClient(t *testing.T, url string) {
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT %salice HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n", userURL)
	answered := make(chan struct{})
	go func() {
		io.Copy(io.Discard, conn)
		close(answered)
	}()
	for {
		select {
		case <-answered:
			return
		case <-time.After(300 * time.Millisecond):
			if _, err := conn.Write([]byte("a")); err != nil {
				<-answered
				return
			}
		}
	}
}

// dying is a target in front of a faithful one (upstream) that answers
// until the first batch read (a request no preflight sends) and then
// stops answering: every request is accepted and never answered, or
// answered a byte a second, as mode says. stalled counts the requests it
// did not answer.
func dying(t *testing.T, upstream, mode string) (srv *httptest.Server, stalled *atomic.Int64) {
	t.Helper()
	stalled = &atomic.Int64{}
	var dead atomic.Bool
	quit := make(chan struct{}) // lets the stalled handlers go at the end
	rp := httputil.NewSingleHostReverseProxy(mustParse(t, upstream))
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			dead.Store(true)
		}
		if !dead.Load() {
			rp.ServeHTTP(w, r)
			return
		}
		stalled.Add(1)
		io.Copy(io.Discard, r.Body)
		if mode == "drip" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			for _, b := range []byte(`{"timestamp":1,"data":{},"duration":0}`) {
				select {
				case <-r.Context().Done():
					return
				case <-quit:
					return
				case <-time.After(time.Second):
				}
				w.Write([]byte{b})
				w.(http.Flusher).Flush()
			}
		}
		select {
		case <-r.Context().Done():
		case <-quit:
		}
	}))
	t.Cleanup(func() {
		close(quit)
		srv.Close()
	})
	return srv, stalled
}

// A target that stops answering after the preflight, by never answering
// or by dripping: the run ends by itself after 5 transport errors in a
// row, with exit 2 and its reports; the specs it did not reach are "not
// run (interrupted)" and the cleanup says what it could not restore.
func TestARunAgainstADeadTargetEndsByItself(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"silent", "drip"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			var stalled *atomic.Int64
			file := startReference(t, func(*target.Target) {}, func(tg *target.Target) {
				var srv *httptest.Server
				srv, stalled = dying(t, tg.BaseURL, mode)
				tg.BaseURL = srv.URL
			})
			dir := t.TempDir()
			start := time.Now()
			res := runRunner(t, "--target", file, "--report-dir", dir, "--request-timeout", "500ms", "--label-filter", "batch || read || write")
			took := time.Since(start)
			if res.code != 2 || took > time.Minute {
				t.Fatalf("exit %d after %v, want 2 within a minute\n%s", res.code, took.Round(time.Second), lastLines(res.stdout, 30))
			}
			for _, want := range []string{"The run ended before all its specs ran:", "the target stopped answering after spec", "; 5 transport errors in a row", "The specs ran; then the cleanup after them failed:", "not tried, the target stopped answering"} {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("the summary lacks %q:\n%s", want, lastLines(res.stdout, 30))
				}
			}
			s := readSummary(t, filepath.Join(dir, "requirements.json"))
			notRun := 0
			for _, sp := range s.Specs {
				if strings.HasPrefix(sp.Reason, "not run (interrupted): the run stopped: the target stopped answering") {
					notRun++
				}
			}
			if notRun == 0 || s.Interrupted == "" {
				t.Errorf("%d specs not run, interrupted %q: want the specs not reached as not run (interrupted)", notRun, s.Interrupted)
			}
			for _, f := range []string{"junit.xml", "report.json", "requirements.md", "requirements.html"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("no %s: %v", f, err)
				}
			}
			t.Logf("%s: ended after %v, %d requests left unanswered, %d specs not run", mode, took.Round(time.Millisecond), stalled.Load(), notRun)
		})
	}
}

// SIGTERM in the middle of a run against a target that stopped answering
// ends it without SIGKILL: the running spec is interrupted, the cleanup
// is bounded and says what it could not restore, the reports are written.
func TestSIGTERMEndsARunWithItsReports(t *testing.T) {
	t.Parallel()
	var stalled *atomic.Int64
	file := startReference(t, func(*target.Target) {}, func(tg *target.Target) {
		var srv *httptest.Server
		srv, stalled = dying(t, tg.BaseURL, "silent")
		tg.BaseURL = srv.URL
	})
	dir := t.TempDir()
	r := startRunner(t, "--target", file, "--report-dir", dir, "--request-timeout", "3s")
	for stalled.Load() == 0 {
		select {
		case <-r.done:
			t.Fatalf("the run ended before the target stopped answering:\n%s", r.out())
		case <-time.After(20 * time.Millisecond):
		}
	}
	start := time.Now()
	r.cmd.Process.Signal(syscall.SIGTERM)
	if code := r.exit(); code != 2 {
		t.Fatalf("exit %d, want 2\n%s", code, r.out())
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the run took %v to end after SIGTERM", took.Round(time.Second))
	}
	s := readSummary(t, filepath.Join(dir, "requirements.json"))
	if !strings.Contains(s.Interrupted, "interrupted") || !strings.Contains(s.CleanupFailure, "could not restore") {
		t.Errorf("interrupted %q, cleanup %q: want the interrupt and what was not restored", s.Interrupted, s.CleanupFailure)
	}
	for _, sp := range s.Specs {
		if sp.Verdict == "DISABLED" && !strings.HasPrefix(sp.Reason, "the ") {
			t.Errorf("%s: DISABLED (%s), want not run (interrupted)", sp.Name, sp.Reason)
		}
	}
}

// --timeout is the whole run's deadline: a run that cannot finish in time
// ends at it with exit 2 and its reports.
func TestTheRunsDeadlineEndsIt(t *testing.T) {
	t.Parallel()
	file := startReference(t, func(*target.Target) {}, func(tg *target.Target) {
		rp := httputil.NewSingleHostReverseProxy(mustParse(t, tg.BaseURL))
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(30 * time.Millisecond)
			rp.ServeHTTP(w, r)
		}))
		t.Cleanup(slow.Close)
		tg.BaseURL = slow.URL
	})
	dir := t.TempDir()
	start := time.Now()
	res := runRunner(t, "--target", file, "--report-dir", dir, "--timeout", "4s")
	if res.code != 2 || time.Since(start) > 45*time.Second {
		t.Fatalf("exit %d after %v, want 2 soon after the deadline\n%s", res.code, time.Since(start).Round(time.Second), lastLines(res.stdout, 20))
	}
	s := readSummary(t, filepath.Join(dir, "requirements.json"))
	if !strings.Contains(s.Interrupted, "deadline (--timeout") || s.CleanupFailure != "" {
		t.Errorf("interrupted %q, cleanup %q: want the deadline named, and a cleanup that succeeded", s.Interrupted, s.CleanupFailure)
	}
}
