package mutant

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/target"
)

// Authentication and authorisation defects, made by rewriting the
// Authorization header before the reference reads it: the reference then
// serves the request as the admin it was told about.
func init() {
	register(Mutant{Name: "foreign-token-delete", Breaks: []string{"UA-AUTH-009", "UA-DEL-004"},
		Doc: "any user token of the app may delete any user's attributes",
		Apply: func(c *reference.Config) func(http.Handler) http.Handler {
			return asAdminOn(c, http.MethodDelete)
		}})
	register(Mutant{Name: "missing-token-accepted", Breaks: []string{"UA-AUTH-001"}, Also: []string{"UA-LIMIT-006", "UA-ERR-001"},
		Doc: "a request without an Authorization header is served as the app's admin (the spec that a write without a token stores nothing carries UA-LIMIT-006, and the error-envelope spec of UA-ERR-001 takes a request without a token as its first error)",
		Apply: adminWhen(func(t tokens, r *http.Request) bool {
			return r.Header.Get("Authorization") == ""
		})})
	register(Mutant{Name: "capacity-without-token", Breaks: []string{"UA-AUTH-001"},
		Doc: "the capacity read needs no token (left open for monitoring): a request without an Authorization header is answered as the admin's",
		Apply: adminWhen(func(t tokens, r *http.Request) bool {
			return r.Header.Get("Authorization") == "" && routeOf(r).capacity(r)
		})})
	register(Mutant{Name: "admin-reads-not-user-writes", Breaks: []string{"UA-AUTH-003"}, Also: []string{"UA-AUTH-004"},
		Doc:   "attributes a user last wrote with its own token are private to it: the admin's GET of that user answers 401 (an owner check without the admin bypass; the spec of UA-AUTH-004 reads a user's own write back as the admin and sees it too)",
		Apply: ownerOnlyReads})
	register(Mutant{Name: "batch-user-token-own-only", Breaks: []string{"UA-AUTH-007"},
		Doc:   "the batch read applies the single GET's rule to user tokens: a user token naming any target but its own user answers 401",
		Apply: batchOwnOnly})
	register(Mutant{Name: "user-get-reads-caller", Breaks: []string{"UA-AUTH-008"}, Profile: profile.Legacy,
		Doc: "a user token's GET of another user answers the caller's own attributes: the server takes the user from the token, not the path (judged with profile legacy, under which the reference lets a user token read other users)",
		Apply: func(c *reference.Config) func(http.Handler) http.Handler {
			t := tokensOf(c.Tenant)
			return before(func(r *http.Request) bool {
				self, user := t.names[bearer(r)]
				return user && routeOf(r).user(r, http.MethodGet) && routeOf(r).storeUser() != self
			}, func(r *http.Request) {
				rt := routeOf(r)
				r.URL.Path, r.URL.RawPath = "/"+rt.org+"/"+rt.app+"/metadata/user/"+t.names[bearer(r)], ""
			})
		}})
	register(Mutant{Name: "unknown-token-accepted", Breaks: []string{"UA-AUTH-002"},
		Doc: "a well-formed bearer token that was never issued is served as the app's admin",
		Apply: adminWhen(func(t tokens, r *http.Request) bool {
			tok := bearer(r)
			return len(tok) >= 8 && !t.issued[tok] && wellFormed(tok)
		})})
	register(Mutant{Name: "foreign-app-token", Breaks: []string{"UA-AUTH-010"},
		Doc: "the admin token of any app of the org is accepted by every app",
		Apply: adminWhen(func(t tokens, r *http.Request) bool {
			tok := bearer(r)
			for _, admin := range t.admin {
				if tok == admin {
					return true
				}
			}
			return false
		})})
	register(Mutant{Name: "capacity-open-to-users", Breaks: []string{"UA-AUTH-006", "UA-CAP-002"},
		Doc: "a user token may read the app's capacity although the server's profile makes it admin-only (judged with profile current: lenient accepts both documented alternatives, D-07)",
		// The defect is the other alternative of capacity_user_token; a
		// profile pinning "401" is what sees it.
		Profile: profile.Current,
		Apply: adminWhen(func(t tokens, r *http.Request) bool {
			_, user := t.users[bearer(r)]
			return user && routeOf(r).capacity(r)
		})})
}

// adminWhen serves the requests when selects with the admin token of the
// app in their path.
func adminWhen(when func(t tokens, r *http.Request) bool) func(*reference.Config) func(http.Handler) http.Handler {
	return func(c *reference.Config) func(http.Handler) http.Handler {
		t := tokensOf(c.Tenant)
		return before(func(r *http.Request) bool { return routeOf(r).ok && when(t, r) }, func(r *http.Request) {
			if admin, ok := t.admin[routeOf(r).app]; ok && routeOf(r).org == c.Tenant.Org {
				r.Header.Set("Authorization", "Bearer "+admin)
			}
		})
	}
}

// wellFormed accepts what the reference accepts as a bearer token.
func wellFormed(t string) bool {
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

// ownerOnlyReads refuses the admin's GET of a user whose attributes were
// last written with that user's own token.
func ownerOnlyReads(c *reference.Config) func(http.Handler) http.Handler {
	t := tokensOf(c.Tenant)
	var mu sync.Mutex
	selfWritten := map[string]bool{} // store key + "/" + user
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rt := routeOf(r)
			key := rt.storeKey() + "/" + rt.storeUser()
			if rt.user(r, http.MethodGet) && t.isAdmin(r) {
				mu.Lock()
				private := selfWritten[key]
				mu.Unlock()
				if private {
					writeError(w, http.StatusUnauthorized, "metadata_error", "auth error")
					return
				}
			}
			resp := capture(next, r)
			if resp.status == http.StatusOK && (rt.user(r, http.MethodPut) || rt.user(r, http.MethodDelete)) {
				mu.Lock()
				selfWritten[key] = rt.user(r, http.MethodPut) && t.names[bearer(r)] == rt.storeUser()
				mu.Unlock()
			}
			resp.send(w)
		})
	}
}

// batchOwnOnly refuses a user token's batch read that names another user.
func batchOwnOnly(c *reference.Config) func(http.Handler) http.Handler {
	t := tokensOf(c.Tenant)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			self, user := t.names[bearer(r)]
			if user && routeOf(r).batch(r) {
				var req struct {
					Targets []string `json:"targets"`
				}
				json.Unmarshal(readBody(r), &req)
				for _, name := range req.Targets {
					if target.FoldName(name) != self {
						writeError(w, http.StatusUnauthorized, "metadata_error", "auth error")
						return
					}
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
