package history

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/target"
)

const (
	formType = "application/x-www-form-urlencoded"
	jsonType = "application/json"
)

// plan draws the operations of round n, per client, from the run's seed:
// the same seed draws the same operations. Each client first reads a user
// (its connection opens before the barrier), then sends a mix made for
// the defects of races: overwrites of keys the users hold (racing each
// other on different keys: a write that skips the version check loses
// one), writes of new keys (a lost update drops them), deletes racing
// writes (a write must not bring back what a delete removed), and reads
// and batch reads of every user in between. Values are unique, so that a
// read tells which write it shows.
func (r *recorder) plan(n int) [][]model.Request {
	plans := make([][]model.Request, r.o.Clients)
	for c := range plans {
		g := generator{rng: rand.New(rand.NewPCG(r.o.Seed, uint64(n)<<16|uint64(c))), users: r.users, tag: fmt.Sprintf("r%dc%d", n, c)}
		p := []model.Request{g.read(g.user())}
		for i := range r.o.Ops {
			p = append(p, g.next(i))
		}
		plans[c] = p
	}
	return plans
}

type generator struct {
	rng   *rand.Rand
	users []string
	tag   string
}

func (g generator) user() string { return g.users[g.rng.IntN(len(g.users))] }

func (g generator) next(i int) model.Request {
	u := g.user()
	value := fmt.Sprintf("%so%d", g.tag, i)
	switch n := g.rng.IntN(10); {
	case n < 3: // overwrite one or two of the keys the users hold
		keys := g.rng.Perm(len(baseAttrs))[:1+g.rng.IntN(2)]
		var pairs []string
		for _, k := range keys {
			pairs = append(pairs, fmt.Sprintf("k%d", k), value)
		}
		return put(u, framework.Form(pairs...))
	case n < 5: // a new key, with an overwrite now and then
		pairs := []string{"n" + value, value}
		if g.rng.IntN(2) == 0 {
			pairs = append(pairs, fmt.Sprintf("k%d", g.rng.IntN(len(baseAttrs))), value)
		}
		return put(u, framework.Form(pairs...))
	case n < 6:
		return model.Request{Principal: admin, App: target.MainApp, Op: model.Delete, User: u}
	case n < 9:
		return g.read(u)
	}
	return g.batch()
}

// read reads user u, now and then spelt in capitals: names fold case
// (UA-NAME-003), so a cache keyed by the name as written shows. Only
// reads: a write to another spelling would create data on a target that
// does not fold names.
func (g generator) read(u string) model.Request {
	if g.rng.IntN(4) == 0 {
		u = strings.ToUpper(u)
	}
	return model.Request{Principal: admin, App: target.MainApp, Op: model.Get, User: u}
}

// batch reads every user of the round, in a drawn order, all their keys
// or some of the four the setup gave.
func (g generator) batch() model.Request {
	body := map[string]any{"targets": shuffled(g.rng, g.users)}
	if g.rng.IntN(2) == 0 {
		var props []string
		for _, k := range g.rng.Perm(len(baseAttrs))[:1+g.rng.IntN(3)] {
			props = append(props, fmt.Sprintf("k%d", k))
		}
		body["properties"] = props
	}
	raw, _ := json.Marshal(body)
	return model.Request{Principal: admin, App: target.MainApp, Op: model.Batch, Body: raw, ContentType: jsonType}
}

func put(u, form string) model.Request {
	return model.Request{Principal: admin, App: target.MainApp, Op: model.Put, User: u, Body: []byte(form), ContentType: formType}
}

func shuffled(rng *rand.Rand, s []string) []string {
	out := make([]string, len(s))
	for i, j := range rng.Perm(len(s)) {
		out[i] = s[j]
	}
	return out
}
