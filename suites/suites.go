// Package suites holds the conformance specs of the user-attributes API,
// one file per concern. Every spec is labelled with the requirement IDs it
// checks and talks to the target only through the framework's contract
// client. The package is importable: `go test ./suites`, the ginkgo CLI
// and the runner all run the same specs against framework.Current().
//
// The specs share the target's listed users, so they run serially.
package suites

import (
	"errors"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/attrconform/attrconform/framework"
)

// env is the environment of the running specs: the target, its profile
// and the contract client (framework.Use sets it before they run).
func env() *framework.Env { return framework.Current() }

// The listed users are emptied before the run, so that no spec depends on
// what an earlier run left behind, and emptied again (or restored, when the
// target preserves attributes) after it; the leak check then reports
// anything left behind.
var snapshot framework.Snapshot

var _ = BeforeSuite(func() {
	var err error
	snapshot, err = env().PrepareUsers()
	if err != nil {
		framework.HarnessError(err.Error())
	}
})

var _ = AfterSuite(func() {
	leaks, err := env().RestoreUsers(snapshot)
	if err != nil {
		framework.CleanupError("restoring the listed users", err)
	}
	if len(leaks) > 0 {
		framework.CleanupError("the leak check", errors.New("the run left data behind: "+strings.Join(leaks, "; ")))
	}
})

// Every spec is counted, and none starts once the run has stopped.
var _ = BeforeEach(framework.StartSpec)

// Bursts and fault hooks run only where the target opted in.
var _ = BeforeEach(framework.GateOptIns)

// A failed spec's report carries the exchange that failed it.
var _ = AfterEach(framework.RecordFailingExchange)
