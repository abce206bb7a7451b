package history_test

import (
	"cmp"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/history"
	"github.com/attrconform/attrconform/internal/bundled"
	"github.com/attrconform/attrconform/internal/bundled/cluster"
	"github.com/attrconform/attrconform/internal/etcdtest"
	"github.com/attrconform/attrconform/internal/mutant"
	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/target"
)

// start serves the bundled tenant with the in-process reference, faithful
// or with a mutant, with the given race window, and no request budget on
// either side (the histories' own bounds keep them short).
func start(t *testing.T, window time.Duration, defect string) *framework.Env {
	t.Helper()
	tgt, err := reference.BundledTarget()
	if err != nil {
		t.Fatal(err)
	}
	unbudgeted(tgt)
	srv, err := bundled.Start(tgt, bundled.Options{RaceWindow: reference.RaceWindowOf(window), Defect: defectOf(t, defect)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	tgt.BaseURL = srv.URL
	return envOf(t, tgt)
}

// defectOf is the named mutant; nil for "", the faithful reference.
func defectOf(t *testing.T, name string) *bundled.Defect {
	t.Helper()
	if name == "" {
		return nil
	}
	d, err := mutant.Defect(name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func unbudgeted(tgt *target.Target) {
	tgt.RequestBudget = 1e6
	for _, role := range tgt.Roles() {
		tgt.AppByRole(role).RatePerSecond = 1e6
	}
}

func envOf(t *testing.T, tgt *target.Target) *framework.Env {
	t.Helper()
	env, err := framework.NewEnv(tgt)
	if err != nil {
		t.Fatal(err)
	}
	env.Disposable = true
	snap, err := env.PrepareUsers()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if leaks, err := env.RestoreUsers(snap); err != nil || len(leaks) > 0 {
			t.Errorf("after the histories: %v %v", leaks, err)
		}
	})
	return env
}

func record(t *testing.T, env *framework.Env, o history.Options) history.Result {
	t.Helper()
	o.Env, o.Exclusive, o.Dir = env, true, t.TempDir()
	if testing.Verbose() {
		o.Log = os.Stderr
	}
	res, err := history.Run(o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// summary is the result in one line, for logs.
func summary(res history.Result) string {
	ops, overlaps, conflicts := 0, 0, 0
	var worst time.Duration
	for _, h := range res.Histories {
		ops += h.Operations
		overlaps += h.Overlaps
		conflicts += h.Conflicts
		worst = max(worst, h.CheckTime)
	}
	return fmt.Sprintf("seed %d: %d histories, %d operations, %d overlapping writes, %d 409s, slowest check %v", res.Seed, len(res.Histories), ops, overlaps, conflicts, worst)
}

// Against the faithful reference, at every race window, every history is
// linearizable, its writes overlap, and capacity agrees with the data.
func TestTheReferenceIsLinearizable(t *testing.T) {
	for _, window := range []time.Duration{0, time.Millisecond, 10 * time.Millisecond} {
		t.Run(fmt.Sprint(window), func(t *testing.T) {
			env := start(t, window, "")
			res := record(t, env, history.Options{Seed: 7, Rounds: 3, Time: 20 * time.Second})
			t.Log(summary(res))
			if res.Illegal != nil {
				t.Fatalf("not linearizable: %s\n%s", strings.Join(res.Illegal.IDs, ", "), res.Illegal.Text)
			}
			for _, h := range res.Histories {
				if h.Result != "Ok" {
					t.Errorf("round %d: %s", h.Round, h.Result)
				}
			}
			if len(res.Capacity) > 0 || res.CapacityReads == 0 {
				t.Errorf("capacity: %d reads judged, disagreements %+v", res.CapacityReads, res.Capacity)
			}
		})
	}
}

// The race mutants are found: each history that lets them collide is not
// linearizable, a FAIL of the race requirements with its visualization.
func TestRaceMutantsAreNotLinearizable(t *testing.T) {
	for _, m := range []string{"no-version-check", "leaky-conflict", "torn-write"} {
		for _, window := range []time.Duration{time.Millisecond, 10 * time.Millisecond} {
			t.Run(fmt.Sprintf("%s/%v", m, window), func(t *testing.T) {
				env := start(t, window, m)
				res := record(t, env, history.Options{Seed: 3, Rounds: 20, Time: 20 * time.Second})
				t.Log(summary(res))
				if res.Illegal == nil {
					t.Fatalf("%s was not found", m)
				}
				t.Logf("%s: %s\n%s", strings.Join(res.Illegal.IDs, ", "), res.Illegal.Visualization, res.Illegal.Text)
			})
		}
	}
}

// startCluster serves the bundled tenant on three reference nodes over an
// etcd cluster in this process, faithful or with a mutant; the clients of
// a history spread over the nodes.
func startCluster(t *testing.T, etcd *etcdtest.Cluster, defect string) *framework.Env {
	t.Helper()
	tgt, err := reference.BundledTarget()
	if err != nil {
		t.Fatal(err)
	}
	unbudgeted(tgt)
	c, err := cluster.Start(tgt, cluster.Options{Nodes: 3, Endpoints: etcd.Endpoints(), Defect: defectOf(t, defect)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return envOf(t, c.Target(tgt))
}

// Three nodes over etcd: the faithful deployment is linearizable; a node
// that checks versions in its own memory loses updates, one that answers
// from its own cache shows stale data past the window the framework
// allows a node to lag.
func TestThreeNodesOverEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an etcd cluster")
	}
	etcd := etcdtest.New(t, etcdtest.Options{})
	for _, m := range []string{"", "node-lock", "node-read-cache"} {
		t.Run(cmp.Or(m, "faithful"), func(t *testing.T) {
			env := startCluster(t, etcd, m)
			res := record(t, env, history.Options{Seed: 5, Rounds: 2, Time: 30 * time.Second})
			t.Log(summary(res))
			switch {
			case m == "" && res.Illegal != nil:
				t.Fatalf("not linearizable: %s\n%s", strings.Join(res.Illegal.IDs, ", "), res.Illegal.Text)
			case m == "" && len(res.Capacity) > 0:
				t.Fatalf("capacity: %+v", res.Capacity)
			case m != "" && res.Illegal == nil:
				t.Fatalf("%s was not found", m)
			case m != "":
				t.Logf("%s\n%s", strings.Join(res.Illegal.IDs, ", "), res.Illegal.Text)
			}
		})
	}
}

// A defect the same operations show when sent one at a time is no race:
// the histories see it and leave it to the specs of its requirements (NOT
// OBSERVED), so that a FAIL of the race requirements means a race. A 409
// between writes to different users fails UA-CONC-004 alone.
func TestOnlyRacesFailTheRaceRequirements(t *testing.T) {
	for m, want := range map[string]string{"put-replaces": "sequential", "delete-data-false": "sequential", "spurious-409": "UA-CONC-004"} {
		t.Run(m, func(t *testing.T) {
			env := start(t, 10*time.Millisecond, m)
			res := record(t, env, history.Options{Seed: 2, Rounds: 10, Time: 20 * time.Second})
			t.Log(summary(res))
			race, separate := res.Race(), res.Separate()
			if race.Failed {
				t.Fatalf("the race requirements failed: %s", race.Text)
			}
			switch want {
			case "sequential":
				if res.Sequential == nil || race.Observed {
					t.Fatalf("the defect was not seen, or the race requirements passed: %+v", race)
				}
				t.Log(race.Text)
			default:
				if !separate.Failed {
					t.Fatalf("UA-CONC-004: %+v", separate)
				}
				t.Log(separate.Text)
			}
		})
	}
}
