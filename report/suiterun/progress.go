package suiterun

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/attrconform/attrconform/catalog"
	"github.com/attrconform/attrconform/report"
)

// Progress prints a line "progress: 27/90 specs done, 1 failed" while the
// specs run: at every tenth of the run, after each failing spec (naming
// its requirements) and when the last spec is done. Lines are printed
// between Ginkgo's own output, so they start on a fresh line (newline
// first) unless the console prints each spec on its own lines anyway.
//
// Checkpoints depend on counts only, never on time, so the output of a
// run is the same on a fast machine and on a slow one.
type Progress struct {
	mu sync.Mutex
	w  io.Writer
	// freshLine: the writer is at the start of a line between specs
	// (Ginkgo's verbose output), so no newline is needed first.
	freshLine    bool
	total, step  int
	done, failed int
}

// NewProgress reports on w; freshLine says whether the console is at the
// start of a line between specs (true with Ginkgo's -v).
func NewProgress(w io.Writer, freshLine bool) *Progress {
	return &Progress{w: w, freshLine: freshLine}
}

// Start sets the number of specs that will run.
func (p *Progress) Start(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = total
	p.step = max(1, (total+9)/10)
}

// Added counts the specs added after the run (FindingSpecs), each as
// it is done.
func (p *Progress) Added(specs []types.SpecReport) {
	p.mu.Lock()
	p.total += len(specs)
	p.mu.Unlock()
	for _, sr := range specs {
		p.SpecDone(sr)
	}
}

// SpecDone counts one finished spec and prints a line at a checkpoint.
func (p *Progress) SpecDone(sr types.SpecReport) {
	if sr.LeafNodeType != types.NodeTypeIt {
		return
	}
	if sr.State == types.SpecStateSkipped && sr.Failure.Message == "" {
		return // left out by the label filter: not among the specs that run
	}
	v := specVerdict(sr)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	failing := v == report.Fail || v == report.Error
	if failing {
		p.failed++
	}
	if !failing && p.done%p.step != 0 && p.done != p.total {
		return
	}
	line := p.line()
	if failing {
		var ids []string
		for _, l := range sr.Labels() {
			if catalog.IDPattern.MatchString(l) {
				ids = append(ids, l)
			}
		}
		what := strings.Join(ids, " ")
		if what == "" {
			what = sr.FullText()
		}
		line += fmt.Sprintf(" (%s: %s)", v, what)
	}
	if !p.freshLine {
		line = "\n" + line
	}
	fmt.Fprintln(p.w, line)
}

func (p *Progress) line() string {
	total := "?"
	if p.total > 0 {
		total = fmt.Sprint(p.total)
	}
	return fmt.Sprintf("progress: %d/%s specs done, %d failed", p.done, total, p.failed)
}
