package framework

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/attrconform/attrconform/contract"
	"github.com/attrconform/attrconform/evidence"
)

// A run ends by itself: every request has a time limit, the run has a
// deadline (the runner's --timeout), an interrupt ends it, and so does a
// target that stops answering. Only the cleanup after the specs still
// talks to the target then, within CleanupTimeout.

// DefaultRequestTimeout bounds one request, its answer read to the end.
const DefaultRequestTimeout = 30 * time.Second

// MaxTransportErrors in a row (no answer at all, whatever the request)
// stop the run: the target has stopped answering.
const MaxTransportErrors = 5

// CleanupTimeout bounds the cleanup after the specs (emptying or
// restoring the listed users, the leak check), however the run ended.
const CleanupTimeout = 30 * time.Second

// progress follows the run's specs and the target's answers, to stop the
// run once the target stops answering.
type progress struct {
	mu sync.Mutex
	// specs counts the specs started; answered is the spec in which the
	// target last answered; failures counts transport errors since.
	specs, answered, failures int
	// interrupted: the run was stopped from outside (Interrupt), and
	// Ginkgo has let go of the running spec.
	interrupted bool
}

// Interrupt stops the run from outside (a signal, the run's deadline):
// every request in flight, or sent later, fails at once, except the
// cleanup's. Ginkgo interrupts the running spec at the same moment and
// lets go of it; a failure its goroutine reports once the suite's cleanup
// runs would be charged to the cleanup, so the framework parks that
// goroutine instead.
func (e *Env) Interrupt(cause error) {
	e.progress.mu.Lock()
	e.progress.interrupted = true
	e.progress.mu.Unlock()
	e.stop(cause)
}

// Stopped is why the run stopped, or nil while it runs.
func (e *Env) Stopped() error {
	if e.run.Err() == nil {
		return nil
	}
	return context.Cause(e.run)
}

// StartSpec counts the spec about to run, and aborts the suite when the
// run has stopped; the suites call it before each spec. The findings of
// the exchanges from here on are the spec's.
func StartSpec() {
	GinkgoHelper()
	e := Current()
	e.findings.now(CurrentSpecReport().FullText())
	e.progress.mu.Lock()
	e.progress.specs++
	e.progress.mu.Unlock()
	e.abortIfStopped()
}

// abortIfStopped aborts the suite, the running spec an ERROR and the rest
// not run, when the target stopped answering.
func (e *Env) abortIfStopped() {
	GinkgoHelper()
	if cause := e.Stopped(); cause != nil {
		e.parkIfInterrupted()
		AbortSuite(safe(evidence.HarnessErrorPrefix + "the run stopped: " + cause.Error()))
	}
}

// parkIfInterrupted blocks for ever a spec's goroutine that reports a
// failure after an Interrupt while the suite's own nodes run: Ginkgo let
// go of its spec (see Interrupt), and the suite's cleanup reports through
// CleanupError. The process ends with the run.
func (e *Env) parkIfInterrupted() {
	e.progress.mu.Lock()
	interrupted := e.progress.interrupted
	e.progress.mu.Unlock()
	if interrupted && CurrentSpecReport().LeafNodeType.Is(types.NodeTypesForSuiteLevelNodes) {
		select {}
	}
}

// answered notes an answer of the target.
func (e *Env) answered() {
	e.progress.mu.Lock()
	e.progress.answered, e.progress.failures = e.progress.specs, 0
	e.progress.mu.Unlock()
}

// failed notes a request that failed with err, and stops the run after
// MaxTransportErrors in a row that got no answer at all.
func (e *Env) failed(err error) {
	var v *contract.Violation
	switch {
	case errors.As(err, &v):
		e.answered() // an answer, if not the contract's
		return
	case !transportError(err) || e.run.Err() != nil:
		return
	}
	e.progress.mu.Lock()
	e.progress.failures++
	n, after := e.progress.failures, e.progress.answered
	e.progress.mu.Unlock()
	if n < MaxTransportErrors {
		return
	}
	when := fmt.Sprintf("after spec %d", after)
	if after == 0 {
		when = "after the preflight"
	}
	e.stop(fmt.Errorf("the target stopped answering %s; %d transport errors in a row (the last: %s)", when, n, oneLine(err)))
}

// transportError reports whether err means the target gave no answer at
// all: not a contract violation (an answer), not the client's budget
// (429s are answers too).
func transportError(err error) bool {
	var v *contract.Violation
	return !errors.As(err, &v) && !errors.Is(err, ErrBudget)
}
