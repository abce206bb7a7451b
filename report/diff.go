package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Change is one requirement whose verdict or observed alternatives differ
// between two runs.
type Change struct {
	ID    string  `json:"id"`
	Level string  `json:"level"`
	Title string  `json:"title"`
	Old   Verdict `json:"old"`
	New   Verdict `json:"new"`
	// OldAlternatives and NewAlternatives are the knob=value pairs seen,
	// for AlternativesChanged.
	OldAlternatives []string `json:"oldAlternatives,omitempty"`
	NewAlternatives []string `json:"newAlternatives,omitempty"`
}

// absent is the verdict of a requirement a run does not list (the
// catalogue changed between the runs).
const absent Verdict = "ABSENT"

// Diff compares two runs requirement by requirement.
type Diff struct {
	// Regressed: FAIL now, anything else before (PASS, SKIP, DISABLED,
	// ERROR, or absent): a failure the old run did not have.
	Regressed []Change `json:"regressed"`
	// Recovered: FAIL before, PASS now.
	Recovered []Change `json:"recovered"`
	// Changed: every other change of verdict (PASS -> SKIP, FAIL -> ERROR,
	// ERROR -> PASS, a requirement added or removed, …).
	Changed []Change `json:"changed"`
	// AlternativesChanged: same verdict, but the target showed other
	// documented alternatives (get_unknown_user=200 -> 404).
	AlternativesChanged []Change `json:"alternativesChanged"`
}

// Compare lists what changed from old to new.
func Compare(old, new Summary) Diff {
	var d Diff
	oldByID := map[string]Requirement{}
	for _, r := range old.Requirements {
		oldByID[r.ID] = r
	}
	newIDs := map[string]bool{}
	for _, n := range new.Requirements {
		newIDs[n.ID] = true
		o, had := oldByID[n.ID]
		c := Change{ID: n.ID, Level: n.Level, Title: n.Title, Old: o.Verdict, New: n.Verdict}
		if !had {
			c.Old = absent
		}
		switch {
		case c.New == Fail && c.Old != Fail:
			d.Regressed = append(d.Regressed, c)
		case c.Old == Fail && c.New == Pass:
			d.Recovered = append(d.Recovered, c)
		case c.Old != c.New:
			d.Changed = append(d.Changed, c)
		default:
			oa, na := knobValues(o.Alternatives), knobValues(n.Alternatives)
			if !slices.Equal(oa, na) && len(oa) > 0 && len(na) > 0 {
				c.OldAlternatives, c.NewAlternatives = oa, na
				d.AlternativesChanged = append(d.AlternativesChanged, c)
			}
		}
	}
	for _, o := range old.Requirements {
		if !newIDs[o.ID] {
			d.Changed = append(d.Changed, Change{ID: o.ID, Level: o.Level, Title: o.Title, Old: o.Verdict, New: absent})
		}
	}
	return d
}

// knobValues keeps the "knob=value" part of each alternative ("…=200
// (profile allows 200|404)"), so that a change of profile alone is no
// change of the target.
func knobValues(alts []string) []string {
	var out []string
	for _, a := range alts {
		for _, part := range strings.Split(a, "; ") {
			kv, _, _ := strings.Cut(part, " (")
			if kv = strings.TrimSpace(kv); kv != "" && !slices.Contains(out, kv) {
				out = append(out, kv)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Write prints the comparison; its last line counts the changes.
func (d Diff) Write(w io.Writer, oldName string, old Summary, newName string, new Summary) {
	fmt.Fprintf(w, "old: %s\n", runLine(oldName, old))
	fmt.Fprintf(w, "new: %s\n", runLine(newName, new))
	if old.ContractSHA256 != "" && new.ContractSHA256 != "" && old.ContractSHA256 != new.ContractSHA256 {
		fmt.Fprintf(w, "the contract changed between the runs: openapi.yaml sha256 %s -> %s\n", short(old.ContractSHA256), short(new.ContractSHA256))
	}
	if old.Profile != new.Profile {
		fmt.Fprintf(w, "the profile changed between the runs: %s -> %s\n", old.Profile, new.Profile)
	}
	section := func(title string, cs []Change, alts bool) {
		if len(cs) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s (%d):\n", title, len(cs))
		for _, c := range cs {
			if alts {
				fmt.Fprintf(w, "  %-13s %-7s %s\n        saw %s, now %s\n", c.ID, c.Level, c.Title, strings.Join(c.OldAlternatives, "; "), strings.Join(c.NewAlternatives, "; "))
				continue
			}
			fmt.Fprintf(w, "  %-13s %-7s %-25s %s\n", c.ID, c.Level, string(c.Old)+" -> "+string(c.New), c.Title)
		}
	}
	section("Regressed", d.Regressed, false)
	section("Recovered", d.Recovered, false)
	section("Changed verdict", d.Changed, false)
	section("Same verdict, other alternatives seen", d.AlternativesChanged, true)
	fmt.Fprintf(w, "\n%d regressed, %d recovered, %d changed verdict, %d changed alternatives\n",
		len(d.Regressed), len(d.Recovered), len(d.Changed), len(d.AlternativesChanged))
}

func runLine(name string, s Summary) string {
	out := name
	if !s.Start.IsZero() {
		out += ", started " + s.Start.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	if s.Target != "" {
		out += ", target " + s.Target
	}
	if s.Profile != "" {
		out += ", profile " + s.Profile
	}
	if s.SuiteVersion != "" {
		out += ", suite " + s.SuiteVersion
	}
	return out + fmt.Sprintf(" (%d passed, %d failed, %d skipped)", s.Passed, s.Failed+s.Errored, s.Skipped)
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}
