package explore

import (
	"fmt"

	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/report"
)

// Judged is the result as report.BuildTraffic reads it: per requirement,
// the answers judged on it and, for those the disagreement names, the
// failure with its counterexample. redact removes secrets.
func (r Result) Judged(redact func(string) string) map[string]report.Judged {
	out := map[string]report.Judged{}
	for id, n := range r.Exercised {
		out[id] = report.Judged{Held: n}
	}
	if d := r.Disagreement; d != nil {
		last := d.Last()
		x := &evidence.Exchange{Method: last.Method, Path: redact(last.Path), Principal: last.Request.Principal.String(),
			RequestBody: redact(show(last.RequestBody, 300)), Status: last.Status, ContentType: last.Header.Get("Content-Type"),
			ResponseBody: redact(show(last.ResponseBody, 600))}
		for _, id := range d.IDs {
			j := out[id]
			j.Violated++
			j.Failures = append(j.Failures, report.Failure{Spec: fmt.Sprintf("exploration, seed %d (group %s)", d.Seed, d.Group), Reason: d.Report(redact), Exchange: x})
			out[id] = j
		}
	}
	return out
}

// NotJudged is why a requirement got no verdict from an exploration.
func (r Result) NotJudged(id string) string {
	return fmt.Sprintf("not exercised by this exploration (%d requests in %d sequences, seed %d): the model decides no answer it got on it, or no generated request reached it", r.Requests, r.Sequences, r.Seed)
}
