// Command runner judges an endpoint of the user-attributes API against the
// contract, requirement by requirement.
//
//	go run ./runner                      # the suite against the bundled reference
//	go run ./runner --target FILE        # the suite against a live endpoint
//	go run ./runner serve                # the reference as a local emulator
//	go run ./runner diff OLD.json NEW.json  # compare two runs' requirements.json
//
// Exit status: 0 every selected spec passed, 1 a spec failed, 2 a
// configuration or harness error, or nothing ran. With --baseline FILE, 1
// means a failure outside the baseline or a baseline entry that passes
// now. `diff` exits 1 when a requirement regressed.
package main

import (
	"fmt"
	"os"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "serve" {
		os.Exit(serve(args[1:]))
	}
	if len(args) > 0 && args[0] == "diff" {
		os.Exit(diff(args[1:], os.Stdout))
	}
	os.Exit(run(args))
}

// usageError reports a configuration error and gives exit status 2.
func usageError(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "runner: "+format+"\n", a...)
	return 2
}
