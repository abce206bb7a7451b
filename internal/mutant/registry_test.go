package mutant_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/attrconform/attrconform/catalog"
	"github.com/attrconform/attrconform/internal/mutant"
	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/target"
)

// The registry covers the defect classes of the issue, each mutant names
// requirements the catalogue holds and can test, and every mutant starts.
func TestRegistry(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	names := mutant.Names()
	if len(names) < 25 {
		t.Fatalf("%d mutants registered, want at least 25", len(names))
	}
	if !slices.IsSorted(names) {
		t.Errorf("Names is not sorted: %v", names)
	}
	for _, name := range names {
		m, err := mutant.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if m.Name != name || m.Doc == "" || m.Apply == nil || len(m.Breaks) == 0 {
			t.Errorf("%s: needs a name, a doc, Apply and the requirements it breaks: %+v", name, m)
		}
		for _, id := range append(slices.Clone(m.Breaks), m.Also...) {
			r, ok := cat.Get(id)
			switch {
			case !ok:
				t.Errorf("%s names %s, which the catalogue does not hold", name, id)
			case !r.Testable:
				t.Errorf("%s names %s, which cannot be tested from outside", name, id)
			}
		}
		for _, id := range m.Also {
			if slices.Contains(m.Breaks, id) {
				t.Errorf("%s lists %s in both Breaks and Also", name, id)
			}
			if !strings.Contains(m.Doc, id) {
				t.Errorf("%s: Also lists %s but the Doc does not say why that requirement sees the defect", name, id)
			}
		}
		if m.Profile != "" {
			if _, err := profile.Named(m.Profile); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		if m.Fixture != "" {
			if _, err := fixtureOf(m); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	if _, err := mutant.Lookup("no-such-mutant"); err == nil || !strings.Contains(err.Error(), "known: ") {
		t.Errorf("an unknown mutant's error lists the known ones: %v", err)
	}
}

// Every mutant leaves the reference able to start and to answer the
// admin's capacity read: a mutant breaks requirements, not the server.
func TestEveryMutantServes(t *testing.T) {
	for _, name := range mutant.Names() {
		t.Run(name, func(t *testing.T) {
			m, _ := mutant.Lookup(name)
			tg, err := fixtureOf(m)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := reference.ConfigFor(tg)
			if err != nil {
				t.Fatal(err)
			}
			wrap := m.Apply(&cfg)
			ref, err := reference.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer ref.Close()
			var h http.Handler = ref
			if wrap != nil {
				h = wrap(ref)
			}
			req := httptest.NewRequest(http.MethodGet, "/"+tg.Org+"/"+tg.App.Name+"/metadata/user/capacity", nil)
			req.Header.Set("Authorization", "Bearer "+tg.App.AdminToken)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"data"`) {
				t.Fatalf("capacity answered %d %s", rec.Code, rec.Body)
			}
		})
	}
}

// fixtureOf is the tenant a mutant is judged with: its Fixture (relative
// to the repository root, two levels up) or the bundled one.
func fixtureOf(m mutant.Mutant) (*target.Target, error) {
	if m.Fixture == "" {
		return reference.BundledTarget()
	}
	if filepath.IsAbs(m.Fixture) {
		return nil, fmt.Errorf("fixture %s: give a path relative to the repository root", m.Fixture)
	}
	return target.Load(filepath.Join("..", "..", m.Fixture))
}
