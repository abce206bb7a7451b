package mutant

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"

	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/reference/store"
)

// Delete defects.
func init() {
	register(Mutant{Name: "delete-keeps-one", Breaks: []string{"UA-DEL-001", "UA-GET-006"},
		Doc:   "DELETE answers 200 true but keeps the user's alphabetically first attribute",
		Apply: wrapStore(func(s store.Store) store.Store { return keepOne{s} })})
	register(Mutant{Name: "delete-unknown-user-404", Breaks: []string{"UA-DEL-002"},
		Doc:   "DELETE for a username without an account answers 404 instead of 200 true",
		Apply: deleteUnknown404})
	register(Mutant{Name: "delete-data-false", Breaks: []string{"UA-DEL-001", "UA-DEL-003"},
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
