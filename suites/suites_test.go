package suites_test

import (
	"flag"
	"fmt"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/attrconform/attrconform/catalog"
	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/internal/bundled"
	_ "github.com/attrconform/attrconform/suites"
	"github.com/attrconform/attrconform/target"
)

var targetFile = flag.String("target", "", "target file to judge; empty starts the bundled reference in-process")

// TestConformance runs the suites against the bundled reference (or the
// -target file) and, at the end, checks that the specs and the requirement
// catalogue agree.
func TestConformance(t *testing.T) {
	RegisterFailHandler(framework.FailHandler)
	var tgt *target.Target
	if *targetFile != "" {
		var err error
		if tgt, err = target.Load(*targetFile); err != nil {
			t.Fatal(err)
		}
	} else {
		var srv *bundled.Server
		var err error
		if tgt, srv, err = bundled.StartTarget(bundled.Options{}); err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
	}
	env, err := framework.NewEnv(tgt)
	if err != nil {
		t.Fatal(err)
	}
	env.Disposable = *targetFile == ""
	if err := env.Preflight(); err != nil {
		t.Fatal(err)
	}
	framework.Use(env)
	RunSpecs(t, "user-attributes conformance")
	// The judge's single-exchange rules, run on every exchange of the run
	// (as runner proxy runs them on a client's), find nothing to hold
	// against the target.
	for _, f := range env.Findings() {
		t.Errorf("%s broken %d times in %q: %s\n  exchange: %s", f.Requirement, f.Count, f.In, f.Problem, f.Exchange)
	}
}

// Every testable requirement has a spec, and every spec label that looks
// like a requirement ID is in the catalogue. Filtered-out specs are in the
// report too, so this holds whatever labels were selected.
var _ = ReportAfterSuite("requirement catalogue and specs agree", func(r Report) {
	cat, err := catalog.Load()
	Expect(err).NotTo(HaveOccurred())
	labelled := map[string]bool{}
	for _, s := range r.SpecReports {
		for _, l := range s.Labels() {
			if len(l) > 3 && l[:3] == "UA-" {
				_, known := cat.Get(l)
				Expect(known).To(BeTrue(), "spec %q carries %s, which is not in the catalogue", s.FullText(), l)
				labelled[l] = true
			}
		}
	}
	var missing []string
	for _, req := range cat.Requirements {
		if req.Testable && !labelled[req.ID] {
			missing = append(missing, req.ID)
		}
	}
	Expect(missing).To(BeEmpty(), fmt.Sprintf("testable requirements without a spec: %v", missing))
})
