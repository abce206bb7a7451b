package main

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"

	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/report"
	"github.com/attrconform/attrconform/target"
)

// running is a runner subprocess whose output is read as it comes.
type running struct {
	t      *testing.T
	cmd    *exec.Cmd
	mu     sync.Mutex
	stdout strings.Builder
	stderr strings.Builder
	lines  chan string
	done   chan struct{}
	code   int
}

func startRunner(t *testing.T, args ...string) *running {
	t.Helper()
	r := &running{t: t, cmd: exec.Command(runnerBin, args...), lines: make(chan string, 1000), done: make(chan struct{})}
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r.cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.stderr.Write(p)
	})
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			r.mu.Lock()
			r.stdout.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
			r.lines <- sc.Text()
		}
		err := r.cmd.Wait()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			r.code = exit.ExitCode()
		}
		close(r.lines)
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// waitFor reads lines until one has the prefix, and returns it.
func (r *running) waitFor(prefix string) string {
	r.t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-r.lines:
			if !ok {
				r.t.Fatalf("the runner ended before printing %q (exit %d)\n%s%s", prefix, r.code, r.out(), r.err())
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			r.t.Fatalf("no line %q in a minute:\n%s", prefix, r.out())
		}
	}
}

// exit waits for the runner to end and returns its exit status.
func (r *running) exit() int {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(60 * time.Second):
		r.t.Fatalf("the runner did not end:\n%s", r.out())
	}
	return r.code
}

func (r *running) out() string { r.mu.Lock(); defer r.mu.Unlock(); return r.stdout.String() }
func (r *running) err() string { r.mu.Lock(); defer r.mu.Unlock(); return r.stderr.String() }

// referenceFile starts the bundled reference in this process (with a
// mutant when named) and writes its target file.
func referenceFile(t *testing.T, mutantName string) (*target.Target, string) {
	t.Helper()
	return server{mutant: mutantName}.start(t)
}

// send is a client request through the proxy; it returns the status and body.
func send(t *testing.T, method, url, token, contentType, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func batchOf(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf(`"nobody%d"`, i)
	}
	return `{"targets":["alice",` + strings.Join(names[1:], ",") + `],"properties":["nickname"]}`
}

const userURL = "/acme/chat/metadata/user/"

// traffic sends a client's requests through the proxy at url: a write and
// reads, 100 and 101 targets, and a request without a token.
func traffic(t *testing.T, url string, tg *target.Target) {
	t.Helper()
	form := "application/x-www-form-urlencoded"
	if code, _ := send(t, "PUT", url+userURL+"alice", tg.AdminToken, form, "nickname=Alice"); code != 200 {
		t.Fatalf("PUT through the proxy: %d", code)
	}
	send(t, "GET", url+userURL+"alice", tg.Users[0].Token, "", "")
	send(t, "POST", url+userURL+"get", tg.Users[1].Token, "application/json", batchOf(100))
	send(t, "POST", url+userURL+"get", tg.AdminToken, "application/json", batchOf(101))
	send(t, "GET", url+userURL+"capacity", "", "", "")
}

// A client's traffic through `runner proxy` to a target that lets 101
// targets through: the violation is printed when it happens, SIGINT writes
// the reports, the exit status is 1, and no token is in any output.
func TestProxyJudgesAClientsTraffic(t *testing.T) {
	t.Parallel()
	tg, file := referenceFile(t, "batch-cap-101")
	dir := t.TempDir()
	record := filepath.Join(dir, "traffic.jsonl")
	reports := filepath.Join(dir, "reports")
	r := startRunner(t, "proxy", "--target", file, "--report-dir", reports, "--record", record)
	url := r.waitFor("http://127.0.0.1:")
	traffic(t, url, tg)
	line := r.waitFor("VIOLATION")
	if want := "VIOLATION  UA-BATCH-006 #4 batchGetUserAttributes POST " + userURL + "get as admin -> 200: 101 targets, over the limit of 100, were answered 200"; line != want {
		t.Errorf("violation line\n%q, want\n%q", line, want)
	}
	r.cmd.Process.Signal(os.Interrupt)
	if code := r.exit(); code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, r.out(), r.err())
	}
	if strings.Count(r.out(), "VIOLATION") != 1 || !strings.Contains(r.out(), "CLIENT     #5 getAttributeCapacity GET "+userURL+"capacity as no token") {
		t.Errorf("want exactly one violation and the token-less request as the client's:\n%s", r.out())
	}
	if m := closing.FindStringSubmatch(lastLine(r.out())); m == nil || m[2] != "1" {
		t.Errorf("last line %q: want one requirement failed", lastLine(r.out()))
	}

	s := readSummary(t, filepath.Join(reports, "requirements.json"))
	for id, want := range map[string]report.Verdict{
		"UA-BATCH-006": report.Fail, "UA-BATCH-005": report.Pass, "UA-GEN-003": report.Pass,
		"UA-CONC-001": report.Skip, "UA-LIMIT-001": report.Skip, "UA-GEN-010": report.Untestable,
	} {
		if got := requirement(s, id); got.Verdict != want {
			t.Errorf("%s: %s (%s), want %s", id, got.Verdict, got.Reason, want)
		}
	}
	if s.Traffic == nil || s.Traffic.Exchanges != 5 || s.Traffic.ClientFindings < 2 {
		t.Errorf("traffic %+v: want 5 exchanges, the 101-target batch and the token-less read off contract", s.Traffic)
	}
	md, _ := os.ReadFile(filepath.Join(reports, "requirements.md"))
	html, _ := os.ReadFile(filepath.Join(reports, "requirements.html"))
	for name, want := range map[string]string{
		"requirements.md":   "| `batchGetUserAttributes` `POST /{org_name}/{app_name}/metadata/user/get` | 2 |",
		"requirements.html": "User-attributes conformance of observed traffic",
	} {
		text := map[string][]byte{"requirements.md": md, "requirements.html": html}[name]
		if !strings.Contains(string(text), want) {
			t.Errorf("%s lacks %q", name, want)
		}
	}
	var junit reporters.JUnitTestSuites
	data, _ := os.ReadFile(filepath.Join(reports, "junit.xml"))
	if err := xml.Unmarshal(data, &junit); err != nil || junit.Failures != 1 {
		t.Fatalf("junit.xml: %v, %d failures", err, junit.Failures)
	}
	for _, tc := range junit.TestSuites[0].TestCases {
		if (tc.Failure != nil) != strings.HasPrefix(tc.Name, "UA-BATCH-006:") {
			t.Errorf("junit case %q: failure %v", tc.Name, tc.Failure != nil)
		}
	}

	outputs := map[string]string{"stdout": r.out(), "stderr": r.err()}
	for _, f := range []string{record, filepath.Join(reports, "requirements.json"), filepath.Join(reports, "requirements.md"), filepath.Join(reports, "requirements.html"), filepath.Join(reports, "junit.xml")} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		outputs[filepath.Base(f)] = string(data)
	}
	if strings.Count(outputs["traffic.jsonl"], "\n") != 5 {
		t.Errorf("the record has %d lines, want 5", strings.Count(outputs["traffic.jsonl"], "\n"))
	}
	for name, text := range outputs {
		for _, secret := range tg.Secrets() {
			if strings.Contains(text, secret) {
				t.Errorf("%s contains a token (%s…)", name, secret[:6])
			}
		}
	}
}

// Without --target the proxy starts the bundled reference; SIGTERM ends a
// session without violations with exit 0. It listens on loopback only.
func TestProxyToTheBundledReferenceOnLoopback(t *testing.T) {
	t.Parallel()
	tg, err := reference.BundledTarget()
	if err != nil {
		t.Fatal(err)
	}
	r := startRunner(t, "proxy", "--reference", "inprocess")
	url := r.waitFor("http://")
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("listens at %s, want a loopback address", url)
	}
	if addr, ok := listeningAddress(url[strings.LastIndex(url, ":")+1:]); ok && addr != "127.0.0.1" {
		t.Fatalf("the socket of port %s is bound to %s, want 127.0.0.1", url, addr)
	}
	traffic(t, url, tg)
	r.cmd.Process.Signal(syscall.SIGTERM)
	if code := r.exit(); code != 0 || strings.Contains(r.out(), "VIOLATION") {
		t.Fatalf("exit %d against the faithful reference, want 0 and no violation\n%s%s", code, r.out(), r.err())
	}
	if !strings.Contains(r.out(), "judging the traffic to the bundled reference (in-process)") {
		t.Errorf("the proxy does not say it started the reference:\n%s", r.out())
	}
}

// listeningAddress is the IPv4 address a listening TCP socket of port is
// bound to, from /proc/net/tcp (Linux only; false elsewhere).
func listeningAddress(port string) (string, bool) {
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return "", false
	}
	var p int
	fmt.Sscan(port, &p)
	for _, l := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) < 4 || f[3] != "0A" || !strings.HasSuffix(f[1], fmt.Sprintf(":%04X", p)) {
			continue
		}
		var a [4]byte
		fmt.Sscanf(f[1][:8], "%02x%02x%02x%02x", &a[3], &a[2], &a[1], &a[0])
		return fmt.Sprintf("%d.%d.%d.%d", a[0], a[1], a[2], a[3]), true
	}
	return "", false
}

// --fail-fast ends the session at the first violation: the client still
// gets the target's answer, the reports are written, the exit status is 1.
func TestProxyFailFast(t *testing.T) {
	t.Parallel()
	tg, file := referenceFile(t, "batch-cap-101")
	reports := t.TempDir()
	r := startRunner(t, "proxy", "--target", file, "--fail-fast", "--report-dir", reports, "--listen", "127.0.0.1:0")
	url := r.waitFor("http://127.0.0.1:")
	code, body := send(t, "POST", url+userURL+"get", tg.AdminToken, "application/json", batchOf(101))
	if code != 200 || !strings.Contains(body, `"data"`) {
		t.Fatalf("the client got %d %s, want the target's 200", code, body)
	}
	if exit := r.exit(); exit != 1 || !strings.Contains(r.out(), "stopping at the first violation") {
		t.Fatalf("exit %d, want 1 on its own\n%s%s", exit, r.out(), r.err())
	}
	if r := requirement(readSummary(t, filepath.Join(reports, "requirements.json")), "UA-BATCH-006"); r.Verdict != report.Fail || len(r.Failures) != 1 || r.Failures[0].Exchange == nil {
		t.Fatalf("UA-BATCH-006 in the report: %+v", r)
	}
}

// Traffic recorded against the faithful reference and replayed against a
// mutant lists the exchange whose answer differs; against a fresh
// faithful reference none differs.
func TestReplayComparesAnotherEndpoint(t *testing.T) {
	t.Parallel()
	tg, faithful := referenceFile(t, "")
	record := filepath.Join(t.TempDir(), "traffic.jsonl")
	r := startRunner(t, "proxy", "--target", faithful, "--record", record)
	traffic(t, r.waitFor("http://127.0.0.1:"), tg)
	r.cmd.Process.Signal(os.Interrupt)
	if code := r.exit(); code != 0 {
		t.Fatalf("recording against the faithful reference: exit %d\n%s", code, r.out())
	}

	_, again := referenceFile(t, "")
	res := runRunner(t, "replay", record, "--target", again)
	if res.code != 0 || lastLine(res.stdout) != "replayed 5 of 5 exchanges: 0 answers differ, 0 not sent" {
		t.Fatalf("replay against a fresh faithful reference: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	_, mutant := referenceFile(t, "batch-cap-101")
	reports := t.TempDir()
	res = runRunner(t, "replay", record, "--target", mutant, "--report-dir", reports)
	if res.code != 1 || lastLine(res.stdout) != "replayed 5 of 5 exchanges: 1 answers differ, 0 not sent" {
		t.Fatalf("replay against batch-cap-101: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "DIFFERS    #4 POST "+userURL+"get as admin: status 200, recorded 400; data is {\"alice\":{\"nickname\":\"Alice\"}}, recorded absent") {
		t.Errorf("the differing exchange is not listed:\n%s", res.stdout)
	}
	if r := requirement(readSummary(t, filepath.Join(reports, "requirements.json")), "UA-BATCH-006"); r.Verdict != report.Fail {
		t.Errorf("the replay's report: UA-BATCH-006 %s", r.Verdict)
	}
}

func TestProxyAndReplayRefuseBadInputWithOneLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	malformed := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(malformed, []byte("{\"seq\":1,\"method\":\"GET\",\"path\":\"/a\"}\n{oops\n"), 0o600)
	good := filepath.Join(dir, "good.jsonl")
	os.WriteFile(good, []byte("{\"seq\":1,\"method\":\"GET\",\"path\":\"/a\"}\n"), 0o600)
	noBase := filepath.Join(dir, "nobase.yaml")
	os.WriteFile(noBase, []byte("org: o\napp: a\nadmin_token: t\nusers: [{name: a}, {name: b}, {name: c}]\n"), 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"proxy", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"proxy", "extra"}, `proxy: unexpected argument "extra"`},
		{[]string{"proxy", "--target", filepath.Join(dir, "absent.yaml")}, "no such file"},
		{[]string{"proxy", "--target", noBase}, "base_url: missing"},
		{[]string{"proxy", "--reference", "vm"}, `--reference "vm"`},
		{[]string{"proxy", "--mutant", "no-such-mutant"}, `unknown mutant "no-such-mutant"`},
		{[]string{"replay", good, "--target", noBase, "--mutant", "batch-cap-101"}, "--mutant applies to the bundled reference only"},
		{[]string{"proxy", "--reference", "inprocess", "--listen", "nonsense"}, "proxy: listening on nonsense"},
		{[]string{"proxy", "--reference", "inprocess", "--profile", "strictest"}, `unknown profile "strictest"`},
		{[]string{"replay"}, "replay: want one record file"},
		{[]string{"replay", filepath.Join(dir, "absent.jsonl")}, "no such file"},
		{[]string{"replay", malformed, "--reference", "inprocess"}, "bad.jsonl:2: not a record of runner proxy --record"},
	} {
		res := runRunner(t, c.args...)
		lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
		if res.code != 2 || !strings.Contains(res.stderr, c.want) || (len(lines) != 1 && !strings.Contains(c.want, "flag provided")) || strings.Contains(res.stderr, "panic") {
			t.Errorf("%v: exit %d, stderr %q: want 2 and one line with %q", c.args, res.code, res.stderr, c.want)
		}
	}
}
