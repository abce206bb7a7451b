package suiterun

import (
	"bytes"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

func TestProgressPrintsCheckpointsAndFailures(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, true)
	p.Start(20)
	passed := types.SpecReport{LeafNodeType: types.NodeTypeIt, State: types.SpecStatePassed}
	filtered := types.SpecReport{LeafNodeType: types.NodeTypeIt, State: types.SpecStateSkipped}
	for i := 1; i <= 20; i++ {
		switch i {
		case 5:
			p.SpecDone(failedSpecReport())
		case 7:
			p.SpecDone(filtered) // not among the 20 that run
			p.SpecDone(passed)
		default:
			p.SpecDone(passed)
		}
		p.SpecDone(types.SpecReport{LeafNodeType: types.NodeTypeBeforeSuite}) // not a spec
	}
	want := []string{
		"progress: 2/20 specs done, 0 failed",
		"progress: 4/20 specs done, 0 failed",
		"progress: 5/20 specs done, 1 failed (FAIL: UA-BATCH-006)",
		"progress: 6/20 specs done, 1 failed",
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 11 || strings.Join(lines[:4], "\n") != strings.Join(want, "\n") || lines[10] != "progress: 20/20 specs done, 1 failed" {
		t.Fatalf("progress lines:\n%s", b.String())
	}
}

// Between Ginkgo's dots, a line starts on a fresh line.
func TestProgressStartsAFreshLineAfterDots(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, false)
	p.Start(1)
	p.SpecDone(types.SpecReport{LeafNodeType: types.NodeTypeIt, State: types.SpecStatePassed})
	if b.String() != "\nprogress: 1/1 specs done, 0 failed\n" {
		t.Fatalf("%q", b.String())
	}
}
