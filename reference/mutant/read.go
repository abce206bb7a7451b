package mutant

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/attrconform/attrconform/reference"
)

// Read-isolation defects: one user's attributes answered for another.
func init() {
	register(Mutant{Name: "get-leaks-last-write", Breaks: []string{"UA-GET-001", "UA-GET-002"}, Fixture: minimal,
		Doc:   "the GET of a listed user without attributes answers the attributes of the app's last PUT, when that PUT was for another user and came just before (a reused per-app response buffer that the empty case does not reset)",
		Apply: lastWriteBuffer})
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
			if !rt.ok {
				next.ServeHTTP(w, r)
				return
			}
			mu.Lock()
			prev, held := last[rt.storeKey()]
			delete(last, rt.storeKey())
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
