package proxy_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attrconform/attrconform/internal/bundled"
	"github.com/attrconform/attrconform/internal/mutant"
	"github.com/attrconform/attrconform/proxy"
	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/report"
	"github.com/attrconform/attrconform/target"
)

// lines collects what the proxy prints, safely across handlers.
type lines struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startReference starts the bundled reference in this process, with a mutant
// when one is named, and returns the target pointing at it.
func startReference(t *testing.T, mutantName string) *target.Target {
	t.Helper()
	var o bundled.Options
	if mutantName != "" {
		d, err := mutant.Defect(mutantName)
		if err != nil {
			t.Fatal(err)
		}
		o.Defect = d
	}
	tg, srv, err := bundled.StartTarget(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return tg
}

// front serves a proxy to tg on loopback.
func front(t *testing.T, tg *target.Target, record string) (*proxy.Proxy, *httptest.Server, *lines) {
	t.Helper()
	return frontWith(t, proxy.Options{Target: tg, RecordFile: record})
}

// frontWith serves a proxy of options o on loopback, its lines collected.
func frontWith(t *testing.T, o proxy.Options) (*proxy.Proxy, *httptest.Server, *lines) {
	t.Helper()
	out := &lines{}
	o.Out = out
	p, err := proxy.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(func() { srv.Close(); p.Close() })
	return p, srv, out
}

type client struct {
	t    *testing.T
	base string
}

func (c client) do(method, path, token, contentType, body string) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, data
}

const (
	form = "application/x-www-form-urlencoded"
	user = "/acme/chat/metadata/user/"
)

func targets(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%q", fmt.Sprintf("nobody%d", i))
	}
	return `{"targets":[` + strings.Join(names, ",") + `],"properties":["a"]}`
}

// escaped is a form body of n raw bytes whose value decodes to a third
// of it: over the body limit, under the per-user limit.
func escaped(n int) string {
	body := "k="
	for len(body)+3 <= n {
		body += "%41"
	}
	return body + strings.Repeat("A", n-len(body))
}

// script is a client's traffic: the five operations, the edges of the
// limits, and requests whose tokens decide the answer.
func script(c client, tg *target.Target) {
	admin, bob, lobby := tg.AdminToken, tg.Users[1].Token, tg.ExtraApps.Second.AdminToken
	c.do("PUT", user+"alice", admin, form, "nickname=Alice&mail=a%40example.com")
	c.do("GET", user+"alice", admin, "", "")
	c.do("POST", user+"get", admin, "application/json", `{"targets":["alice","bob"],"properties":["nickname"]}`)
	c.do("GET", user+"capacity", admin, "", "")
	c.do("POST", user+"get", admin, "application/json", targets(100))
	c.do("POST", user+"get", admin, "application/json", targets(101))
	c.do("PUT", user+"carol", admin, form, escaped(4097))
	c.do("PUT", user+"carol", admin, form, "k="+strings.Repeat("v", 2049-8)) // {"k":"v…"}: 2049 bytes
	c.do("PUT", user+"alice", bob, form, "nickname=intruder")
	c.do("GET", user+"alice", "", "", "")
	c.do("GET", user+"alice", lobby, "", "")
	c.do("POST", user+"alice", admin, form, "a=1")
	c.do("DELETE", user+"alice", admin, "", "")
}

// The faithful reference answers the whole script without a violation;
// each mutant breaks a rule one exchange proves, and the proxy names the
// requirement the mutant breaks.
func TestScriptedTrafficCatchesMutants(t *testing.T) {
	cases := []struct{ mutant, id string }{
		{"", ""},
		{"batch-cap-101", "UA-BATCH-006"},
		{"batch-cap-99", "UA-BATCH-005"},
		{"batch-error-key", "UA-GEN-005"},
		{"batch-201", "UA-GEN-002"},
		{"batch-no-timestamp", "UA-GEN-003"},
		{"errors-text-plain", "UA-GEN-006"},
		{"error-no-description", "UA-ERR-001"},
		{"wrong-method-404", "UA-GEN-009"},
		{"user-limit-plus-one", "UA-LIMIT-001"},
		{"body-limit-plus-one", "UA-LIMIT-002"},
		{"foreign-token-write", "UA-AUTH-004"},
		{"missing-token-accepted", "UA-AUTH-001"},
		{"foreign-app-token", "UA-AUTH-010"},
	}
	for _, c := range cases {
		name := c.mutant
		if name == "" {
			name = "faithful"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tg := startReference(t, c.mutant)
			p, srv, out := front(t, tg, "")
			script(client{t, srv.URL}, tg)
			s, err := p.Summary()
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, r := range s.Requirements {
				if r.Verdict == report.Fail {
					failed = append(failed, r.ID)
				}
			}
			if c.id == "" {
				if len(failed) > 0 || strings.Contains(out.String(), "VIOLATION") || s.ExitCode() != 0 {
					t.Fatalf("the faithful reference violated %v:\n%s", failed, out)
				}
				for _, id := range []string{"UA-GEN-003", "UA-BATCH-005", "UA-BATCH-006", "UA-LIMIT-001", "UA-LIMIT-002", "UA-AUTH-004", "UA-GEN-009"} {
					if r := requirementOf(s, id); r.Verdict != report.Pass {
						t.Errorf("%s: %s (%s), want PASS: the script exercises it", id, r.Verdict, r.Reason)
					}
				}
				return
			}
			if !slices.Contains(failed, c.id) || !strings.Contains(out.String(), "VIOLATION  "+c.id+" ") || s.ExitCode() != 1 {
				t.Fatalf("failed %v, want %s among them, with its line:\n%s", failed, c.id, out)
			}
		})
	}
}

func requirementOf(s report.Summary, id string) report.Requirement {
	for _, r := range s.Requirements {
		if r.ID == id {
			return r
		}
	}
	return report.Requirement{}
}

// The client gets the target's answer as it was sent: status, headers
// and body byte for byte, also when the answer breaks the contract, for a
// large body and for a streamed one, which reaches the client while the
// target is still writing it.
func TestAnswersPassThroughUnchanged(t *testing.T) {
	plain := []byte(`{"timestamp":1716268800123,"duration":1,"data":{},"error":"x"}`)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(plain)
	zw.Close()
	gzipped := zb.Bytes()
	large := bytes.Repeat([]byte(`{"a":"0123456789"},`), 1<<16) // 1.2 MB, not JSON
	release := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch r.URL.Path {
		case user + "odd":
			w.Header().Set("X-Vendor", "kept")
			w.Header().Set("Content-Type", "text/plain; charset=latin1")
			w.WriteHeader(http.StatusTeapot)
			w.Write([]byte("caf\xe9 \x00 not json"))
		case user + "large":
			w.Header().Set("Content-Type", "application/json")
			w.Write(large)
		case user + "gzip":
			// Compressed only when the client asks; judged decompressed.
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Asked", r.Header.Get("Accept-Encoding"))
			if r.Header.Get("Accept-Encoding") == "gzip" {
				w.Header().Set("Content-Encoding", "gzip")
				w.Write(gzipped)
				return
			}
			w.Write(plain)
		case user + "stream":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"timestamp":1716268800123,`)
			w.(http.Flusher).Flush()
			<-release
			io.WriteString(w, `"duration":1,"data":{}}`)
		}
	}))
	defer upstream.Close()
	tg := tenantAt(t, upstream.URL)
	_, srv, out := front(t, tg, "")
	c := client{t, srv.URL}

	resp, body := c.do("GET", user+"odd", tg.AdminToken, "", "")
	if resp.StatusCode != http.StatusTeapot || resp.Header.Get("X-Vendor") != "kept" || resp.Header.Get("Content-Type") != "text/plain; charset=latin1" || string(body) != "caf\xe9 \x00 not json" {
		t.Fatalf("answer changed on the way: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	if !strings.Contains(out.String(), "VIOLATION  UA-ERR-002") || !strings.Contains(out.String(), "VIOLATION  UA-GEN-006") {
		t.Errorf("the broken answer was not judged:\n%s", out)
	}
	if _, body = c.do("PUT", user+"large", tg.AdminToken, form, escaped(4096)); !bytes.Equal(body, large) {
		t.Fatalf("a %d-byte answer arrived as %d bytes", len(large), len(body))
	}

	// The proxy asks for compression only when the client does, and passes
	// a compressed answer on compressed.
	raw := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	for _, ask := range []string{"", "gzip"} {
		req, _ := http.NewRequest("GET", srv.URL+user+"gzip", nil)
		req.Header.Set("Authorization", "Bearer "+tg.AdminToken)
		if ask != "" {
			req.Header.Set("Accept-Encoding", ask)
		}
		resp, err := raw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := plain
		if ask != "" {
			want = gzipped
		}
		if resp.Header.Get("X-Asked") != ask || !bytes.Equal(body, want) {
			t.Errorf("Accept-Encoding %q: the target was asked %q and sent %d bytes, want %d", ask, resp.Header.Get("X-Asked"), len(body), len(want))
		}
	}
	if n := strings.Count(out.String(), "VIOLATION  UA-GEN-005"); n != 2 {
		t.Errorf("%d of the two answers with an error member were judged so (the compressed one must be judged decompressed):\n%s", n, out)
	}

	req, _ := http.NewRequest("GET", srv.URL+user+"stream", nil)
	req.Header.Set("Authorization", "Bearer "+tg.AdminToken)
	sresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer sresp.Body.Close()
	first := make([]byte, len(`{"timestamp":1716268800123,`))
	got := make(chan error, 1)
	go func() { _, err := io.ReadFull(sresp.Body, first); got <- err }()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		close(release)
		t.Fatal("the first chunk did not reach the client before the target finished: the answer is not streamed")
	}
	close(release)
	rest, _ := io.ReadAll(sresp.Body)
	if whole := string(first) + string(rest); whole != `{"timestamp":1716268800123,"duration":1,"data":{}}` || sresp.ContentLength != -1 {
		t.Fatalf("streamed answer %q (length %d)", whole, sresp.ContentLength)
	}
}

// tenantAt is the bundled tenant pointed at base.
func tenantAt(t *testing.T, base string) *target.Target {
	t.Helper()
	tg, err := reference.BundledTarget()
	if err != nil {
		t.Fatal(err)
	}
	tg.BaseURL = base
	return tg
}

// A target that does not answer gets a 502 to the client and a harness
// line, and is not held against the target.
func TestUnansweredRequestsAreHarnessProblems(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	p, srv, out := front(t, tenantAt(t, gone.URL), "")
	resp, _ := client{t, srv.URL}.do("GET", user+"alice", "YWMtChatAdmin-3f9c2a71d8e54b6a", "", "")
	s, err := p.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(out.String(), "UNANSWERED #1 GET "+user+"alice as admin: the target did not answer") {
		t.Fatalf("status %d, output:\n%s", resp.StatusCode, out)
	}
	if s.Traffic.Unanswered != 1 || s.Failed != 0 || s.ExitCode() != 0 {
		t.Fatalf("traffic %+v, %d failed, exit %d", s.Traffic, s.Failed, s.ExitCode())
	}
}

// No token, listed in the target file or only seen in traffic, reaches
// the output, the reports or the record file.
func TestTokensReachNoOutput(t *testing.T) {
	tg := startReference(t, "foreign-token-write")
	dir := t.TempDir()
	record := filepath.Join(dir, "traffic.jsonl")
	p, srv, out := front(t, tg, record)
	c := client{t, srv.URL}
	unlisted := "YWMtNotInTheFile-0a1b2c3d4e5f"
	script(c, tg)
	c.do("PUT", user+"alice", tg.Users[1].Token, form, "echo="+tg.Users[1].Token)
	c.do("GET", user+"alice", unlisted, "", "")
	c.do("PUT", user+"alice", tg.AdminToken, form, "note=Bearer+"+unlisted)
	s, err := p.Summary()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		name  string
		write func(string) error
	}{{"requirements.json", s.WriteJSON}, {"requirements.md", s.WriteMarkdownFile}, {"requirements.html", s.WriteHTMLFile}, {"junit.xml", s.WriteJUnitFile}} {
		if err := w.write(filepath.Join(dir, w.name)); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	outputs := map[string]string{"output": out.String()}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		outputs[e.Name()] = string(data)
	}
	if !strings.Contains(outputs["traffic.jsonl"], `"kind":"user","app":"main","user":"bob"`) || !strings.Contains(outputs["requirements.md"], "UA-AUTH-004") {
		t.Fatalf("the record lacks bob's principal or the report its failure")
	}
	for name, text := range outputs {
		for _, secret := range append(tg.Secrets(), unlisted) {
			if strings.Contains(text, secret) {
				t.Errorf("%s contains a token (%s…)", name, secret[:8])
			}
		}
	}
}

// Recorded traffic replayed against another endpoint lists the exchanges
// whose answers differ, and only those.
func TestReplayListsTheAnswersThatDiffer(t *testing.T) {
	faithful := startReference(t, "")
	record := filepath.Join(t.TempDir(), "traffic.jsonl")
	p, srv, _ := front(t, faithful, record)
	script(client{t, srv.URL}, faithful)
	p.Close()
	records, err := proxy.ReadRecords(record)
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 13 || records[5].Seq != 6 {
		t.Fatalf("%d records, the sixth numbered %d", len(records), records[5].Seq)
	}
	data, _ := os.ReadFile(record)
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if !strings.HasPrefix(line, `{"apiVersion":"attrconform.dev/v2","kind":"TrafficRecord",`) {
			t.Fatalf("line %d names no format: %s", i+1, line)
		}
	}

	again, _, out := front(t, startReference(t, ""), "")
	if r := again.Replay(records); r.Sent != 13 || len(r.Differ) != 0 {
		t.Fatalf("the faithful reference replayed against itself: %d sent, differences %+v\n%s", r.Sent, r.Differ, out)
	}
	mutant, _, out := front(t, startReference(t, "batch-cap-101"), "")
	r := mutant.Replay(records)
	if r.Sent != 13 || len(r.Differ) != 1 || r.Differ[0].Record.Seq != 6 || !strings.Contains(r.Differ[0].Problem, "status 200, recorded 400") {
		t.Fatalf("replay against batch-cap-101: %d sent, differences %+v", r.Sent, r.Differ)
	}
	if !strings.Contains(out.String(), "DIFFERS    #6 POST "+user+"get as admin: status 200, recorded 400") || !strings.Contains(out.String(), "VIOLATION  UA-BATCH-006 #6") {
		t.Fatalf("output:\n%s", out)
	}
}

func TestMalformedRecordFilesAreRefusedByLine(t *testing.T) {
	dir := t.TempDir()
	for body, want := range map[string]string{
		"{\"seq\":1,\"method\":\"GET\",\"path\":\"/a\"}\nnot json\n":       ":2: not a record",
		"{\"seq\":1,\"method\":\"GET\",\"path\":\"/a\",\"token\":\"x\"}\n": `:1: not a record of runner proxy --record: json: unknown field "token"`,
		"{\"seq\":1,\"path\":\"/a\"}\n":                                    ":1: not a record of runner proxy --record: no method or path",
	} {
		file := filepath.Join(dir, "r.jsonl")
		os.WriteFile(file, []byte(body), 0o600)
		if _, err := proxy.ReadRecords(file); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", body, err, want)
		}
	}
}

// Every line of a record file names its format. A reader reads the
// current format and the first (snake_case fields, no apiVersion), so
// that traffic recorded before the rename still replays, and refuses any
// other format or kind, naming the versions it reads.
func TestRecordFormatsAreReadByVersion(t *testing.T) {
	dir := t.TempDir()
	v2 := `"seq":1,"time":"2026-12-01T10:00:00Z","method":"PUT","path":"/acme/chat/metadata/user/u1","principal":{"kind":"admin","app":"main"},` +
		`"org":"acme","app":"chat","appRole":"main","requestHeader":{"Content-Type":["application/x-www-form-urlencoded"]},"requestBody":{"text":"a=1"},` +
		`"status":200,"responseHeader":{"Content-Type":["application/json"]},"responseBody":{"text":"{}"}`
	v1 := strings.NewReplacer(`"appRole"`, `"app_role"`, `"requestHeader"`, `"request_header"`, `"requestBody"`, `"request_body"`,
		`"responseHeader"`, `"response_header"`, `"responseBody"`, `"response_body"`).Replace(v2)
	var want []proxy.Record
	for _, c := range []struct{ name, line, err string }{
		{"v2", `{"apiVersion":"attrconform.dev/v2","kind":"TrafficRecord",` + v2 + `}`, ""},
		{"unversioned (v1)", `{` + v1 + `}`, ""},
		{"v1", `{"apiVersion":"attrconform.dev/v1","kind":"TrafficRecord",` + v1 + `}`, ""},
		{"a later version", `{"apiVersion":"attrconform.dev/v3","kind":"TrafficRecord",` + v2 + `}`,
			`:1: not a record of runner proxy --record: format "attrconform.dev/v3" kind "TrafficRecord"; this runner reads kind TrafficRecord of attrconform.dev/v2 or attrconform.dev/v1`},
		{"another kind", `{"apiVersion":"attrconform.dev/v2","kind":"RequirementsReport",` + v2 + `}`, `kind "RequirementsReport"; this runner reads kind TrafficRecord`},
	} {
		file := filepath.Join(dir, "r.jsonl")
		os.WriteFile(file, []byte(c.line+"\n"), 0o600)
		got, err := proxy.ReadRecords(file)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.err)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		case want == nil:
			want = got
			if r := got[0]; r.AppRole != "main" || r.RequestBody.Text != "a=1" || r.Header.Get("Content-Type") != "application/json" || r.Principal.Kind != "admin" {
				t.Errorf("%s: read %+v", c.name, r)
			}
		case !reflect.DeepEqual(got, want):
			t.Errorf("%s: read %+v, want %+v", c.name, got, want)
		}
	}
}

// sendAside sends req from a goroutine other than the test's, where
// Fatal does not belong: a failure is only reported.
func sendAside(t *testing.T, req *http.Request) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// Concurrent clients are judged exchange by exchange: each is counted
// once and the faithful reference's answers, 409s included, violate
// nothing.
func TestConcurrentClients(t *testing.T) {
	tg := startReference(t, "")
	record := filepath.Join(t.TempDir(), "r.jsonl")
	p, srv, out := front(t, tg, record)
	send := func(method, path, token, body string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", form)
		sendAside(t, req)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			send("PUT", user+"alice", tg.AdminToken, fmt.Sprintf("k%d=v", i))
			send("GET", user+"alice", tg.Users[0].Token, "")
		}()
	}
	wg.Wait()
	s, err := p.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if s.Traffic.Exchanges != 40 || s.Traffic.Judged != 40 || s.Failed != 0 {
		t.Fatalf("traffic %+v, %d failed:\n%s", s.Traffic, s.Failed, out)
	}
	p.Close()
	records, err := proxy.ReadRecords(record)
	if err != nil || len(records) != 40 {
		t.Fatalf("%d records, %v", len(records), err)
	}
}

// Clients of the same users at once, against the faithful reference
// (whose PUTs race for 10 ms, so that overlapping writes conflict): the
// proxy judges by state what it can order and nothing it cannot, so no
// violation; once the traffic is quiet, a known point makes the state
// followed again, and a mutant that replaces instead of merging is
// flagged by it.
func TestConcurrentClientsAreJudgedByStateOnlyInOrder(t *testing.T) {
	for _, name := range []string{"", "put-replaces"} {
		t.Run("mutant="+name, func(t *testing.T) {
			t.Parallel()
			tg := startReference(t, name)
			p, srv, out := frontWith(t, proxy.Options{Target: tg, Exclusive: true})
			c := client{t, srv.URL}
			admin := tg.AdminToken
			c.do("DELETE", user+"alice", admin, "", "")
			c.do("DELETE", user+"bob", admin, "", "")
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for j := range 12 {
						who := []string{"alice", "bob"}[(i+j)%2]
						var req *http.Request
						switch j % 6 {
						case 0, 3:
							req, _ = http.NewRequest("PUT", srv.URL+user+who, strings.NewReader(fmt.Sprintf("k%d=%d&shared=%d", i, j, i)))
							req.Header.Set("Content-Type", form)
						case 1:
							req, _ = http.NewRequest("GET", srv.URL+user+who, nil)
						case 2:
							req, _ = http.NewRequest("POST", srv.URL+user+"get", strings.NewReader(`{"targets":["alice","bob"]}`))
							req.Header.Set("Content-Type", "application/json")
						case 4:
							req, _ = http.NewRequest("GET", srv.URL+user+"capacity", nil)
						case 5:
							req, _ = http.NewRequest("DELETE", srv.URL+user+who, nil)
						}
						req.Header.Set("Authorization", "Bearer "+admin)
						sendAside(t, req)
					}
				}()
			}
			wg.Wait()
			// Against the faithful reference nothing is flagged. (Against
			// the mutant, writes of one user the scheduler happened not to
			// overlap are judged by state, and rightly flagged.)
			if name == "" && strings.Contains(out.String(), "VIOLATION") {
				t.Fatalf("concurrent traffic was judged out of order:\n%s", out)
			}
			busy, _ := p.Summary()
			c.do("GET", user+"alice", admin, "", "")
			c.do("GET", user+"capacity", admin, "", "")
			c.do("PUT", user+"alice", admin, form, "after=1")
			c.do("PUT", user+"alice", admin, form, "more=2")
			c.do("GET", user+"alice", admin, "", "")
			c.do("GET", user+"capacity", admin, "", "")
			s, err := p.Summary()
			if err != nil {
				t.Fatal(err)
			}
			st, before := s.Traffic.State, busy.Traffic.State
			// The PUTs and the last GET of alice and the second capacity
			// read, at least.
			if st.Overlapping == 0 || st.Judged < before.Judged+4 {
				t.Fatalf("state counts %+v after the quiet tail, %+v before it: want overlapping exchanges, then the tail judged by state", st, before)
			}
			flagged := strings.Contains(out.String(), "VIOLATION  UA-PUT-004 ") && strings.Contains(out.String(), ": by state (alice, followed since #")
			if flagged != (name != "") {
				t.Fatalf("flagged by state %v against %q:\n%s", flagged, name, out)
			}
		})
	}
}
