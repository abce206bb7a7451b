package profile

import "testing"

func TestLenientAcceptsEveryAlternativeAndProfilesPinOne(t *testing.T) {
	lenient, _ := Named("")
	current, _ := Named(Current)
	legacy, _ := Named(Legacy)
	for _, d := range Knobs {
		for alt := range d.Alternatives {
			if !lenient.Accepts(d.Knob, alt) {
				t.Errorf("lenient refuses %s=%s", d.Knob, alt)
			}
		}
		if _, ok := d.Alternatives[d.Current]; !ok {
			t.Errorf("%s: current alternative %q is not one of its alternatives", d.Knob, d.Current)
		}
		if _, ok := d.Alternatives[d.Legacy]; !ok {
			t.Errorf("%s: legacy alternative %q is not one of its alternatives", d.Knob, d.Legacy)
		}
		if got := current.Allowed(d.Knob); len(got) != 1 || got[0] != d.Current {
			t.Errorf("current allows %v for %s", got, d.Knob)
		}
		if legacy.Choice(d.Knob) != d.Legacy || lenient.Choice(d.Knob) != d.Current {
			t.Errorf("%s: choices legacy %q lenient %q", d.Knob, legacy.Choice(d.Knob), lenient.Choice(d.Knob))
		}
	}
	if current.Accepts(GetUnknownUser, "404") || !legacy.Accepts(GetUnknownUser, "404") {
		t.Error("get_unknown_user is not pinned by current/legacy")
	}
}

func TestOverrides(t *testing.T) {
	p, _ := Named(Lenient)
	q, err := p.With(map[string]string{"get_unknown_user": "404"})
	if err != nil || q.Accepts(GetUnknownUser, "200") || !q.Accepts(GetUnknownUser, "404") || p.Accepts(GetUnknownUser, "200") == false {
		t.Fatalf("override: %v", err)
	}
	if _, err := p.With(map[string]string{"no_such_knob": "x"}); err == nil {
		t.Error("unknown knob accepted")
	}
	if _, err := p.With(map[string]string{"get_unknown_user": "418"}); err == nil {
		t.Error("unknown alternative accepted")
	}
	if _, err := Named("strict"); err == nil {
		t.Error("unknown profile accepted")
	}
}
