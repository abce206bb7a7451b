package mutant

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"sync"

	"github.com/attrconform/attrconform/reference/store"
)

// Race defects besides no-version-check (lost update) and leaky-conflict
// (a refused write leaves a trace): a write that loses the race is
// acknowledged but only partly stored, and writes to different users
// conflict.
func init() {
	register(Mutant{Name: "torn-write", Breaks: []string{"UA-CONC-001", "UA-CONC-003"},
		Doc:   "a PUT that loses the race is answered 200, but only the first of its changed keys is merged into the winner's map",
		Apply: wrapStore(func(s store.Store) store.Store { return &tornWrites{Store: s} })})
	register(Mutant{Name: "conflict-text-vague", Breaks: []string{"UA-CONC-002", "UA-ERR-002"},
		Doc: "a 409 says only \"version mismatch\", so clients cannot match the documented concurrent-update text",
		Apply: handlerOnly(rewrite(all, func(_ *http.Request, resp *captured) {
			if resp.status == http.StatusConflict {
				resp.editJSON(func(obj map[string]json.RawMessage) {
					obj["error_description"], _ = json.Marshal("version mismatch")
					obj["desc"] = obj["error_description"]
				})
			}
		}))})
	register(Mutant{Name: "spurious-409", Breaks: []string{"UA-CONC-004"},
		Doc:   "the optimistic lock's version is kept per app, not per user: simultaneous PUTs to different users conflict",
		Apply: wrapStore(func(s store.Store) store.Store { return &appVersions{Store: s, version: map[string]uint64{}} })})
}

// tornWrites turns a conflict into a partial success.
type tornWrites struct {
	store.Store
	mu sync.Mutex
}

func (t *tornWrites) Commit(app, user string, w store.Write) error {
	err := t.Store.Commit(app, user, w)
	if !errors.Is(err, store.ErrConflict) {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for range 3 { // another writer may commit in between; bounded
		cur, lerr := t.Load(app, user)
		if lerr != nil {
			return err
		}
		keys := slices.Sorted(maps.Keys(w.Attrs))
		i := slices.IndexFunc(keys, func(k string) bool { v, has := cur.Attrs[k]; return !has || v != w.Attrs[k] })
		if i < 0 {
			return nil
		}
		cur.Attrs[keys[i]] = w.Attrs[keys[i]]
		cerr := t.Store.Commit(app, user, store.Write{Version: cur.Version, Attrs: cur.Attrs, Size: jsonSize(cur.Attrs), AppQuota: w.AppQuota})
		if !errors.Is(cerr, store.ErrConflict) {
			return cerr
		}
	}
	return err
}

// appVersions hands out one version per app: a write conflicts with any
// write to the app since it read, whichever user that was.
type appVersions struct {
	store.Store
	mu      sync.Mutex
	version map[string]uint64
}

func (a *appVersions) Load(app, user string) (store.Entry, error) {
	e, err := a.Store.Load(app, user)
	a.mu.Lock()
	e.Version = a.version[app]
	a.mu.Unlock()
	return e, err
}

func (a *appVersions) Commit(app, user string, w store.Write) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if w.Version != a.version[app] {
		return store.ErrConflict
	}
	cur, err := a.Store.Load(app, user)
	if err != nil {
		return err
	}
	w.Version = cur.Version
	if err := a.Store.Commit(app, user, w); err != nil {
		return err
	}
	a.version[app]++
	return nil
}

func (a *appVersions) Delete(app, user string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.version[app]++
	return a.Store.Delete(app, user)
}
