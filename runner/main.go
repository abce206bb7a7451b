// Command runner judges an endpoint of the user-attributes API against the
// contract, requirement by requirement.
//
//	go run ./runner                      # the suite against the bundled reference
//	go run ./runner --target FILE        # the suite against a live endpoint
//	go run ./runner diff OLD.json NEW.json  # compare two runs' requirements.json
//	go run ./runner proxy --target FILE  # judge a real client's traffic through a proxy
//	go run ./runner replay REC --target FILE  # send recorded traffic to another endpoint
//	go run ./runner verify-report DIR    # check a run's conformance-report.yaml against its junit.xml
//	go run ./runner explore --target FILE  # generated sequences judged by the model of the documents
//	go run ./runner explore --target NEW --compare OLD  # the same sequences to two targets, NEW held to OLD's alternatives
//
// Exit status: 0 every selected spec passed, 1 a spec failed, 2 a
// configuration or harness error, or nothing ran. With --baseline FILE, 1
// means a failure outside the baseline or a baseline entry that passes
// now; with --allow-errors, ERROR verdicts alone do not make it 2.
// `diff` exits 1 when a requirement regressed; `proxy` when the traffic
// violated a requirement; `replay` when an answer differs from the
// recorded one; `verify-report` when the conformance report differs from
// what the run's junit.xml gives; `explore` when the target's answers
// disagree with the model of the documents (with --compare, either
// target's, or NEW chose another alternative than OLD).
package main

import (
	"fmt"
	"io"
	"log"
	"os"

	"github.com/attrconform/attrconform/redact"
)

// secrets is the runner's one redactor: everything it prints passes it,
// on stdout and stderr, Ginkgo's console included. It learns the target's
// secrets as soon as the target is read (loadTarget), and a proxy's the
// tokens of its traffic.
var (
	secrets           = redact.New()
	stdout  io.Writer = secrets.Writer(os.Stdout)
	stderr  io.Writer = secrets.Writer(os.Stderr)
)

// warnShortSecrets says in one line, before the target is first
// contacted, that some of its secrets are too short to be redacted
// reliably.
func warnShortSecrets() {
	if n := secrets.Weak(); n > 0 {
		fmt.Fprintf(stderr, "runner: warning: %d of the target's tokens or passwords are shorter than %d characters: they are redacted only where they stand as a word of their own, so one may still show inside a longer word; use longer secrets\n", n, redact.Reliable)
	}
}

func main() {
	log.SetOutput(stderr) // what libraries and the in-process reference log passes the redactor too
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "diff" {
		os.Exit(diff(args[1:], stdout))
	}
	if len(args) > 0 && args[0] == "proxy" {
		os.Exit(proxyCmd(args[1:]))
	}
	if len(args) > 0 && args[0] == "replay" {
		os.Exit(replayCmd(args[1:]))
	}
	if len(args) > 0 && args[0] == "verify-report" {
		os.Exit(verifyReport(args[1:], os.Stdout))
	}
	if len(args) > 0 && args[0] == "explore" {
		os.Exit(exploreCmd(args[1:]))
	}
	os.Exit(run(args))
}

// usageError reports a configuration error and gives exit status 2.
func usageError(format string, a ...any) int {
	fmt.Fprintf(stderr, "runner: "+format+"\n", a...)
	return 2
}
