package proxy

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"

	"github.com/attrconform/attrconform/judge"
)

// volatile are members of an answer that differ between any two answers
// (times) or name the deployment rather than the outcome; a comparison
// ignores them at the top level of a JSON body.
var volatile = []string{"timestamp", "duration", "lastModified", "uri", "path", "organization", "application", "applicationName"}

// unlistedToken stands in for a recorded token the recording target did
// not list: the replay sends a token the other target does not know either.
const unlistedToken = "attrconform-replay-unlisted-token"

// Difference is a recorded exchange whose replayed answer differs.
type Difference struct {
	Record  Record
	Problem string
}

// Replayed is the outcome of a replay.
type Replayed struct {
	// Sent is how many recorded requests were sent again.
	Sent    int
	Differ  []Difference
	Skipped []string // the requests not sent, each with the reason
}

// Replay sends the recorded requests again, in the order they arrived,
// through p to p's target: each exchange is judged as live traffic is,
// and its answer compared with the recorded one, ignoring volatile
// members. Requests speak as the recorded principal with the target's
// tokens, to the app of the same role. A line goes to p's output per
// answer that differs and per request not sent.
func (p *Proxy) Replay(records []Record) Replayed {
	var out Replayed
	for _, rec := range records {
		req, why := p.replayRequest(rec)
		if why != "" {
			line := fmt.Sprintf("NOT SENT   #%d %s %s as %s: %s", rec.Seq, rec.Method, rec.Path, rec.Principal, why)
			out.Skipped = append(out.Skipped, line)
			p.print(line)
			continue
		}
		w := httptest.NewRecorder()
		p.serve(w, req, rec.Seq)
		out.Sent++
		if problem := p.compare(rec, w.Result()); problem != "" {
			out.Differ = append(out.Differ, Difference{Record: rec, Problem: problem})
			p.print(fmt.Sprintf("DIFFERS    #%d %s %s as %s: %s", rec.Seq, rec.Method, rec.Path, rec.Principal, problem))
		}
	}
	return out
}

// replayRequest is the recorded request addressed to p's target, or why
// it cannot be sent.
func (p *Proxy) replayRequest(rec Record) (*http.Request, string) {
	switch {
	case rec.Unanswered != "":
		return nil, "the recorded target did not answer it"
	case rec.Unread:
		return nil, "the recording client did not read the answer"
	case rec.RequestBody.Cut:
		return nil, "only the first bytes of its body were recorded"
	}
	t := p.opts.Target
	path := rec.Path
	if rec.AppRole != "" {
		app := t.AppByRole(rec.AppRole)
		if app == nil {
			return nil, fmt.Sprintf("the target has no app of role %s", rec.AppRole)
		}
		from := "/" + rec.Org + "/" + rec.App + "/"
		if strings.HasPrefix(path, from) {
			path = "/" + t.Org + "/" + app.Name + "/" + strings.TrimPrefix(path, from)
		}
	}
	body, err := rec.RequestBody.Bytes()
	if err != nil {
		return nil, "its body is not valid base64: " + err.Error()
	}
	req, err := http.NewRequest(rec.Method, "http://replay.invalid"+path, bytes.NewReader(body))
	if err != nil {
		return nil, err.Error()
	}
	for k, vs := range rec.RequestHeader {
		if k == "Content-Length" || k == "Accept-Encoding" {
			continue // recomputed; answers come uncompressed, to compare
		}
		req.Header[k] = vs
	}
	switch rec.Principal.Kind {
	case judge.KindAdmin, judge.KindUser:
		token, ok := rec.Principal.Token(t)
		if !ok {
			return nil, fmt.Sprintf("the target lists no token for %s", rec.Principal)
		}
		req.Header.Set("Authorization", "Bearer "+token)
	case judge.KindUnknown:
		if req.Header.Get("Authorization") == "" { // else the record's own made-up token
			req.Header.Set("Authorization", "Bearer "+unlistedToken)
		}
	}
	return req, ""
}

// compare says how the replayed answer differs from the recorded one, or "".
func (p *Proxy) compare(rec Record, resp *http.Response) string {
	var problems []string
	if resp.StatusCode != rec.Status {
		problems = append(problems, fmt.Sprintf("status %d, recorded %d", resp.StatusCode, rec.Status))
	}
	got, _ := io.ReadAll(resp.Body)
	recorded, err := rec.Body.Bytes()
	switch {
	case err != nil:
		problems = append(problems, "the recorded body is not valid base64")
	case rec.Body.Cut:
		// only the status can be compared
	default:
		if strings.EqualFold(rec.Header.Get("Content-Encoding"), "gzip") {
			recorded = gunzip(recorded)
		}
		if d := bodyDifference(recorded, []byte(p.Redact(string(got)))); d != "" {
			problems = append(problems, d)
		}
	}
	return strings.Join(problems, "; ")
}

func gunzip(b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return b
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		return b
	}
	return plain
}

// bodyDifference compares two bodies: as JSON without the volatile
// members when both are JSON, else byte for byte.
func bodyDifference(recorded, replayed []byte) string {
	var a, b any
	if json.Unmarshal(recorded, &a) != nil || json.Unmarshal(replayed, &b) != nil {
		if bytes.Equal(recorded, replayed) {
			return ""
		}
		return fmt.Sprintf("body %s, recorded %s", quote(replayed), quote(recorded))
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if !aok || !bok {
		if reflect.DeepEqual(a, b) {
			return ""
		}
		return fmt.Sprintf("body %s, recorded %s", quote(replayed), quote(recorded))
	}
	for _, k := range volatile {
		delete(am, k)
		delete(bm, k)
	}
	var differ []string
	for k := range am {
		if !reflect.DeepEqual(am[k], bm[k]) {
			differ = append(differ, k)
		}
	}
	for k := range bm {
		if _, ok := am[k]; !ok {
			differ = append(differ, k)
		}
	}
	if len(differ) == 0 {
		return ""
	}
	sort.Strings(differ)
	var parts []string
	for _, k := range differ {
		parts = append(parts, fmt.Sprintf("%s is %s, recorded %s", k, member(bm, k), member(am, k)))
	}
	return strings.Join(parts, "; ")
}

func member(m map[string]any, k string) string {
	v, ok := m[k]
	if !ok {
		return "absent"
	}
	data, _ := json.Marshal(v)
	return quote(data)
}

func quote(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
