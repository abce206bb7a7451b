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

// Exchange is a request and its answer as reports show them: secrets
// redacted, then bodies shortened to RequestExcerpt and ResponseExcerpt.
type Exchange struct {
	Method       string `json:"method"`
	Path         string `json:"path"`
	Node         string `json:"node,omitempty"` // the host that answered, when the target lists several nodes
	Principal    string `json:"principal"`
	RequestBody  string `json:"requestBody,omitempty"`
	Status       int    `json:"status"`
	ContentType  string `json:"contentType,omitempty"`
	ResponseBody string `json:"responseBody"`
}

func (x Exchange) String() string {
	on := ""
	if x.Node != "" {
		on = " on " + x.Node
	}
	return fmt.Sprintf("%s %s%s as %s -> %d %s", x.Method, x.Path, on, x.Principal, x.Status, x.ResponseBody)
}

// How much of a body a report shows.
const (
	RequestExcerpt  = 300
	ResponseExcerpt = 600
)

var last struct {
	sync.Mutex
	r *Response
}

func remember(r *Response) {
	last.Lock()
	last.r = r
	last.Unlock()
}

// RecordFailingExchange attaches the spec's last exchange to its report
// when the spec failed; the suites call it after each spec.
func RecordFailingExchange() {
	last.Lock()
	r := last.r
	last.r = nil
	last.Unlock()
	if r != nil && CurrentSpecReport().Failed() {
		AddReportEntry(ReportEntryExchange, r.exchange(), ReportEntryVisibilityNever)
	}
}

// exchange is r as reports show it.
func (r *Response) exchange() Exchange {
	return Exchange{
		Method: r.Method, Path: r.redact.Redact(r.Path), Node: r.Node, Principal: r.redact.Redact(r.Principal),
		RequestBody: r.redact.Excerpt(r.RequestBody, RequestExcerpt), Status: r.Status,
		ContentType: r.redact.Excerpt(r.Header.Get("Content-Type"), ResponseExcerpt), ResponseBody: r.redact.Excerpt(string(r.Body), ResponseExcerpt),
	}
}
