package history

import (
	"cmp"
	"fmt"
	"testing"

	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/internal/bundled"
	"github.com/attrconform/attrconform/internal/mutant"
	"github.com/attrconform/attrconform/reference"
)

// porcupine's check time on histories recorded against the in-process
// reference (10 ms race window, so that writes collide): the default
// round, and one user hammered by MaxClients clients, whose check is the
// costliest (porcupine's search grows with the operations that overlap on
// one user); and a lost update's history, where porcupine must exhaust
// every order before it answers. A history is recorded once; the
// benchmark checks it (the explanation and the visualization aside).
func BenchmarkCheck(b *testing.B) {
	for _, c := range []struct {
		users, clients, ops int
		defect, want        string
	}{
		{DefaultUsers, DefaultClients, DefaultOps, "", "Ok"},
		{1, MaxClients, DefaultOps, "", "Ok"},
		{1, MaxClients, 2 * DefaultOps, "", "Ok"},
		{DefaultUsers, DefaultClients, DefaultOps, "no-version-check", "Illegal"},
	} {
		b.Run(fmt.Sprintf("users=%d/clients=%d/ops=%d/%s", c.users, c.clients, c.ops, cmp.Or(c.defect, "faithful")), func(b *testing.B) {
			o := bundled.Options{RaceWindow: reference.DefaultRaceWindow}
			if c.defect != "" {
				var err error
				if o.Defect, err = mutant.Defect(c.defect); err != nil {
					b.Fatal(err)
				}
			}
			tgt, srv, err := bundled.StartTarget(o)
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			tgt.RequestBudget = 1e6
			env, err := framework.NewEnv(tgt)
			if err != nil {
				b.Fatal(err)
			}
			r, err := newRecorder(Options{Env: env, Seed: 1, Users: c.users, Clients: c.clients, Ops: c.ops, Exclusive: true, Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			ops, err := r.record(1)
			if err != nil {
				b.Fatal(err)
			}
			var h Checked
			for b.Loop() {
				if h, _ = r.check(1, ops, ""); h.Result != c.want {
					b.Fatalf("the history checks %s, not %s", h.Result, c.want)
				}
			}
			b.ReportMetric(float64(h.Operations), "ops/history")
			b.ReportMetric(float64(h.Overlaps), "overlapping-writes/history")
		})
	}
}
