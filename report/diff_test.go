package report

import (
	"bytes"
	"strings"
	"testing"
)

func runOf(verdicts map[string]Verdict, alts map[string][]string) Summary {
	var s Summary
	for _, id := range []string{"UA-A-001", "UA-A-002", "UA-A-003", "UA-A-004", "UA-A-005", "UA-A-006", "UA-A-007", "UA-A-008"} {
		v, ok := verdicts[id]
		if !ok {
			continue
		}
		s.Requirements = append(s.Requirements, Requirement{ID: id, Level: "MUST", Title: "title of " + id, Verdict: v, Alternatives: alts[id]})
	}
	return s
}

func ids(cs []Change) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID+":"+string(c.Old)+">"+string(c.New))
	}
	return strings.Join(out, " ")
}

func TestCompareClassifiesEveryChange(t *testing.T) {
	old := runOf(map[string]Verdict{
		"UA-A-001": Pass, "UA-A-002": Fail, "UA-A-003": Skip, "UA-A-004": Pass, "UA-A-005": Fail,
		"UA-A-006": Pass, "UA-A-007": Pass,
	}, map[string][]string{"UA-A-006": {"get_unknown_user=200 (profile allows 200|404)"}, "UA-A-001": {"k=1 (profile allows 1|2)"}})
	new := runOf(map[string]Verdict{
		"UA-A-001": Fail, "UA-A-002": Pass, "UA-A-003": Fail, "UA-A-004": Skip, "UA-A-005": Error,
		"UA-A-006": Pass, "UA-A-008": Fail,
	}, map[string][]string{"UA-A-006": {"get_unknown_user=404 (profile allows 404)"}})
	d := Compare(old, new)
	for _, c := range []struct{ name, got, want string }{
		{"regressed", ids(d.Regressed), "UA-A-001:PASS>FAIL UA-A-003:SKIP>FAIL UA-A-008:ABSENT>FAIL"},
		{"recovered", ids(d.Recovered), "UA-A-002:FAIL>PASS"},
		{"changed", ids(d.Changed), "UA-A-004:PASS>SKIP UA-A-005:FAIL>ERROR UA-A-007:PASS>ABSENT"},
		{"alternatives", ids(d.AlternativesChanged), "UA-A-006:PASS>PASS"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %s, want %s", c.name, c.got, c.want)
		}
	}
	var b bytes.Buffer
	d.Write(&b, "old.json", old, "new.json", new)
	out := b.String()
	for _, want := range []string{"Regressed (3):", "UA-A-001      MUST    PASS -> FAIL", "Recovered (1):", "Changed verdict (3):",
		"saw get_unknown_user=200, now get_unknown_user=404"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if last := lastLineOf(out); last != "3 regressed, 1 recovered, 3 changed verdict, 1 changed alternatives" {
		t.Errorf("last line %q", last)
	}
}

// A new profile changes what the profile allows, not what the target did.
func TestCompareIgnoresWhatTheProfileAllows(t *testing.T) {
	old := runOf(map[string]Verdict{"UA-A-001": Pass}, map[string][]string{"UA-A-001": {"k=1 (profile allows 1|2)"}})
	new := runOf(map[string]Verdict{"UA-A-001": Pass}, map[string][]string{"UA-A-001": {"k=1 (profile allows 1)"}})
	old.Profile, new.Profile = "lenient", "current"
	d := Compare(old, new)
	if len(d.AlternativesChanged)+len(d.Changed)+len(d.Regressed)+len(d.Recovered) != 0 {
		t.Fatalf("changes %+v", d)
	}
	var b bytes.Buffer
	d.Write(&b, "a", old, "b", new)
	if !strings.Contains(b.String(), "the profile changed between the runs: lenient -> current") {
		t.Fatalf("output does not say the profile changed:\n%s", b.String())
	}
}

func lastLineOf(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
