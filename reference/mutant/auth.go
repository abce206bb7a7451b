package mutant

import (
	"net/http"

	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/reference"
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
	register(Mutant{Name: "missing-token-accepted", Breaks: []string{"UA-AUTH-001"},
		Doc: "a request without an Authorization header is served as the app's admin",
		Apply: adminWhen(func(t tokens, r *http.Request) bool {
			return r.Header.Get("Authorization") == ""
		})})
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
