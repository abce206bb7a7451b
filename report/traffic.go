package report

import (
	"fmt"
	"strings"

	"github.com/attrconform/attrconform/catalog"
)

// A report can also come from real traffic (runner proxy, runner replay):
// rules judge each exchange on its own, and a requirement gets its verdict
// from the exchanges that exercised it. The same writers render it.

// Traffic counts the exchanges behind a report judged from traffic.
type Traffic struct {
	// Exchanges is every request the proxy passed on.
	Exchanges int `json:"exchanges"`
	// Judged is those of the API whose answer was judged in full.
	Judged int `json:"judged"`
	// Violating is how many exchanges violated some requirement.
	Violating int `json:"violating"`
	// ClientFindings is how many requests broke the contract themselves:
	// the client's doing, not held against the target.
	ClientFindings int `json:"clientFindings"`
	// Unanswered is how many requests the target never answered
	// (unreachable, connection lost): harness problems, not violations.
	Unanswered int `json:"unanswered"`
	// Unread is how many answers the client stopped reading, and were not
	// judged.
	Unread int `json:"unread"`
	// Unjudged is how many exchanges passed through without being judged
	// because of the proxy's own bounds: no memory left to keep their
	// bodies, or a client body that broke off (--client-timeout).
	Unjudged int `json:"unjudged,omitempty"`
	// State is how the proxy followed users' states; nil where nothing
	// follows them (a replay).
	State *StateTraffic `json:"state,omitempty"`
}

// StateTraffic counts how the proxy judged by the states it followed
// (docs/traffic.md, "Judging by state").
type StateTraffic struct {
	// Judged is how many judgements were made by a state known from a
	// known point: an exchange of one user, each user of a batch read, a
	// capacity read.
	Judged int `json:"judged"`
	// Known is how many times a user's state became known.
	Known int `json:"known"`
	// Overlapping is how many exchanges were not judged by state because
	// a write of their user (or app) overlapped them in time; overlapping
	// writes forget the state.
	Overlapping int `json:"overlapping"`
	// Doubtful is how many known states were forgotten after an answer
	// that leaves them in doubt: one the documents do not allow, none or
	// only part of one, a 429 or 5xx, a write by an unlisted token.
	Doubtful int `json:"doubtful"`
	// Evicted is how many known states were forgotten to keep the number
	// of users followed bounded.
	Evicted int `json:"evicted"`
}

// Judged is what the rules found for one requirement over the traffic.
type Judged struct {
	// Held is how many exchanges were judged on it and kept it.
	Held int
	// Violated is how many exchanges violated it; Failures holds the first.
	Violated     int
	Failures     []Failure
	Alternatives []string
	// Artifacts are files in the report directory that show a violation
	// (a history's visualization), relative to it.
	Artifacts []string
}

// BuildTraffic gives every requirement of cat its verdict from judged
// traffic: FAIL when an exchange violated it, PASS when exchanges were
// judged on it and none violated it, otherwise SKIP with notJudged's
// reason (traffic that never exercised a requirement never passes it).
// Untestable requirements stay NOT TESTABLE. The counts are of
// requirements, the unit a report of traffic judges.
func BuildTraffic(cat *catalog.Catalog, judged map[string]Judged, notJudged func(id string) string, tr Traffic) Summary {
	s := Summary{Traffic: &tr}
	for _, req := range cat.Requirements {
		r := Requirement{ID: req.ID, Level: req.Level, Title: req.Title, Text: strings.TrimSpace(req.Text), Operations: req.Operations}
		j := judged[req.ID]
		r.Alternatives, r.Artifacts = j.Alternatives, j.Artifacts
		switch {
		case !req.Testable:
			r.Verdict, r.Reason = Untestable, req.WhyUntestable
		case j.Violated > 0:
			r.Verdict, r.Failures = Fail, j.Failures
			r.Reason = fmt.Sprintf("violated by %d of the exchanges judged on it (%d kept it)", j.Violated, j.Held)
			if len(j.Failures) > 0 {
				r.Reason += "; first: " + j.Failures[0].Reason
			}
			s.Failed++
		case j.Held > 0:
			r.Verdict, r.Reason = Pass, fmt.Sprintf("kept by the %d exchanges judged on it", j.Held)
			s.Passed++
		default:
			r.Verdict, r.Reason = Skip, notJudged(req.ID)
			s.Skipped++
		}
		s.Requirements = append(s.Requirements, r)
	}
	return s
}

// line sums up the traffic for a report's header.
func (t Traffic) line() string {
	line := fmt.Sprintf("%d exchanges, %d of the API judged, %d with violations; off contract (the client's): %d, unanswered by the target: %d, unread by the client: %d",
		t.Exchanges, t.Judged, t.Violating, t.ClientFindings, t.Unanswered, t.Unread)
	if t.Unjudged > 0 {
		line += fmt.Sprintf(", passed through unjudged (the proxy's bounds): %d", t.Unjudged)
	}
	if s := t.State; s != nil {
		line += fmt.Sprintf("; judged by state: %d (users known from a known point: %d; not judged or forgotten: overlapping requests %d, doubtful answers %d, users past the bound %d)",
			s.Judged, s.Known, s.Overlapping, s.Doubtful, s.Evicted)
	}
	return line
}
