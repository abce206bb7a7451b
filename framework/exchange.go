package framework

import (
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
