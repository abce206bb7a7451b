// Package suites holds the conformance specs of the user-attributes API,
// one file per concern. Every spec is labelled with the requirement IDs it
// checks and talks to the target only through the framework's contract
// client. The package is importable: `go test ./suites`, the ginkgo CLI
// and the runner all run the same specs against framework.Current().
//
// The specs share the target's listed users, so they run serially.
package suites

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/attrconform/attrconform/framework"
)

var f = framework.Current

// The listed users are swept to empty attributes before and after the run,
// so that no spec depends on what an earlier run left behind.
var _ = BeforeSuite(func() { sweep() })

var _ = AfterSuite(func() { sweep() })

func sweep() {
	e := f()
	var names []string
	for _, u := range e.Target.Users {
		names = append(names, u.Name)
	}
	e.Clear(names...)
}
