package proxy

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/judge"
	"github.com/attrconform/attrconform/report"
)

// Record is one exchange of a record file (--record), one JSON object a
// line, with no token in it: the Authorization header is left out and the
// principal that used it is named instead (judge.Principal), so a replay
// can speak as the same principal with another target's tokens. Bodies
// and header values are redacted. Each line names its format, as the
// lines of a Kubernetes audit log do, so that any line read alone (or a
// file cut short) says how to read it.
type Record struct {
	report.TypeMeta
	Seq  int       `json:"seq"`
	Time time.Time `json:"time"`
	// Method and Path (with its query) are as the client sent them.
	Method    string          `json:"method"`
	Path      string          `json:"path"`
	Principal judge.Principal `json:"principal"`
	// Org, App and AppRole name the app the path addresses, so a replay
	// can address the app of the same role on another target.
	Org     string `json:"org,omitempty"`
	App     string `json:"app,omitempty"`
	AppRole string `json:"appRole,omitempty"`

	// RequestHeader never holds a token of the target; its Authorization
	// is at most the made-up token of an unlisted principal (runner
	// explore's records), which a replay sends as it is.
	RequestHeader http.Header `json:"requestHeader,omitempty"`
	RequestBody   Body        `json:"requestBody"`
	Status        int         `json:"status"`
	Header        http.Header `json:"responseHeader,omitempty"`
	Body          Body        `json:"responseBody"`

	Operation  string             `json:"operation,omitempty"`
	Violations []evidence.Finding `json:"violations,omitempty"`
	// Unanswered says why the target gave no answer (Status is 0).
	Unanswered string `json:"unanswered,omitempty"`
	// Unread: the client stopped reading the answer; Body is partial.
	Unread bool `json:"unread,omitempty"`
}

// RecordKind is the kind of a record (see report.APIVersion).
const RecordKind = "TrafficRecord"

// recordV1 renames the fields of a record that changed from the first
// format (report.APIVersionV1; its lines carried no apiVersion).
var recordV1 = map[string]string{
	"app_role": "appRole", "request_header": "requestHeader", "request_body": "requestBody",
	"response_header": "responseHeader", "response_body": "responseBody",
}

// Body is a body as recorded: text when it is UTF-8, else base64; Cut
// when only its first bytes were kept.
type Body struct {
	Text   string `json:"text,omitempty"`
	Base64 string `json:"base64,omitempty"`
	Cut    bool   `json:"cut,omitempty"`
}

func newBody(b []byte, cut bool, redact func(string) string) Body {
	if utf8.Valid(b) {
		return Body{Text: redact(string(b)), Cut: cut}
	}
	return Body{Base64: base64.StdEncoding.EncodeToString(b), Cut: cut}
}

// Bytes is the body as it was sent (redacted).
func (b Body) Bytes() ([]byte, error) {
	if b.Base64 != "" {
		return base64.StdEncoding.DecodeString(b.Base64)
	}
	return []byte(b.Text), nil
}

// Headers never recorded: credentials, and hop-by-hop headers a replay
// must not repeat.
var unrecorded = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
	"Connection": true, "Keep-Alive": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

func recordedHeader(h http.Header, redact func(string) string) http.Header {
	out := http.Header{}
	for k, vs := range h {
		if unrecorded[http.CanonicalHeaderKey(k)] {
			continue
		}
		for _, v := range vs {
			out.Add(k, redact(v))
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// recorder appends records to a file, one a line.
type recorder struct {
	mu  sync.Mutex
	w   *bufio.Writer
	f   *os.File
	err error
}

func createRecorder(path string) (*recorder, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--record: %w", err)
	}
	return &recorder{w: bufio.NewWriter(f), f: f}, nil
}

func (r *recorder) write(rec Record) {
	rec.TypeMeta = report.TypeMeta{APIVersion: report.APIVersion, Kind: RecordKind}
	line, err := json.Marshal(rec)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil && r.err == nil {
		_, err = r.w.Write(append(line, '\n'))
	}
	if err == nil {
		err = r.w.Flush() // a killed proxy keeps what it recorded
	}
	if r.err == nil {
		r.err = err
	}
}

func (r *recorder) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return errors.Join(r.err, r.w.Flush(), r.f.Close())
}

// ReadRecords reads a record file, in the order the requests arrived,
// each line in the current format or the first (see report.Upgrade). A
// line that is not a record is an error naming the line.
func ReadRecords(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Record
	rd := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := rd.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 {
			var rec Record
			doc, derr := report.Upgrade(line, RecordKind, recordV1)
			if derr != nil {
				return nil, fmt.Errorf("%s:%d: not a record of runner proxy --record: %v", path, n, derr)
			}
			dec := json.NewDecoder(bytes.NewReader(doc))
			dec.DisallowUnknownFields()
			if derr := dec.Decode(&rec); derr != nil {
				return nil, fmt.Errorf("%s:%d: not a record of runner proxy --record: %v", path, n, derr)
			}
			if rec.Method == "" || !strings.HasPrefix(rec.Path, "/") {
				return nil, fmt.Errorf("%s:%d: not a record of runner proxy --record: no method or path", path, n)
			}
			out = append(out, rec)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}
