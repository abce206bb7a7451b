package framework

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"

	"github.com/attrconform/attrconform/redact"
)

// MaxMessage bounds a failure message: whatever a target answered, a
// report quotes a few KB of it.
const MaxMessage = 4096

// Failf fails the running spec with the formatted message, its secrets
// redacted and its length capped: every failure goes through here or
// FailHandler, so that no message quotes a token a server echoed.
func Failf(format string, a ...any) {
	GinkgoHelper()
	Fail(safe(fmt.Sprintf(format, a...)))
}

// FailHandler is Gomega's fail handler for the specs
// (gomega.RegisterFailHandler(framework.FailHandler)): Ginkgo's Fail,
// with the message redacted and capped.
func FailHandler(message string, callerSkip ...int) {
	skip := 1
	if len(callerSkip) > 0 {
		skip += callerSkip[0]
	}
	Fail(safe(message), skip)
}

// safe is msg redacted with the running environment's secrets and capped.
func safe(msg string) string {
	var r *redact.Redactor // without an environment: URL userinfo and credentials only
	if current != nil {
		r = current.Redactor
	}
	return r.Excerpt(msg, MaxMessage)
}
