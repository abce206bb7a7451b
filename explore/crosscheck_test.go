package explore_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/attrconform/attrconform/explore"
	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/internal/bundled"
	"github.com/attrconform/attrconform/internal/mutant"
	"github.com/attrconform/attrconform/proxy"
	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/target"
)

// start serves a tenant file (empty: the bundled one) with the in-process
// reference under a profile, faithful or with a mutant, committing writes
// at once and with no request budget on either side: fast and
// deterministic, so that a seed replays a run exactly.
func start(t *testing.T, fixture, profile, defect string) *framework.Env {
	t.Helper()
	tgt, err := reference.BundledTarget()
	if fixture != "" {
		tgt, err = target.Load(fixture)
	}
	if err != nil {
		t.Fatal(err)
	}
	tgt.Profile = profile
	tgt.RequestBudget = 1e6
	for _, role := range tgt.Roles() {
		if a := tgt.AppByRole(role); role != "rate_limited" {
			a.RatePerSecond = 1e6
		}
	}
	o := bundled.Options{RaceWindow: reference.NoRaceWindow}
	if defect != "" {
		if o.Defect, err = mutant.Defect(defect); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := bundled.Start(tgt, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	tgt.BaseURL = srv.URL
	env, err := framework.NewEnv(tgt)
	if err != nil {
		t.Fatal(err)
	}
	env.Disposable = true
	return env
}

func explored(t *testing.T, env *framework.Env, g explore.Group, seed uint64, steps int) explore.Result {
	t.Helper()
	res, err := explore.Run(explore.Options{Env: env, Group: g, Seed: seed, Steps: steps, Time: time.Minute, ShrinkTime: 10 * time.Second, Exclusive: true, Disposable: true})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The model and the reference, two readings of the documents, agree on
// generated sequences under every profile and every fixture: several
// seeds, thousands of requests in all, no disagreement.
func TestTheModelAndTheReferenceAgree(t *testing.T) {
	fixtures := []string{"", "../fixtures/variants/minimal.yaml", "../fixtures/variants/pairs-json.yaml"}
	total := 0
	for _, fixture := range fixtures {
		for _, profile := range []string{"lenient", "current", "legacy"} {
			for seed := uint64(1); seed <= 2; seed++ {
				name := fmt.Sprintf("%s/%s/seed-%d", strings.TrimSuffix(fixture[strings.LastIndex(fixture, "/")+1:], ".yaml"), profile, seed)
				t.Run(name, func(t *testing.T) {
					env := start(t, fixture, profile, "")
					res := explored(t, env, explore.All, seed, 400)
					if d := res.Disagreement; d != nil {
						t.Fatalf("the reference and the model disagree:\n%s", d.Report(env.Redactor.Redact))
					}
					total += res.Steps
				})
			}
		}
	}
	if total < 5000 {
		t.Errorf("%d generated requests in all, want thousands", total)
	}
}

// A planted defect is found, shrunk to a few requests naming the
// requirement it breaks, and written as a record runner replay reads.
func TestADefectIsFoundShrunkAndRecorded(t *testing.T) {
	env := start(t, "", "lenient", "put-replaces")
	res := explored(t, env, explore.Read, 5, 3000)
	d := res.Disagreement
	if d == nil {
		t.Fatalf("no disagreement with a PUT that replaces (%d requests)", res.Requests)
	}
	if !slices.Contains(d.IDs, "UA-PUT-004") {
		t.Errorf("the disagreement names %v, not UA-PUT-004\n%s", d.IDs, d.Report(env.Redactor.Redact))
	}
	if d.Requests() > 5 {
		t.Errorf("shrunk to %d requests, want 5 at most\n%s", d.Requests(), d.Report(env.Redactor.Redact))
	}
	path := t.TempDir() + "/counterexample.jsonl"
	if err := d.WriteRecord(path, env.Target, env.Redactor.Redact); err != nil {
		t.Fatal(err)
	}
	records, err := proxy.ReadRecords(path)
	if err != nil || len(records) != len(d.Setup)+len(d.Steps) {
		t.Fatalf("the record file reads as %d records (%v), want %d", len(records), err, len(d.Setup)+len(d.Steps))
	}
	if last := records[len(records)-1]; last.Status != d.Last().Status || last.Method != d.Last().Method {
		t.Errorf("the record ends with %s -> %d, not with the disagreeing exchange", last.Method, last.Status)
	}
}

// The same seed sends the same requests to a deterministic target.
func TestTheSameSeedSendsTheSameRequests(t *testing.T) {
	var runs []explore.Result
	for range 2 {
		runs = append(runs, explored(t, start(t, "", "lenient", ""), explore.All, 3, 300))
	}
	a, b := runs[0], runs[1]
	if a.Requests != b.Requests || a.Sequences != b.Sequences || fmt.Sprint(a.Exercised) != fmt.Sprint(b.Exercised) {
		t.Errorf("seed 3 twice: %d and %d requests in %d and %d sequences, judged on\n%v\n%v", a.Requests, b.Requests, a.Sequences, b.Sequences, a.Exercised, b.Exercised)
	}
}
