// Command runner judges an endpoint of the user-attributes API against the
// contract, requirement by requirement.
//
//	go run ./runner                      # the suite against the bundled reference
//	go run ./runner --target FILE        # the suite against a live endpoint
//	go run ./runner diff OLD.json NEW.json  # compare two runs' requirements.json
//	go run ./runner proxy --target FILE  # judge a real client's traffic through a proxy
//	go run ./runner replay REC --target FILE  # send recorded traffic to another endpoint
//	go run ./runner explore --target FILE  # generated sequences judged by the model of the documents
//
// Exit status: 0 every selected spec passed, 1 a spec failed, 2 a
// configuration or harness error, or nothing ran. With --baseline FILE, 1
// means a failure outside the baseline or a baseline entry that passes
// now. `diff` exits 1 when a requirement regressed; `proxy` when the
// traffic violated a requirement; `replay` when an answer differs from the
// recorded one; `explore` when the target's answers disagree with the
// model of the documents.
package main

import (
	"fmt"
	"os"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "diff" {
		os.Exit(diff(args[1:], os.Stdout))
	}
	if len(args) > 0 && args[0] == "proxy" {
		os.Exit(proxyCmd(args[1:]))
	}
	if len(args) > 0 && args[0] == "replay" {
		os.Exit(replayCmd(args[1:]))
	}
	if len(args) > 0 && args[0] == "explore" {
		os.Exit(exploreCmd(args[1:]))
	}
	os.Exit(run(args))
}

// usageError reports a configuration error and gives exit status 2.
func usageError(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "runner: "+format+"\n", a...)
	return 2
}
