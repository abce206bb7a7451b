package framework

import (
	"path/filepath"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"

	"github.com/attrconform/attrconform/evidence"
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
		AddReportEntry(evidence.EntryExchange, r.Exchange.Shown(r.redact), ReportEntryVisibilityNever)
	}
}

// Attach records a file the spec wrote to show what it found; its
// requirements' rows link it.
func (e *Env) Attach(path string) {
	AddReportEntry(evidence.EntryArtifact, Relative(e.ReportDir, path), ReportEntryVisibilityFailureOrVerbose)
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
