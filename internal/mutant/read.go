package mutant

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/target"
)

// Read defects: one user's attributes answered for another, and answers
// of the wrong shape.
func init() {
	register(Mutant{Name: "get-leaks-last-write", Breaks: []string{"UA-GET-001", "UA-GET-002"}, Also: []string{"UA-CONC-001", "UA-CONC-003"}, Fixture: minimal,
		Doc:   "the GET of a listed user without attributes answers the attributes of the app's last PUT, when that PUT was for another user and came just before (a reused per-app response buffer that the empty case does not reset; the race specs' histories read users just written by others, and no order of the writes explains such a read, UA-CONC-001 and UA-CONC-003)",
		Apply: lastWriteBuffer})
	register(Mutant{Name: "unknown-user-data-array", Breaks: []string{"UA-GET-003", "UA-GET-004"}, Also: []string{"UA-NAME-002"},
		Doc: "the GET of a valid username without an account answers data [] (an empty list where the not-found path builds its result) instead of {} (the spec of UA-NAME-002 reads such a name and sees it too)",
		Apply: func(c *reference.Config) func(http.Handler) http.Handler {
			known := accounts(c.Tenant)
			return rewrite(func(r *http.Request) bool {
				rt := routeOf(r)
				return rt.user(r, http.MethodGet) && target.ValidUsername(rt.rest) && !known[rt.app][rt.storeUser()]
			}, func(_ *http.Request, resp *captured) {
				if resp.status == http.StatusOK {
					resp.editJSON(func(obj map[string]json.RawMessage) { obj["data"] = json.RawMessage("[]") })
				}
			})
		}})
	register(Mutant{Name: "get-content-type-refused", Breaks: []string{"UA-GET-005"}, Also: []string{"UA-ERR-002"},
		Doc: "a GET that carries a Content-Type header answers 415 (the server checks the media type of a body a GET does not have; 415 is a status the documents do not give the read: the single-exchange rules see it, for UA-ERR-002)",
		Apply: handlerOnly(refuseWhen(func(r *http.Request) bool {
			return routeOf(r).user(r, http.MethodGet) && r.Header.Get("Content-Type") != ""
		}))})
	register(Mutant{Name: "apps-share-user-cache", Breaks: []string{"UA-NAME-004"},
		Doc:   "a read cache keyed by username alone: the GET of a user without attributes in one app answers the same username's attributes from another app of the org",
		Apply: sharedUserCache})
}

// sharedUserCache answers a GET that found no attributes with those the
// same username holds in another app of the org.
func sharedUserCache(c *reference.Config) func(http.Handler) http.Handler {
	s := ensureStore(c)
	return rewrite(func(r *http.Request) bool { return routeOf(r).user(r, http.MethodGet) }, func(r *http.Request, resp *captured) {
		if resp.status != http.StatusOK {
			return
		}
		rt := routeOf(r)
		resp.editJSON(func(obj map[string]json.RawMessage) {
			var data map[string]string
			if json.Unmarshal(obj["data"], &data) != nil || len(data) > 0 {
				return
			}
			for _, a := range c.Tenant.Apps {
				if a.Name == rt.app {
					continue
				}
				if e, err := s.Load(c.Tenant.Org+"/"+a.Name, rt.storeUser()); err == nil && len(e.Attrs) > 0 {
					obj["data"], _ = json.Marshal(e.Attrs)
					return
				}
			}
		})
	})
}

// lastWriteBuffer keeps, per app, the stored map of a successful PUT until
// the app's next request; a GET of another listed user that has no
// attributes is answered with it.
func lastWriteBuffer(c *reference.Config) func(http.Handler) http.Handler {
	s := ensureStore(c)
	known := accounts(c.Tenant)
	type write struct {
		user  string
		attrs map[string]string
	}
	var mu sync.Mutex
	last := map[string]write{} // store key of the app -> its last PUT
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rt := routeOf(r)
			mu.Lock()
			prev, held := last[appKeyOf(r)] // any request of the app ends the hold
			delete(last, appKeyOf(r))
			mu.Unlock()
			resp := capture(next, r)
			switch {
			case resp.status != http.StatusOK:
			case rt.user(r, http.MethodPut):
				if e, err := s.Load(rt.storeKey(), rt.storeUser()); err == nil {
					mu.Lock()
					last[rt.storeKey()] = write{rt.storeUser(), e.Attrs}
					mu.Unlock()
				}
			case rt.user(r, http.MethodGet) && held && prev.user != rt.storeUser() && known[rt.app][rt.storeUser()]:
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
