// Command runner judges an endpoint of the user-attributes API against the
// contract, requirement by requirement.
//
//	go run ./runner                      # the suite against the bundled reference
//	go run ./runner --target FILE        # the suite against a live endpoint
//	go run ./runner serve                # the reference as a local emulator
//
// Exit status: 0 every selected spec passed, 1 a spec failed, 2 a
// configuration or harness error, or nothing ran.
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
	os.Exit(run(args))
}

// usageError reports a configuration error and gives exit status 2.
func usageError(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "runner: "+format+"\n", a...)
	return 2
}
