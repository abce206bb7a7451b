package proxy

import (
	"fmt"
	"slices"
	"sync"
	"time"

	attrconform "github.com/attrconform/attrconform"
	"github.com/attrconform/attrconform/catalog"
	"github.com/attrconform/attrconform/contract"
	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/judge"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/report"
	"github.com/attrconform/attrconform/target"
)

// keptFailures is how many violations of one requirement a report shows
// with their exchanges; the rest are counted.
const keptFailures = 5

// ledger sums up the verdicts of the traffic, per requirement.
type ledger struct {
	mu       sync.Mutex
	start    time.Time
	judged   map[string]report.Judged
	traffic  report.Traffic
	coverage contract.Coverage
}

func newLedger() *ledger {
	return &ledger{start: time.Now(), judged: map[string]report.Judged{}}
}

// add counts one judged exchange; x is it as reports show it.
func (l *ledger) add(seq int, v judge.Verdict, x evidence.Exchange) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v.Outside {
		return
	}
	l.traffic.Judged++
	if v.Operation != "" {
		l.coverage.Add(v.Operation, x.Status)
	}
	if v.ClientFinding != "" {
		l.traffic.ClientFindings++
	}
	if len(v.Violations) > 0 {
		l.traffic.Violating++
	}
	for _, id := range v.Held {
		j := l.judged[id]
		j.Held++
		l.judged[id] = j
	}
	for _, f := range v.Violations {
		j := l.judged[f.Requirement]
		j.Violated++
		if len(j.Failures) < keptFailures {
			xc := x
			j.Failures = append(j.Failures, report.Failure{Spec: exchangeName(seq, v.Operation, x), Reason: f.Problem, Exchange: &xc})
		}
		l.judged[f.Requirement] = j
	}
	for id, alts := range v.Alternatives {
		j := l.judged[id]
		for _, a := range alts {
			if !slices.Contains(j.Alternatives, a) {
				j.Alternatives = append(j.Alternatives, a)
			}
		}
		l.judged[id] = j
	}
}

func (l *ledger) count(f func(*report.Traffic)) {
	l.mu.Lock()
	f(&l.traffic)
	l.mu.Unlock()
}

func exchangeName(seq int, op string, x evidence.Exchange) string {
	name := fmt.Sprintf("exchange #%d: %s %s as %s", seq, x.Method, x.Path, x.Principal)
	if op != "" {
		name += " (" + op + ")"
	}
	return name
}

// summary is the report of the traffic so far.
func (l *ledger) summary(t *target.Target, c *contract.Contract, profile, where string) (report.Summary, error) {
	cat, err := catalog.Load()
	if err != nil {
		return report.Summary{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := report.BuildTraffic(cat, l.judged, notJudged(t), l.traffic)
	s.Target, s.Profile = where, profile
	s.Start, s.Duration = l.start, time.Since(l.start)
	s.SuiteVersion = report.SuiteVersion()
	s.ContractSHA256 = report.ContractHash(attrconform.Contract)
	s.Coverage = report.BuildCoverage(c.Operations(), l.coverage.Seen())
	return s, nil
}

// notJudged says why traffic left a requirement without a verdict.
func notJudged(t *target.Target) func(string) string {
	return func(id string) string {
		switch {
		case id == "UA-LIMIT-001" && t.SizeMetric == "":
			return "not judged: the target declares no size_metric, so no single PUT proves the per-user limit"
		case id == "UA-LIMIT-002" && t.BodyMetric == "":
			return "not judged: the target declares no body_metric, so no single PUT proves the body limit"
		}
		if when, ok := judge.Judged[id]; ok {
			return "not judged: no exchange of the traffic exercised it (judged on " + when + ")"
		}
		if slices.Contains(model.Requirements, id) {
			return "not judged: one exchange cannot prove it, and no exchange of a user followed by state exercised it (docs/traffic.md); the suite checks it (go run ./runner --target FILE)"
		}
		return "not judged: one exchange cannot prove it; the suite checks it (go run ./runner --target FILE)"
	}
}
