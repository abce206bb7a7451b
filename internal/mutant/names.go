package mutant

import (
	"maps"
	"net/http"

	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/reference/store"
	"github.com/attrconform/attrconform/target"
)

// Username defects: names the documents rule out are served as accounts.
func init() {
	register(Mutant{Name: "long-name-accepted", Breaks: []string{"UA-NAME-001", "UA-NAME-005"}, Fixture: minimal,
		Doc: "the username length is not checked: the admin's PUT for a 65-character name answers 200 and stores the attributes, and GET returns them",
		Apply: servesNames(func(name string) bool {
			return len(name) > 64 && validChars(name)
		})})
	register(Mutant{Name: "bad-charset-accepted", Breaks: []string{"UA-NAME-002", "UA-NAME-005"}, Fixture: minimal,
		Doc: "the username character set is not checked: the admin's PUT for a name with a space or '!' answers 200 and stores the attributes, and GET returns them",
		Apply: servesNames(func(name string) bool {
			return name != "" && len(name) <= 64 && !target.ValidUsername(name)
		})})
	register(Mutant{Name: "name-case-sensitive", Breaks: []string{"UA-NAME-003"},
		Doc:   "the single-user operations look the username up as written: an upper-case spelling of a user is a user without an account (PUT 404, GET {}, DELETE true)",
		Apply: caseSensitiveNames})
}

// caseSensitiveNames answers the admin's PUT, GET and DELETE for a
// username that is not all lower-case as the reference answers a user
// without an account.
func caseSensitiveNames(c *reference.Config) func(http.Handler) http.Handler {
	t := tokensOf(c.Tenant)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rt := routeOf(r)
			if rt.batch(r) || rt.capacity(r) || rt.rest == rt.storeUser() || !target.ValidUsername(rt.rest) || !t.isAdmin(r) {
				next.ServeHTTP(w, r)
				return
			}
			switch r.Method {
			case http.MethodPut:
				writeError(w, http.StatusNotFound, "service_resource_not_found", "Service resource not found")
			case http.MethodGet:
				writeData(w, map[string]string{})
			case http.MethodDelete:
				writeData(w, true)
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

// servesNames answers the admin's PUT and GET for the invalid usernames
// bad selects as if they were accounts, keeping their attributes in the
// store beside the real users'. DELETE goes to the reference, which
// removes them.
func servesNames(bad func(name string) bool) func(*reference.Config) func(http.Handler) http.Handler {
	return func(c *reference.Config) func(http.Handler) http.Handler {
		s := ensureStore(c)
		t := tokensOf(c.Tenant)
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rt := routeOf(r)
				admin, app := t.admin[rt.app]
				if !app || rt.org != c.Tenant.Org || bearer(r) != admin || !bad(rt.rest) {
					next.ServeHTTP(w, r)
					return
				}
				e, err := s.Load(rt.storeKey(), rt.storeUser())
				switch {
				case err != nil:
					next.ServeHTTP(w, r)
				case rt.user(r, http.MethodPut):
					pairs := parseForm(string(readBody(r)))
					merged := maps.Clone(e.Attrs)
					if merged == nil {
						merged = map[string]string{}
					}
					maps.Copy(merged, pairs)
					if err := s.Commit(rt.storeKey(), rt.storeUser(), store.Write{Version: e.Version, Attrs: merged, Size: jsonSize(merged), AppQuota: 1 << 62}); err != nil {
						next.ServeHTTP(w, r)
						return
					}
					writeData(w, pairs)
				case rt.user(r, http.MethodGet):
					if e.Attrs == nil {
						e.Attrs = map[string]string{}
					}
					writeData(w, e.Attrs)
				default:
					next.ServeHTTP(w, r)
				}
			})
		}
	}
}

// validChars reports whether every character of name is one a username
// may hold, whatever its length.
func validChars(name string) bool {
	for len(name) > 64 {
		if !target.ValidUsername(name[:64]) {
			return false
		}
		name = name[64:]
	}
	return name == "" || target.ValidUsername(name)
}
