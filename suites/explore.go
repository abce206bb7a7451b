package suites

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/attrconform/attrconform/explore"
	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/model"
)

// The bounded exploration of the default run: a few generated sequences
// per requirement group, every answer held to the model of the documents
// (package model), then one spec per requirement the model decides, so
// that a disagreement fails the requirements it names and no other. The
// standalone `runner explore` goes deep; this stays within a small budget.
const (
	exploreSteps = 24                     // generated requests per group
	exploreTime  = 700 * time.Millisecond // all groups together, shared out as they go
	// Shrinking the first disagreement; later ones get a moment only, so
	// that a defective target costs the run seconds, not minutes.
	exploreShrink, exploreShrinkMore = 3 * time.Second, 300 * time.Millisecond
)

// exploreGroups are the requirement groups explored in the run (All is
// their union, for runner explore).
var exploreGroups = []explore.Group{explore.Write, explore.Read, explore.BatchG, explore.DeleteG, explore.CapacityG, explore.Auth, explore.Limits, explore.Names, explore.Envelope}

var _ = Describe("Generated sequences judged by the model of the documents", Label("explore"), Ordered, Serial, func() {
	seed := explore.NewSeed()
	var results []explore.Result
	var records []string // the counterexamples' record files, by result

	BeforeAll(func() {
		// Printed on every run, so that a failure can be reproduced.
		fmt.Printf("exploration: seed %d, %d groups of at most %d requests\n", seed, len(exploreGroups), exploreSteps)
		shrink := exploreShrink
		end := time.Now().Add(exploreTime)
		for i, g := range exploreGroups {
			share := max(time.Until(end)/time.Duration(len(exploreGroups)-i), 20*time.Millisecond)
			res, err := explore.Run(explore.Options{Env: env(), Seed: seed, Steps: exploreSteps, StepsPerSequence: exploreSteps, Time: share, ShrinkTime: shrink,
				Group: g, Exclusive: env().Disposable, Disposable: env().Disposable})
			if err != nil {
				framework.HarnessError(err.Error())
			}
			results = append(results, res)
			records = append(records, counterexample(res))
			if res.Disagreement != nil {
				shrink = exploreShrinkMore
			}
		}
	})

	for _, id := range model.Requirements {
		labels := []any{framework.Req(id)}
		if id == "UA-ERR-004" {
			labels = append(labels, Label(framework.LabelHooks)) // only a fault hook provokes a 500
		}
		It(id+" holds in generated sequences", append(labels, func() {
			judged := 0
			for i, r := range results {
				judged += r.Exercised[id]
				if d := r.Disagreement; d != nil && slices.Contains(d.IDs, id) {
					Fail(fmt.Sprintf("%s\n  reproduce: runner explore --seed %d --group %s --steps %d%s",
						d.Report(env().Redactor.Redact), seed, d.Group, exploreSteps, records[i]))
				}
			}
			if judged == 0 {
				Skip(fmt.Sprintf("NOT OBSERVED: no generated request reached %s (seed %d, %d requests over %d groups); the standalone runner explore goes deeper", id, seed, requests(results), len(results)))
			}
			framework.Note("explored", fmt.Sprintf("%d answers judged on it (seed %d)", judged, seed))
		})...)
	}
})

func requests(results []explore.Result) int {
	n := 0
	for _, r := range results {
		n += r.Requests
	}
	return n
}

// counterexample writes a result's disagreement as a record file for
// runner replay, into the run's report directory (else a temporary
// file), and says where; "" when there is none.
func counterexample(r explore.Result) string {
	d := r.Disagreement
	if d == nil {
		return ""
	}
	dir := env().ReportDir
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("counterexample-%s-%d.jsonl", d.Group, d.Seed))
	if err := d.WriteRecord(path, env().Target, env().Redactor.Redact); err != nil {
		return fmt.Sprintf("\n  (the record file could not be written: %v)", err)
	}
	return "\n  replay: runner replay " + path
}
