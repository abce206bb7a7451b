package history

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/report"
)

// Verdict is what the histories say of a group of requirements.
type Verdict struct {
	// IDs are the requirements the verdict is about; a failure may name
	// more (those the model names for the answers it did not allow).
	IDs    []string
	Failed bool
	// Observed: the histories exercised the requirements, a PASS when
	// nothing failed; otherwise Text says what was tried (NOT OBSERVED).
	Observed bool
	Text     string
	// Artifact is the visualization of a failure, when there is one.
	Artifact string
}

// Race is the verdict on the race requirements (UA-CONC-001, -003): FAIL
// when a history is not linearizable and the same operations one at a
// time are answered as the documents say; a PASS needs a history checked
// whole in which writes to one user were in flight together.
func (r Result) Race() Verdict {
	v := Verdict{IDs: []string{"UA-CONC-001", "UA-CONC-003"}}
	switch overlapping := r.count(func(h Checked) bool { return h.Result == "Ok" && h.Overlaps > 0 }); {
	case r.Illegal != nil:
		v.Failed, v.IDs, v.Artifact = true, appendNew(v.IDs, r.Illegal.IDs...), r.Illegal.Visualization
		v.Text = fmt.Sprintf("a history is not linearizable (%s)\n%s%s\n%s", strings.Join(v.IDs, ", "), r.Illegal.Text, visualization(r.Illegal), r)
	case r.Sequential != nil:
		v.Text = fmt.Sprintf("a history was not linearizable, but the target breaks the documents without any race (%s); the specs of those requirements and the exploration judge that, and a history cannot tell a race apart from it.\n%s%s",
			strings.Join(r.Sequential.IDs, ", "), r.Sequential.Text, visualization(r.Sequential))
	case overlapping == 0:
		v.Text = "no history in which writes to one user were in flight together was checked whole: " + r.String()
	default:
		v.Observed, v.Text = true, r.String()
	}
	return v
}

func visualization(il *Illegal) string {
	if il.Visualization == "" {
		return ""
	}
	return "visualization: " + il.Visualization
}

// Separate is the verdict on UA-CONC-004: a 409 answers a write only while
// another write to the same user is in flight.
func (r Result) Separate() Verdict {
	v := Verdict{IDs: []string{"UA-CONC-004"}}
	var examples []string
	across := 0
	for _, h := range r.Histories {
		examples = append(examples, h.SpuriousConflicts...)
		across += h.Across
	}
	switch {
	case len(examples) > 0:
		v.Failed = true
		v.Text = "409 while no other write to the same user was in flight, only writes to other users:\n  " + strings.Join(examples, "\n  ") + "\n" + r.String()
	case across == 0:
		v.Text = "no writes to different users were in flight together: " + r.String()
	default:
		v.Observed, v.Text = true, fmt.Sprintf("%d pairs of writes to different users in flight together, none answered 409 for it; %s", across, r.String())
	}
	return v
}

// CapacityVerdict is the verdict on the capacity read while traffic is quiet,
// before and after each burst (UA-CAP-003, -004).
func (r Result) CapacityVerdict() Verdict {
	v := Verdict{IDs: []string{"UA-CAP-003", "UA-CAP-004"}}
	switch {
	case len(r.Capacity) > 0:
		v.Failed = true
		var b strings.Builder
		for _, d := range r.Capacity {
			v.IDs = appendNew(v.IDs, d.IDs...)
			fmt.Fprintf(&b, "%s\n", d.Exchange)
			for _, p := range d.Problems {
				fmt.Fprintf(&b, "  %s\n", p)
			}
		}
		v.Text = "capacity read while traffic was quiet, before or after a burst:\n" + b.String()
	case r.CapacityReads == 0:
		v.Text = "no capacity read was judged: " + r.String()
	default:
		v.Observed, v.Text = true, fmt.Sprintf("%d capacity reads on %s while traffic was quiet, before and after each burst, each the sum of the data", r.CapacityReads, nodes(r.Nodes))
	}
	return v
}

func (r Result) count(f func(Checked) bool) int {
	n := 0
	for _, h := range r.Histories {
		if f(h) {
			n++
		}
	}
	return n
}

// String sums the histories up for reports, with the numbers a NOT
// OBSERVED needs.
func (r Result) String() string {
	if len(r.Histories) == 0 {
		return fmt.Sprintf("no history recorded (seed %d)", r.Seed)
	}
	var ops, overlaps, conflicts, unknown, lagging []int
	var times []time.Duration
	results := map[string]int{}
	for _, h := range r.Histories {
		ops, overlaps, conflicts, unknown = append(ops, h.Operations), append(overlaps, h.Overlaps), append(conflicts, h.Conflicts), append(unknown, h.Unknown)
		lagging = append(lagging, h.Lagging)
		times = append(times, h.CheckTime)
		results[h.Result]++
	}
	slices.Sort(ops)
	slices.Sort(times)
	s := fmt.Sprintf("%d histories of %d clients over %d users on %s in %.1fs: %d to %d operations each, %d pairs of writes to one user in flight together, %d 409s, %d outcomes unknown",
		len(r.Histories), r.Clients, r.Users, nodes(r.Nodes), r.Elapsed.Seconds(), ops[0], ops[len(ops)-1], sum(overlaps), sum(conflicts), sum(unknown))
	s += fmt.Sprintf("; porcupine: %d linearizable, %d not, %d ran out of time; check time median %v, max %v",
		results["Ok"], results["Illegal"], results["Unknown"], times[len(times)/2].Round(time.Microsecond), times[len(times)-1].Round(time.Microsecond))
	if n := sum(lagging); n > 0 {
		s += fmt.Sprintf("; %d reads sent during bursts were left out of a second check (a node may lag behind another)", n)
	}
	if r.Unreadable > 0 {
		s += fmt.Sprintf("; %d answers that break openapi.yaml or the envelope rules counted as unknown", r.Unreadable)
	}
	if r.Stopped != "" {
		s += "; stopped early: " + r.Stopped
	}
	return s + fmt.Sprintf("; seed %d (the operations replay from it, not their interleaving)", r.Seed)
}

func nodes(n int) string {
	if n == 1 {
		return "1 node"
	}
	return fmt.Sprintf("%d nodes", n)
}

func sum(v []int) int {
	n := 0
	for _, x := range v {
		n += x
	}
	return n
}

// NotObserved is why the histories gave requirement id no verdict, when
// they were about it: what was tried (NOT OBSERVED).
func (r Result) NotObserved(id string) (string, bool) {
	for _, v := range r.verdicts() {
		if slices.Contains(v.IDs, id) && !v.Observed && !v.Failed {
			return framework.NotObservedPrefix + v.Text, true
		}
	}
	return "", false
}

func (r Result) verdicts() []Verdict { return []Verdict{r.Race(), r.Separate(), r.CapacityVerdict()} }

// Judged is the result as report.BuildTraffic reads it (runner explore):
// per requirement, what the histories held and what they violated, with
// the visualization (its path relative to dir when it is in dir, the
// report directory). redact removes secrets.
func (r Result) Judged(redact func(string) string, dir string) map[string]report.Judged {
	out := map[string]report.Judged{}
	for _, v := range r.verdicts() {
		for _, id := range v.IDs {
			j := out[id]
			switch {
			case v.Failed:
				j.Violated++
				j.Failures = append(j.Failures, report.Failure{Spec: fmt.Sprintf("concurrent histories, seed %d", r.Seed), Reason: redact(v.Text)})
				if v.Artifact != "" {
					j.Artifacts = appendNew(j.Artifacts, framework.Relative(dir, v.Artifact))
				}
			case v.Observed:
				j.Held++
			}
			out[id] = j
		}
	}
	return out
}
