package mutant

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"sync"

	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/reference/store"
)

// Delete defects.
func init() {
	register(Mutant{Name: "delete-keeps-one", Breaks: []string{"UA-DEL-001", "UA-GET-006"},
		Doc:   "DELETE answers 200 true but keeps the user's alphabetically first attribute",
		Apply: wrapStore(func(s store.Store) store.Store { return keepOne{s} })})
	register(Mutant{Name: "delete-unknown-user-404", Breaks: []string{"UA-DEL-002"}, Also: []string{"UA-NAME-002", "UA-NAME-005"},
		Doc:   "DELETE for a username without an account answers 404 instead of 200 true (the username specs of UA-NAME-002 and UA-NAME-005 delete the names they made up)",
		Apply: deleteUnknown404})
	register(Mutant{Name: "delete-empty-false", Breaks: []string{"UA-DEL-002", "UA-DEL-003"},
		Doc:   "a DELETE of a user without attributes (never written, or already deleted) answers 200 with data false: it reports whether rows were removed",
		Apply: deleteEmptyFalse})
	register(Mutant{Name: "delete-stale-read", Breaks: []string{"UA-GET-006", "UA-DEL-001", "UA-GET-002"}, Also: []string{"UA-GET-004", "UA-DEL-003"},
		Doc:   "the GET of a user right after the admin deleted its attributes answers the deleted attributes (the delete handler's per-app buffer is read by the next GET; the {} spec of UA-GET-004 reads a user right after it was emptied, and the delete spec that checks data true for UA-DEL-003 reads it back, so both see it too)",
		Apply: staleAfterDelete})
	register(Mutant{Name: "delete-data-false", Breaks: []string{"UA-DEL-001", "UA-DEL-002", "UA-DEL-003"},
		Doc: "a successful DELETE answers data false",
		Apply: handlerOnly(rewrite(func(r *http.Request) bool { return routeOf(r).user(r, http.MethodDelete) }, func(_ *http.Request, resp *captured) {
			if resp.status == http.StatusOK {
				resp.editJSON(func(obj map[string]json.RawMessage) { obj["data"] = json.RawMessage("false") })
			}
		}))})
}

// keepOne deletes, then writes the first key back.
type keepOne struct{ store.Store }

func (k keepOne) Delete(app, user string) error {
	old, err := k.Load(app, user)
	if err != nil {
		return err
	}
	if err := k.Store.Delete(app, user); err != nil || len(old.Attrs) == 0 {
		return err
	}
	first := slices.Min(slices.Collect(maps.Keys(old.Attrs)))
	kept := map[string]string{first: old.Attrs[first]}
	cur, err := k.Load(app, user)
	if err != nil {
		return err
	}
	return k.Store.Commit(app, user, store.Write{Version: cur.Version, Attrs: kept, Size: jsonSize(kept), AppQuota: 1 << 62})
}

func deleteUnknown404(c *reference.Config) func(http.Handler) http.Handler {
	known := accounts(c.Tenant)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rt := routeOf(r)
			if users, app := known[rt.app]; app && rt.user(r, http.MethodDelete) && bearer(r) != "" && !users[rt.storeUser()] {
				writeError(w, http.StatusNotFound, "service_resource_not_found", "Service resource not found")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// deleteEmptyFalse answers data false to the DELETE of a user that had no
// attributes.
func deleteEmptyFalse(c *reference.Config) func(http.Handler) http.Handler {
	s := ensureStore(c)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rt := routeOf(r)
			if !rt.user(r, http.MethodDelete) {
				next.ServeHTTP(w, r)
				return
			}
			before, err := s.Load(rt.storeKey(), rt.storeUser())
			resp := capture(next, r)
			if err == nil && len(before.Attrs) == 0 && resp.status == http.StatusOK {
				resp.editJSON(func(obj map[string]json.RawMessage) { obj["data"] = json.RawMessage("false") })
			}
			resp.send(w)
		})
	}
}

// staleAfterDelete keeps, per app, what the admin's last DELETE removed
// until the app's next request; a GET of that user that finds nothing is
// answered with it.
func staleAfterDelete(c *reference.Config) func(http.Handler) http.Handler {
	s := ensureStore(c)
	t := tokensOf(c.Tenant)
	type removed struct {
		user  string
		attrs map[string]string
	}
	var mu sync.Mutex
	last := map[string]removed{} // store key of the app -> its last admin DELETE
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rt := routeOf(r)
			mu.Lock()
			prev, held := last[appKeyOf(r)] // any request of the app ends the hold
			delete(last, appKeyOf(r))
			mu.Unlock()
			var gone map[string]string
			if rt.user(r, http.MethodDelete) && t.isAdmin(r) {
				if e, err := s.Load(rt.storeKey(), rt.storeUser()); err == nil {
					gone = e.Attrs
				}
			}
			resp := capture(next, r)
			switch {
			case resp.status != http.StatusOK:
			case len(gone) > 0:
				mu.Lock()
				last[rt.storeKey()] = removed{rt.storeUser(), gone}
				mu.Unlock()
			case rt.user(r, http.MethodGet) && held && prev.user == rt.storeUser():
				resp.editJSON(func(obj map[string]json.RawMessage) {
					var data map[string]string
					if json.Unmarshal(obj["data"], &data) == nil && len(data) == 0 {
						obj["data"], _ = json.Marshal(prev.attrs)
					}
				})
			}
			resp.send(w)
		})
	}
}
