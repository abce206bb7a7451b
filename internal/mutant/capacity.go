package mutant

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/reference/store"
)

// Capacity accounting defects. The data stays right; only what Usage
// reports drifts, by an amount the wrappers keep beside the store.
func init() {
	register(Mutant{Name: "capacity-stale-after-delete", Breaks: []string{"UA-CAP-003", "UA-CAP-004"},
		Doc: "a DELETE removes the attributes but not their bytes from the app's capacity",
		Apply: wrapStore(func(s store.Store) store.Store {
			return &drift{Store: s, onDelete: func(old int64) int64 { return old }}
		})})
	register(Mutant{Name: "capacity-double-count", Breaks: []string{"UA-CAP-003", "UA-CAP-004"},
		Doc: "an overwrite adds the user's new size without taking the old one off the capacity",
		Apply: wrapStore(func(s store.Store) store.Store {
			return &drift{Store: s, onCommit: func(old int64) int64 { return old }}
		})})
	register(Mutant{Name: "capacity-charges-refused", Breaks: []string{"UA-LIMIT-006", "UA-CAP-004"},
		Doc:   "a PUT refused with 403 still adds its body's bytes to the app's capacity",
		Apply: chargeRefused})
	register(Mutant{Name: "capacity-not-integer", Breaks: []string{"UA-CAP-001"}, Also: []string{"UA-CAP-003", "UA-CAP-004", "UA-LIMIT-006"},
		Doc: "capacity is written as a JSON number with a decimal point (123.0), as a server summing floats writes it (every spec that reads capacity, those of UA-CAP-003, UA-CAP-004 and UA-LIMIT-006 too, decodes it as an integer)",
		Apply: handlerOnly(rewrite(func(r *http.Request) bool { return routeOf(r).capacity(r) }, func(_ *http.Request, resp *captured) {
			resp.editJSON(func(obj map[string]json.RawMessage) {
				var n int64
				if json.Unmarshal(obj["data"], &n) == nil {
					obj["data"] = json.RawMessage(json.Number(jsonInt(n) + ".0"))
				}
			})
		}))})
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// drift adds to the app's usage what onCommit and onDelete return, given
// the size of the entry the write or delete replaced.
type drift struct {
	store.Store
	onCommit, onDelete func(old int64) int64
	mu                 sync.Mutex
	extra              map[string]int64
}

func (d *drift) add(app string, n int64) {
	if d.extra == nil {
		d.extra = map[string]int64{}
	}
	d.extra[app] += n
}

func (d *drift) Commit(app, user string, w store.Write) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	old, err := d.Store.Load(app, user)
	if err != nil {
		return err
	}
	if err := d.Store.Commit(app, user, w); err != nil {
		return err
	}
	if d.onCommit != nil {
		d.add(app, d.onCommit(old.Size))
	}
	return nil
}

func (d *drift) Delete(app, user string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	old, err := d.Store.Load(app, user)
	if err != nil {
		return err
	}
	if err := d.Store.Delete(app, user); err != nil {
		return err
	}
	if d.onDelete != nil {
		d.add(app, d.onDelete(old.Size))
	}
	return nil
}

func (d *drift) Usage(app string) (int64, error) {
	n, err := d.Store.Usage(app)
	d.mu.Lock()
	defer d.mu.Unlock()
	return n + d.extra[app], err
}

// chargeRefused counts the body of a PUT answered 403 into the capacity.
func chargeRefused(c *reference.Config) func(http.Handler) http.Handler {
	d := &drift{Store: ensureStore(c)}
	c.Store = d
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rt := routeOf(r)
			if !rt.user(r, http.MethodPut) {
				next.ServeHTTP(w, r)
				return
			}
			body := readBody(r)
			resp := capture(next, r)
			if resp.status == http.StatusForbidden {
				d.mu.Lock()
				d.add(rt.storeKey(), int64(len(body)))
				d.mu.Unlock()
			}
			resp.send(w)
		})
	}
}
