package framework

import (
	"net/url"
	"sync"

	"github.com/attrconform/attrconform/contract"
	"github.com/attrconform/attrconform/evidence"
)

// The suite's transport judges every exchange of the run with the
// judge's single-exchange rules, as runner proxy judges a client's
// traffic: a rule an exchange breaks is a finding against the rule's own
// requirement, whichever spec made the exchange, and the reports make it
// a FAIL of that requirement beside the spec verdicts
// (suiterun.FindingSpecs). The judge judges only what one exchange
// proves, so a spec that sends off-contract requests on purpose meets no
// finding for the sending; and the contract's own finding is not
// repeated, because it already fails the spec that received the exchange.

// findings are the run's findings, one per requirement and place: the
// first exchange that broke the requirement there, and how many did.
type findings struct {
	mu sync.Mutex
	// in names where exchanges are made now: a spec, or a step of the
	// run around the specs.
	in    string
	list  []evidence.Finding
	index map[[2]string]int // (in, requirement) -> its place in list
}

// Where the run's exchanges are made around the specs.
const (
	inPreflight = "the preflight before the specs"
	inSetup     = "preparing the listed users before the specs"
	inCleanup   = "restoring the listed users after the specs"
)

// now says where the exchanges from here on are made.
func (f *findings) now(in string) {
	f.mu.Lock()
	f.in = in
	f.mu.Unlock()
}

// Attribute says where the exchanges from here on are made (an
// exploration, say), as the findings name it.
func (e *Env) Attribute(in string) { e.findings.now(in) }

// observe judges one exchange of the run (contract.Transport's Observe).
func (e *Env) observe(x evidence.Exchange, c contract.Checked) {
	v := e.judge.Checked(x, c)
	if len(v.Violations) == 0 {
		return
	}
	x.Principal = v.Principal.String()
	if u, err := url.Parse(x.URL); err == nil && e.Clustered() {
		x.Node = u.Host
	}
	shown := x.Shown(e.Redactor)
	f := &e.findings
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, found := range v.Violations {
		if v.Contract != nil && found == *v.Contract {
			continue
		}
		key := [2]string{f.in, found.Requirement}
		if i, ok := f.index[key]; ok {
			f.list[i].Count++
			continue
		}
		if f.index == nil {
			f.index = map[[2]string]int{}
		}
		f.index[key] = len(f.list)
		found.In, found.Exchange, found.Count = f.in, &shown, 1
		f.list = append(f.list, found)
	}
}

// Findings are the requirements the run's exchanges broke, each with
// where and how often, in the order they were found.
func (e *Env) Findings() []evidence.Finding {
	e.findings.mu.Lock()
	defer e.findings.mu.Unlock()
	return append([]evidence.Finding(nil), e.findings.list...)
}
