// Package mutant holds deliberate defects of the reference server. Each
// mutant breaks named requirements; the suite proves its sensitivity by
// failing against every one of them. Mutants live here, as configuration
// changes and wrappers around the store and the handler, so that the
// reference's own code paths stay faithful and easy to read.
//
// The registry is spread over one file per concern (limits.go, race.go,
// auth.go, and so on); blind.go holds those written from the documents
// alone, before any spec was run against them (issue 18); http.go holds
// what the handler wrappers share. `make mutation` (tools/mutation) runs
// the hand-written specs and the exploration against every mutant and
// says which kill it.
package mutant

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/attrconform/attrconform/internal/bundled"
	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/reference/store"
)

// Mutant is one deliberate defect.
type Mutant struct {
	Name string
	// Breaks lists the requirement IDs the defect violates; the suite must
	// fail a spec of at least one of them.
	Breaks []string
	// Also lists requirements whose specs legitimately see the same defect
	// along the way (a spec that checks two rules at once, say). A kill is
	// precise when every requirement that failed is in Breaks or Also; keep
	// the list short, and say why in Doc, naming each ID.
	Also []string
	Doc  string
	// Profile, when set, is the profile the suite must judge the mutant
	// with (runner --profile): the defect is one of the documented
	// alternatives, which the default lenient profile accepts, so only a
	// profile that pins the other alternative can see it.
	Profile string
	// Fixture, when set, is the tenant file (a path relative to the
	// repository root) the run serves and judges the mutant by (runner
	// --fixture): the defect must be seen against a target like it, e.g.
	// one that lists no more than the three users the suite needs.
	Fixture string
	// Cluster marks a defect that only a deployment of several nodes over
	// one store can show (cluster.go): a single server with it conforms.
	// Names leaves these out; ClusterNames lists them.
	Cluster bool
	// Blind marks a defect written from the documents alone, before any
	// spec ran against it (blind.go): it measures what nobody listed, so
	// the hand-written specs are not required to kill it; the exploration
	// is (tools/mutation).
	Blind bool
	// Apply changes the configuration, and may return a wrapper of the
	// server's handler.
	Apply func(cfg *reference.Config) func(http.Handler) http.Handler
}

// The variant tenants of fixtures/variants, for Mutant.Fixture.
const (
	// minimal lists only the three users the suite needs, with tokens:
	// no metrics, limits, extra apps or 64-character user.
	minimal = "fixtures/variants/minimal.yaml"
	// pairsJSON is the bundled tenant with size_metric pairs and
	// body_metric json.
	pairsJSON = "fixtures/variants/pairs-json.yaml"
)

var registry = map[string]Mutant{}

func register(m Mutant) {
	if _, dup := registry[m.Name]; dup {
		panic("mutant: " + m.Name + " is registered twice")
	}
	registry[m.Name] = m
}

// Lookup finds a mutant by name.
func Lookup(name string) (Mutant, error) {
	m, ok := registry[name]
	if !ok {
		return Mutant{}, fmt.Errorf("unknown mutant %q (known: %s; of several nodes: %s)", name, strings.Join(Names(), ", "), strings.Join(ClusterNames(), ", "))
	}
	return m, nil
}

// Defect is the named mutant as a defect to start the bundled reference
// with.
func Defect(name string) (*bundled.Defect, error) {
	m, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	return &bundled.Defect{Name: m.Name, Apply: m.Apply}, nil
}

// Names lists the registered mutants a single server shows, sorted.
func Names() []string { return names(false) }

// ClusterNames lists the mutants only several nodes show, sorted.
func ClusterNames() []string { return names(true) }

func names(cluster bool) []string {
	var out []string
	for n, m := range registry {
		if m.Cluster == cluster {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func configOnly(f func(*reference.Config)) func(*reference.Config) func(http.Handler) http.Handler {
	return func(c *reference.Config) func(http.Handler) http.Handler { f(c); return nil }
}

// handlerOnly leaves the configuration and wraps the handler.
func handlerOnly(wrap func(http.Handler) http.Handler) func(*reference.Config) func(http.Handler) http.Handler {
	return func(*reference.Config) func(http.Handler) http.Handler { return wrap }
}

// wrapStore replaces the configured store (or the default) with wrap(store).
func wrapStore(wrap func(store.Store) store.Store) func(*reference.Config) func(http.Handler) http.Handler {
	return configOnly(func(c *reference.Config) {
		if c.Store == nil {
			c.Store = store.NewMemory()
		}
		c.Store = wrap(c.Store)
	})
}

func init() {
	register(Mutant{Name: "no-version-check", Breaks: []string{"UA-CONC-001", "UA-CONC-003"}, Also: []string{"UA-CONC-002", "UA-ERR-002"},
		Doc:   "writes ignore the version read: concurrent PUTs never conflict and overwrite each other (the 409-text spec of UA-CONC-002 and UA-ERR-002 finds no 409 to read)",
		Apply: wrapStore(func(s store.Store) store.Store { return blindWrites{s} })})
	register(Mutant{Name: "leaky-conflict", Breaks: []string{"UA-CONC-001", "UA-CONC-003"},
		Doc:   "a PUT refused with 409 still stores one of its keys: racing PUTs leave data no acknowledged write made",
		Apply: wrapStore(func(s store.Store) store.Store { return leakyConflicts{s} })})
	register(Mutant{Name: "batch-cap-101", Breaks: []string{"UA-BATCH-006"}, Also: []string{"UA-ERR-002"},
		Doc:   "the batch cap is 101 targets instead of 100 (the over-cap spec checks the refusal's text, for UA-ERR-002)",
		Apply: configOnly(func(c *reference.Config) { c.Limits.BatchTargets = 101 })})
	register(Mutant{Name: "user-limit-plus-one", Breaks: []string{"UA-LIMIT-001"},
		Doc:   "a user's total may reach 2049 bytes",
		Apply: configOnly(func(c *reference.Config) { c.Limits.UserBytes = reference.DefaultUserBytes + 1 })})
	register(Mutant{Name: "foreign-token-write", Breaks: []string{"UA-AUTH-004", "UA-AUTH-005"}, Also: []string{"UA-LIMIT-006", "UA-ERR-002"},
		Doc: "any user token of the app may write any user's attributes (the spec that refuses the foreign write also checks its text, UA-ERR-002, and that it stored nothing, UA-LIMIT-006)",
		Apply: func(c *reference.Config) func(http.Handler) http.Handler {
			return asAdminOn(c, http.MethodPut)
		}})
}

// blindWrites commits at whatever version is current.
type blindWrites struct{ store.Store }

func (b blindWrites) Commit(app, user string, w store.Write) error {
	cur, err := b.Load(app, user)
	if err != nil {
		return err
	}
	w.Version = cur.Version
	return b.Store.Commit(app, user, w)
}

// leakyConflicts lets one key of a losing write through.
type leakyConflicts struct{ store.Store }

func (l leakyConflicts) Commit(app, user string, w store.Write) error {
	err := l.Store.Commit(app, user, w)
	if err != store.ErrConflict {
		return err
	}
	cur, lerr := l.Load(app, user)
	if lerr != nil {
		return err
	}
	for k, v := range w.Attrs {
		if _, has := cur.Attrs[k]; !has {
			cur.Attrs[k] = v
			l.Store.Commit(app, user, store.Write{Version: cur.Version, Attrs: cur.Attrs, Size: cur.Size + int64(len(k)+len(v)), AppQuota: w.AppQuota})
			break
		}
	}
	return err
}

// asAdminOn rewrites user tokens into the app's admin token for method.
func asAdminOn(c *reference.Config, method string) func(http.Handler) http.Handler {
	admins := map[string]string{}
	for _, a := range c.Tenant.Apps {
		for _, u := range a.Users {
			if u.Token != "" {
				admins[u.Token] = a.AdminToken
			}
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			if admin, ok := admins[token]; ok && r.Method == method {
				r.Header.Set("Authorization", "Bearer "+admin)
			}
			next.ServeHTTP(w, r)
		})
	}
}
