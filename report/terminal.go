package report

import (
	"fmt"
	"io"
	"strings"
)

// WriteTerminal prints the verdict per requirement, the reasons of
// failures and skips, and ends with the line
// "N passed, N failed, N skipped".
func (s Summary) WriteTerminal(w io.Writer) {
	fmt.Fprintf(w, "\nRequirements (target %s, profile %s)\n", s.Target, s.Profile)
	counts := map[Verdict]int{}
	for _, r := range s.Requirements {
		counts[r.Verdict]++
		if r.Verdict == Untestable || r.Verdict == Disabled && r.Reason == notSelected {
			continue
		}
		fmt.Fprintf(w, "  %-5s %-13s %-7s %s\n", r.Verdict, r.ID, r.Level, r.Title)
		if len(r.Alternatives) > 0 && r.Verdict != Fail {
			fmt.Fprintf(w, "        saw %s\n", strings.Join(r.Alternatives, "; "))
		}
		if r.Verdict != Pass && r.Reason != "" {
			fmt.Fprintln(w, indent(r.Reason, "        "))
		}
	}
	fmt.Fprintf(w, "%d requirements: %d PASS, %d FAIL, %d ERROR, %d SKIP, %d DISABLED, %d not testable from outside\n",
		len(s.Requirements), counts[Pass], counts[Fail], counts[Error], counts[Skip], counts[Disabled], counts[Untestable])
	if s.SetupFailure != "" {
		fmt.Fprintf(w, "The run could not start its specs:\n%s\n", indent(s.SetupFailure, "  "))
	}
	if s.Disabled > 0 {
		fmt.Fprintf(w, "%d specs disabled by configuration (label filter or opt-in groups)\n", s.Disabled)
	}
	if s.Errored > 0 {
		fmt.Fprintf(w, "%d specs could not judge the target (harness or network errors)\n", s.Errored)
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", s.Passed, s.Failed+s.Errored, s.Skipped)
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n"+prefix)
}
