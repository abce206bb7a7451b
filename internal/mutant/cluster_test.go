package mutant_test

import (
	"testing"

	"github.com/attrconform/attrconform/catalog"
	"github.com/attrconform/attrconform/internal/mutant"
)

// The mutants of several nodes are registered apart from the others (the
// mutation table runs one server, where they conform), and name testable
// requirements of the catalogue.
func TestClusterRegistry(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	names := mutant.ClusterNames()
	if len(names) < 3 {
		t.Fatalf("cluster mutants %v, want node-lock, node-read-cache and node-capacity", names)
	}
	for _, name := range names {
		m, err := mutant.Lookup(name)
		if err != nil || !m.Cluster || m.Doc == "" || m.Apply == nil || len(m.Breaks) == 0 {
			t.Errorf("%s: %+v %v", name, m, err)
		}
		for _, id := range m.Breaks {
			if r, ok := cat.Get(id); !ok || !r.Testable {
				t.Errorf("%s breaks %s, which is not a testable requirement of the catalogue", name, id)
			}
		}
		for _, single := range mutant.Names() {
			if single == name {
				t.Errorf("%s is listed among the mutants of one server", name)
			}
		}
	}
}
