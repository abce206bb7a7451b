package catalog

import (
	"testing"

	"github.com/attrconform/attrconform/profile"
)

func TestCatalogueLoadsAndNamesOnlyKnownKnobs(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Requirements) == 0 || len(c.Divergences) == 0 {
		t.Fatalf("catalogue has %d requirements and %d divergences", len(c.Requirements), len(c.Divergences))
	}
	known := func(k string) bool { _, ok := profile.Lookup(profile.Knob(k)); return ok }
	for _, r := range c.Requirements {
		for _, k := range r.Knobs {
			if !known(k) {
				t.Errorf("%s names knob %q, which the profile package does not define", r.ID, k)
			}
		}
		if !r.Testable && r.WhyUntestable == "" {
			t.Errorf("%s is not testable but says not why", r.ID)
		}
	}
	for _, d := range c.Divergences {
		if d.Knob != "" && !known(d.Knob) {
			t.Errorf("%s names knob %q, which the profile package does not define", d.ID, d.Knob)
		}
	}
}

func TestParseRefusesDuplicateAndMalformedIDs(t *testing.T) {
	for _, doc := range []string{
		"requirements: [{id: UA-X-001, level: MUST, title: a, text: b, testable: true}, {id: UA-X-001, level: MUST, title: a, text: b, testable: true}]",
		"requirements: [{id: ua-x-1, level: MUST, title: a, text: b, testable: true}]",
		"requirements: [{id: UA-X-001, levl: MUST}]",
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("accepted: %s", doc)
		}
	}
}
