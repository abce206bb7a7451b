package framework

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"

	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/redact"
)

// MaxMessage bounds a failure message: whatever a target answered, a
// report quotes a few KB of it.
const MaxMessage = 4096

// Failf fails the running spec with the formatted message, its secrets
// redacted and its length capped: every failure goes through here or
// FailHandler, so that no message quotes a token a server echoed. After
// an Interrupt it parks the goroutine instead (see Env.Interrupt).
func Failf(format string, a ...any) {
	GinkgoHelper()
	if current != nil {
		current.parkIfInterrupted()
	}
	Fail(safe(fmt.Sprintf(format, a...)))
}

// FailHandler is Gomega's fail handler for the specs
// (gomega.RegisterFailHandler(framework.FailHandler)): Ginkgo's Fail,
// with the message redacted and capped, or parking as Failf does.
func FailHandler(message string, callerSkip ...int) {
	if current != nil {
		current.parkIfInterrupted()
	}
	skip := 1
	if len(callerSkip) > 0 {
		skip += callerSkip[0]
	}
	Fail(safe(message), skip)
}

// CleanupError fails the cleanup after the specs as an ERROR, naming the
// step that failed. Unlike HarnessError it reports after an interrupt
// too: the cleanup runs then.
func CleanupError(step string, err error) {
	GinkgoHelper()
	Fail(safe(evidence.HarnessErrorPrefix + "after the specs ran, " + step + " failed: " + err.Error()))
}

// safe is msg redacted with the running environment's secrets and capped.
func safe(msg string) string {
	var r *redact.Redactor // without an environment: URL userinfo and credentials only
	if current != nil {
		r = current.Redactor
	}
	return r.Excerpt(msg, MaxMessage)
}
