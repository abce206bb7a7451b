package reference

// TestKill9LosesNothingAcknowledged builds the reference and drives
// `go run ./reference/cmd/reference --store bolt` as a subprocess:
//
//  1. Before the load: register a user, get a user token (password grant)
//     and an app token (client credentials), write and delete a user;
//     the fixture leaves fault hooks off, so the fault header is ignored.
//  2. Load: six writers, two per user, PUT unique keys (so some collide
//     and get 409) until the server is killed with SIGKILL mid-load.
//     Every PUT is recorded as acknowledged (200), refused (409) or
//     unknown (no answer: in flight at the kill).
//  3. Restart on the same file, with --fault-hooks (500 and 503 on
//     request, in the JSON envelope). Every acknowledged key is there, no
//     refused key is, no key that was never sent is; capacity is the sum
//     of the users' sizes; the deleted user is empty; the registered user
//     and both issued tokens still work.
//  4. A second load, stopped with SIGTERM mid-load: the server exits 0
//     (graceful shutdown: requests in flight finish, the file is closed),
//     and the file, opened directly, holds every write acknowledged in
//     both loads, with versions between the acknowledged count and the
//     acknowledged plus unknown count.

import (
	"bufio"
	"context"
	"encoding/json"
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

	"github.com/attrconform/attrconform/contract/wire"

	"github.com/attrconform/attrconform/reference/store/boltstore"
)

const durableFixture = `org: acme
app: chat
admin_token: DURABLE-admin-0001
client_id: durable-client
client_secret: durable-secret-0001
rate_per_second: 100000
users:
  - {name: alice, token: DURABLE-alice-0001, password: alice-pw-0001}
  - {name: bob, token: DURABLE-bob-00001}
  - {name: carol}
  - {name: dave}
`

const durableAdmin = "DURABLE-admin-0001"

// served is one reference (cmd/reference) subprocess.
type served struct {
	cmd    *exec.Cmd
	url    string
	stderr *strings.Builder
	done   chan error
}

func startServe(t *testing.T, bin, fixture, data string, flags ...string) *served {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--store", "bolt", "--data", data, "--listen", "127.0.0.1:0", "--fixture", fixture}, flags...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &served{cmd: cmd, stderr: &strings.Builder{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "http://") {
				select {
				case urls <- line:
				default:
				}
			}
		}
	}()
	go func() { p.done <- cmd.Wait() }()
	select {
	case p.url = <-urls:
	case err := <-p.done:
		t.Fatalf("the reference exited before serving: %v\n%s", err, p.stderr)
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the reference printed no URL within 60 s\n%s", p.stderr)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the process to exit, at most d.
func (p *served) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		return err
	case <-time.After(d):
		p.cmd.Process.Kill()
		t.Fatalf("the reference did not exit within %s\n%s", d, p.stderr)
		return nil
	}
}

// send sends one request and decodes a JSON answer.
func send(client *http.Client, method, url, token, contentType, body string) (int, map[string]any, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("a body that is not JSON: %q", raw)
	}
	return resp.StatusCode, m, nil
}

// faulted reads alice's attributes asking for a fault; the answer must
// carry the JSON envelope whatever its status.
func faulted(t *testing.T, client *http.Client, base, fault string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/acme/chat/metadata/user/alice", nil)
	req.Header.Set("Authorization", "Bearer "+durableAdmin)
	req.Header.Set(wire.FaultHeader, fault)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s: the answer %d is not JSON: %v", fault, resp.StatusCode, err)
	}
	if resp.StatusCode >= 500 && body["error_description"] == nil {
		t.Errorf("%s: %d without the error envelope: %v", fault, resp.StatusCode, body)
	}
	return resp.StatusCode
}

// ledger records what the server answered to each key written.
type ledger struct {
	mu      sync.Mutex
	acked   map[string]map[string]bool // user -> keys answered 200
	refused map[string]map[string]bool // user -> keys answered 409
	unknown map[string]map[string]bool // user -> keys without an answer
	other   []string
}

func newLedger() *ledger {
	return &ledger{acked: map[string]map[string]bool{}, refused: map[string]map[string]bool{}, unknown: map[string]map[string]bool{}}
}

func (l *ledger) record(user, key string, status int, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	put := func(m map[string]map[string]bool) {
		if m[user] == nil {
			m[user] = map[string]bool{}
		}
		m[user][key] = true
	}
	switch {
	case err != nil:
		put(l.unknown)
	case status == http.StatusOK:
		put(l.acked)
	case status == http.StatusConflict:
		put(l.refused)
	default:
		l.other = append(l.other, fmt.Sprintf("%s/%s: %d", user, key, status))
	}
}

func (l *ledger) count(m map[string]map[string]bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, keys := range m {
		n += len(keys)
	}
	return n
}

// load runs six writers, two per user, each writing up to putsEach
// unique keys prefixed with tag, until stop is closed or a request fails.
func load(base, tag string, users []string, putsEach int, l *ledger, stop <-chan struct{}) *sync.WaitGroup {
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for w := range 2 * len(users) {
		user := users[w%len(users)]
		wg.Go(func() {
			for i := range putsEach {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("%s%d-%d", tag, w, i)
				status, _, err := send(client, "PUT", base+"/acme/chat/metadata/user/"+user, durableAdmin, form, key+"=1")
				l.record(user, key, status, err)
				if err != nil {
					return // the server is gone
				}
			}
		})
	}
	return &wg
}

// untilAcked closes stop once n writes are acknowledged or after d.
func untilAcked(l *ledger, n int, d time.Duration) {
	deadline := time.Now().Add(d)
	for l.count(l.acked) < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

func buildReference(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH: cannot build the reference")
	}
	bin := filepath.Join(t.TempDir(), "reference")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, gobin, "build", "-o", bin, "github.com/attrconform/attrconform/reference/cmd/reference").CombinedOutput()
	if err != nil {
		t.Fatalf("building the reference: %v\n%s", err, out)
	}
	return bin
}

func TestKill9LosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the reference and runs it as a subprocess")
	}
	bin := buildReference(t)
	dir := t.TempDir()
	fixture := filepath.Join(dir, "tenant.yaml")
	if err := os.WriteFile(fixture, []byte(durableFixture), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "attrs.db")
	client := &http.Client{Timeout: 10 * time.Second}
	users := []string{"alice", "bob", "carol"}

	// 1. Accounts, tokens, a delete.
	p := startServe(t, bin, fixture, data)
	must := func(status int, body map[string]any, err error) map[string]any {
		t.Helper()
		if err != nil || status != 200 {
			t.Fatalf("%d %v %v", status, body, err)
		}
		return body
	}
	must(send(client, "POST", p.url+"/acme/chat/users", durableAdmin, "application/json", `{"username":"durable1","password":"d1-pass"}`))
	userToken := must(send(client, "POST", p.url+"/acme/chat/token", "", "application/json", `{"grant_type":"password","username":"durable1","password":"d1-pass"}`))["access_token"].(string)
	appToken := must(send(client, "POST", p.url+"/acme/chat/token", "", "application/json", `{"grant_type":"client_credentials","client_id":"durable-client","client_secret":"durable-secret-0001"}`))["access_token"].(string)
	must(send(client, "PUT", p.url+"/acme/chat/metadata/user/durable1", userToken, form, "nickname=D1"))
	must(send(client, "PUT", p.url+"/acme/chat/metadata/user/dave", durableAdmin, form, "gone=soon"))
	must(send(client, "DELETE", p.url+"/acme/chat/metadata/user/dave", durableAdmin, "", ""))
	if status := faulted(t, client, p.url, wire.FaultStore); status != 200 {
		t.Errorf("fault hooks are off in the fixture, yet a request asking for %s answered %d", wire.FaultStore, status)
	}

	// 2. Load, then SIGKILL mid-load.
	first := newLedger()
	stop := make(chan struct{})
	wg := load(p.url, "k", users, 60, first, stop)
	untilAcked(first, 40, 20*time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := p.wait(t, 30*time.Second)
	close(stop)
	wg.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the server was not killed by SIGKILL: %v", err)
	}
	t.Logf("first load: %d acknowledged, %d refused (409), %d unknown at the kill", first.count(first.acked), first.count(first.refused), first.count(first.unknown))
	if len(first.other) > 0 {
		t.Fatalf("answers other than 200 and 409: %v", first.other)
	}
	if first.count(first.acked) == 0 {
		t.Fatal("no write was acknowledged before the kill")
	}

	// 3. Restart on the same file (fault hooks on by flag; the fixture
	// leaves them off, as phase 1 saw) and check.
	p = startServe(t, bin, fixture, data, "--fault-hooks")
	if status := faulted(t, client, p.url, wire.FaultStore); status != 500 {
		t.Errorf("with --fault-hooks, %s answered %d, want 500", wire.FaultStore, status)
	}
	if status := faulted(t, client, p.url, wire.FaultOverload); status != 503 {
		t.Errorf("with --fault-hooks, %s answered %d, want 503", wire.FaultOverload, status)
	}
	var sum float64
	for _, user := range append(users, "dave", "durable1") {
		body := must(send(client, "GET", p.url+"/acme/chat/metadata/user/"+user, durableAdmin, "", ""))
		stored, _ := body["data"].(map[string]any)
		checkAgainst(t, user, stored, first)
		raw, _ := json.Marshal(stored)
		if len(stored) > 0 {
			sum += float64(len(raw))
		}
	}
	if got := must(send(client, "GET", p.url+"/acme/chat/metadata/user/capacity", appToken, "", ""))["data"]; got != sum {
		t.Errorf("capacity after the restart: %v, the users hold %v bytes", got, sum)
	}
	if d := must(send(client, "GET", p.url+"/acme/chat/metadata/user/dave", durableAdmin, "", ""))["data"].(map[string]any); len(d) != 0 {
		t.Errorf("dave, deleted before the kill, holds %v", d)
	}
	if d := must(send(client, "GET", p.url+"/acme/chat/metadata/user/durable1", userToken, "", ""))["data"].(map[string]any); d["nickname"] != "D1" {
		t.Errorf("durable1 after the restart: %v", d)
	}
	must(send(client, "POST", p.url+"/acme/chat/token", "", "application/json", `{"grant_type":"password","username":"durable1","password":"d1-pass"}`))
	if status, _, _ := send(client, "POST", p.url+"/acme/chat/users", durableAdmin, "application/json", `{"username":"DURABLE1","password":"x"}`); status != 400 {
		t.Errorf("registering durable1 again after the restart: %d, want 400", status)
	}

	// 4. Load, then SIGTERM mid-load: graceful exit, nothing acknowledged lost.
	second := newLedger()
	stop = make(chan struct{})
	wg = load(p.url, "m", users, 30, second, stop)
	untilAcked(second, 20, 20*time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("after SIGTERM the server exited with %v, want 0\n%s", err, p.stderr)
	}
	close(stop)
	wg.Wait()
	if len(second.other) > 0 {
		t.Fatalf("answers other than 200 and 409: %v", second.other)
	}
	t.Logf("second load: %d acknowledged, %d refused (409), %d unknown at SIGTERM", second.count(second.acked), second.count(second.refused), second.count(second.unknown))

	st, err := boltstore.Open(data)
	if err != nil {
		t.Fatalf("the file after a graceful stop: %v", err)
	}
	defer st.Close()
	for _, user := range users {
		e, err := st.Load("acme/chat", user)
		if err != nil {
			t.Fatal(err)
		}
		stored := map[string]any{}
		for k, v := range e.Attrs {
			stored[k] = v
		}
		checkAgainst(t, user, stored, first, second)
		acked := len(first.acked[user]) + len(second.acked[user])
		unknown := len(first.unknown[user]) + len(second.unknown[user])
		if int(e.Version) < acked || int(e.Version) > acked+unknown {
			t.Errorf("%s: version %d, want between %d acknowledged and %d acknowledged or unknown writes", user, e.Version, acked, acked+unknown)
		}
	}
}

// checkAgainst: every acknowledged key of the user is stored, no refused
// key is, and every stored key was acknowledged or had no answer.
func checkAgainst(t *testing.T, user string, stored map[string]any, ledgers ...*ledger) {
	t.Helper()
	known := map[string]bool{}
	for _, l := range ledgers {
		for key := range l.acked[user] {
			known[key] = true
			if stored[key] != "1" {
				t.Errorf("%s: the acknowledged write %s is lost", user, key)
			}
		}
		for key := range l.refused[user] {
			if _, leaked := stored[key]; leaked {
				t.Errorf("%s: the refused (409) write %s is stored", user, key)
			}
		}
		for key := range l.unknown[user] {
			known[key] = true
		}
	}
	for key := range stored {
		if (strings.HasPrefix(key, "k") || strings.HasPrefix(key, "m")) && !known[key] {
			t.Errorf("%s: %s is stored but was never acknowledged or sent", user, key)
		}
	}
}
