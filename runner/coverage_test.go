package main

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	attrconform "github.com/attrconform/attrconform"
	"github.com/attrconform/attrconform/contract"
	"github.com/attrconform/attrconform/report"
	"github.com/attrconform/attrconform/target"
)

// The coverage gate: a run of the whole suite against the bundled
// reference exercises every (operation, status code) pair openapi.yaml
// documents. The documented pairs are read from the contract when the test
// runs, so a code added to openapi.yaml needs a spec that provokes it.
// Exercised means a response with that status was validated against the
// contract; the run records them in requirements.json ("coverage").
func TestEveryDocumentedStatusIsExercisedAgainstTheReference(t *testing.T) {
	t.Parallel()
	c, err := contract.Load(attrconform.Contract, "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	res := runRunner(t, "--report-dir", dir)
	if res.code != 0 {
		t.Errorf("exit %d against the faithful reference (coverage is still checked below)\n%s", res.code, lastLine(res.stdout))
	}
	s := readSummary(t, filepath.Join(dir, "requirements.json"))
	// The runner under test was built from the same openapi.yaml as this test.
	if want := report.ContractHash(attrconform.Contract); s.ContractSHA256 != want {
		t.Fatalf("the run used openapi.yaml sha256 %s, this test reads %s: rerun, the contract changed in between", s.ContractSHA256, want)
	}
	seen := map[string]map[int]int{}
	add := func(s report.Summary) {
		for _, oc := range s.Coverage {
			if seen[oc.Operation] == nil {
				seen[oc.Operation] = map[int]int{}
			}
			for _, sc := range oc.Statuses {
				seen[oc.Operation][sc.Status] += sc.Exchanges
			}
		}
	}
	add(s)
	// 413 for an oversized body is the alternative a knob selects (the
	// reference answers 403 by default): a second run of the size specs
	// against the reference with that knob pinned exercises it.
	pin413 := func(tg *target.Target) { tg.Knobs = map[string]string{"body_limit_status": "413"} }
	dir413 := t.TempDir()
	if res := runRunner(t, "--target", startReference(t, pin413, pin413), "--label-filter", "limits", "--report-dir", dir413); res.code != 0 {
		t.Errorf("exit %d for the size specs against the reference answering 413\n%s", res.code, lastLine(res.stdout))
	}
	add(readSummary(t, filepath.Join(dir413, "requirements.json")))
	var missing []string
	pairs := 0
	for _, op := range c.Operations() {
		if len(op.Statuses) == 0 {
			t.Errorf("%s documents no status code", op.ID)
		}
		for _, status := range op.Statuses {
			pairs++
			if seen[op.ID][status] == 0 {
				missing = append(missing, fmt.Sprintf("%s %d (%s %s)", op.ID, status, strings.ToUpper(op.Method), op.Path))
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d of %d documented (operation, status) pairs were never answered by the reference during the run; "+
			"add a spec that provokes each (or stop documenting it):\n  %s", len(missing), pairs, strings.Join(missing, "\n  "))
	}
	if pairs == 0 {
		t.Fatal("the contract documents no (operation, status) pair")
	}
}
