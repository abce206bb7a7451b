package report

import (
	"bytes"
	"strings"
	"testing"
)

func TestTerminalSummaryGroupsByOperationAndEndsWithTheCounts(t *testing.T) {
	s := sample()
	s.ApplyBaseline(&Baseline{Failures: []BaselineEntry{{ID: "UA-BATCH-006", Reason: "r"}, {ID: "UA-DEL-001", Reason: "r"}}}, "base.yaml")
	var b bytes.Buffer
	s.WriteTerminal(&b)
	out := b.String()
	for _, want := range []string{
		"Summary by operation (target http://127.0.0.1:8080, profile lenient)",
		"  setUserAttributes            1     0      1     0         0  2/3 (missing 413)",
		"  getUserAttributes            1     0      0     1         1  2/2",
		"Failed requirements\n  batchGetUserAttributes\n    FAIL  UA-BATCH-006  MUST    More than 100 targets is refused  [known failure]",
		"  setUserAttributes\n    ERROR UA-CONC-001",
		"Skipped requirements\n    SKIP  UA-AUTH-008",
		"  saw get_unknown_user=200 (profile allows 200|404)",
		"Baseline base.yaml: 1 known failures accepted, 0 new failures, 1 stale entries",
		"stale entries (these pass now; remove them from the baseline):\n    UA-DEL-001",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	if strings.Contains(out, noOperation) {
		t.Errorf("a row for requirements without an operation, though all of them are NOT TESTABLE")
	}
	if last := lastLineOf(out); last != "3 passed, 2 failed, 1 skipped" {
		t.Errorf("last line %q", last)
	}
	if n := strings.Count(out, "\n"); n > 45 {
		t.Errorf("%d lines: more than a screen", n)
	}
	if t.Failed() {
		t.Log(out)
	}
}
