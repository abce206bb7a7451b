package suiterun

import (
	"bytes"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/report"
)

func spec(text string, labels []string, state types.SpecState, msg string) types.SpecReport {
	return types.SpecReport{LeafNodeText: text, LeafNodeType: types.NodeTypeIt, LeafNodeLabels: labels, State: state, Failure: types.Failure{Message: msg}}
}

// A run that stopped early says why, names the specs it did not reach
// "not run (interrupted)" (not DISABLED, which is what the label filter
// and the opt-in groups leave out), says which step failed after the
// specs ran, counts a timed-out spec as ERROR, and exits 2.
func TestAnInterruptedRunSaysWhatHappened(t *testing.T) {
	r := types.Report{
		SuiteConfig: types.SuiteConfig{LabelFilter: "batch || read"},
		SpecReports: types.SpecReports{
			spec("reads", []string{"read", "UA-GET-001"}, types.SpecStatePassed, ""),
			spec("stalls", []string{"read", "UA-GET-002"}, types.SpecStateTimedout, "A suite timeout occurred"),
			spec("aborts", []string{"batch", "UA-BATCH-001"}, types.SpecStateAborted, evidence.HarnessErrorPrefix+"the run stopped: the target stopped answering after spec 2; 5 transport errors in a row"),
			spec("never reached", []string{"batch", "UA-BATCH-002"}, types.SpecStateSkipped, ""),
			spec("filtered out", []string{"write", "UA-PUT-001"}, types.SpecStateSkipped, ""),
			spec("opted out", []string{"race", "UA-CONC-001"}, types.SpecStateSkipped, evidence.DisabledPrefix+"the \"burst\" specs are off"),
			{LeafNodeType: types.NodeTypeAfterSuite, State: types.SpecStateFailed, Failure: types.Failure{Message: evidence.HarnessErrorPrefix + "after the specs ran, restoring the listed users failed: could not restore every listed user"}},
		},
	}
	s := Build(r, testCatalog(t), func(s string) string { return s })
	verdicts := map[string]report.Spec{}
	for _, sp := range s.Specs {
		verdicts[sp.Name] = sp
	}
	for name, want := range map[string]report.Verdict{"reads": report.Pass, "stalls": report.Error, "aborts": report.Error, "never reached": report.Skip, "filtered out": report.Disabled, "opted out": report.Disabled} {
		if got := verdicts[name].Verdict; got != want {
			t.Errorf("%s: %s (%s), want %s", name, got, verdicts[name].Reason, want)
		}
	}
	if got := verdicts["never reached"].Reason; got != "not run (interrupted): the run stopped: the target stopped answering after spec 2; 5 transport errors in a row" {
		t.Errorf("the spec not reached: %q", got)
	}
	if s.CleanupFailure == "" || s.SetupFailure != "" || s.ExitCode() != 2 {
		t.Errorf("cleanup %q, setup %q, exit %d", s.CleanupFailure, s.SetupFailure, s.ExitCode())
	}
	var out, md, html bytes.Buffer
	s.WriteTerminal(&out)
	s.WriteMarkdown(&md)
	s.WriteHTML(&html)
	for name, text := range map[string]string{"terminal": out.String(), "markdown": md.String(), "html": html.String()} {
		for _, want := range []string{
			"The run ended before all its specs ran:", "the target stopped answering after spec 2; 5 transport errors in a row; 1 specs not run",
			"The specs ran; then the cleanup after them failed:", "restoring the listed users failed",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, text)
			}
		}
		if strings.Contains(text, "could not start its specs") {
			t.Errorf("%s says the specs could not start, though they ran:\n%s", name, text)
		}
	}
}
