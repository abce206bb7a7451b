package framework

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
)

// ReportEntryExchange names the report entry that holds the last exchange
// of a failed spec, for reports that show what the target answered.
const ReportEntryExchange = "exchange"

// ReportEntryArtifact names the report entries that hold files a spec
// left in the report directory (a history's visualization), relative to
// it: the requirement matrix links them from the spec's requirements.
const ReportEntryArtifact = "artifact"

// Attach records a file the spec wrote to show what it found; its
// requirements' rows link it.
func (e *Env) Attach(path string) {
	AddReportEntry(ReportEntryArtifact, Relative(e.ReportDir, path), ReportEntryVisibilityFailureOrVerbose)
}

// Relative is path as a report in dir links it: relative to dir when it
// is inside it, else as it is.
func Relative(dir, path string) string {
	if dir == "" {
		return path
	}
	rel, err := filepath.Rel(dir, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return path
	}
	return filepath.ToSlash(rel)
}

// Exchange is a request and its answer as reports show them: tokens
// redacted, bodies cut.
type Exchange struct {
	Method       string `json:"method"`
	Path         string `json:"path"`
	Node         string `json:"node,omitempty"` // the host that answered, when the target lists several nodes
	Principal    string `json:"principal"`
	RequestBody  string `json:"request_body,omitempty"`
	Status       int    `json:"status"`
	ContentType  string `json:"content_type,omitempty"`
	ResponseBody string `json:"response_body"`
}

func (x Exchange) String() string {
	on := ""
	if x.Node != "" {
		on = " on " + x.Node
	}
	return fmt.Sprintf("%s %s%s as %s -> %d %s", x.Method, x.Path, on, x.Principal, x.Status, x.ResponseBody)
}

var last struct {
	sync.Mutex
	x *Exchange
}

func remember(r *Response) {
	x := &Exchange{
		Method: r.Method, Path: r.Path, Node: r.Node, Principal: r.Principal,
		RequestBody: r.redact(cut(r.RequestBody, 300)), Status: r.Status,
		ContentType: r.Header.Get("Content-Type"), ResponseBody: r.redact(cut(string(r.Body), 600)),
	}
	last.Lock()
	last.x = x
	last.Unlock()
}

// RecordFailingExchange attaches the spec's last exchange to its report
// when the spec failed; the suites call it after each spec.
func RecordFailingExchange() {
	last.Lock()
	x := last.x
	last.x = nil
	last.Unlock()
	if x != nil && CurrentSpecReport().Failed() {
		AddReportEntry(ReportEntryExchange, *x, ReportEntryVisibilityNever)
	}
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n] + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return s
}
