package mutant

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/reference/store"
)

// Defects of writing and reading attributes.
func init() {
	register(Mutant{Name: "put-replaces", Breaks: []string{"UA-PUT-004"},
		Doc:   "a successful PUT replaces the user's whole map with its own pairs instead of merging them",
		Apply: putReplaces})
	register(Mutant{Name: "numeric-values", Breaks: []string{"UA-PUT-006"},
		Doc: "values that look like JSON numbers, booleans or null are returned as such, not as strings (GET and batch)",
		Apply: handlerOnly(rewrite(func(r *http.Request) bool {
			rt := routeOf(r)
			return rt.user(r, http.MethodGet) || rt.batch(r)
		}, func(r *http.Request, resp *captured) {
			if resp.status != http.StatusOK {
				return
			}
			resp.editJSON(func(obj map[string]json.RawMessage) {
				if routeOf(r).batch(r) {
					var data map[string]map[string]string
					if json.Unmarshal(obj["data"], &data) == nil {
						out := map[string]map[string]json.RawMessage{}
						for user, attrs := range data {
							out[user] = typed(attrs)
						}
						obj["data"], _ = json.Marshal(out)
					}
					return
				}
				var data map[string]string
				if json.Unmarshal(obj["data"], &data) == nil {
					obj["data"], _ = json.Marshal(typed(data))
				}
			})
		}))})
	register(Mutant{Name: "put-echoes-old-value", Breaks: []string{"UA-PUT-005"}, Fixture: minimal,
		Doc:   "a PUT that overwrites a key stores the new value but answers, in data, the value the key held before (the answer is built from the map read before the merge)",
		Apply: echoesOldValues})
	register(Mutant{Name: "no-percent-decoding", Breaks: []string{"UA-GEN-007"},
		Doc: "the username is looked up as it appears in the raw path: %61lice is not alice",
		Apply: handlerOnly(before(func(r *http.Request) bool { return r.URL.EscapedPath() != r.URL.Path }, func(r *http.Request) {
			r.URL.Path, r.URL.RawPath = r.URL.EscapedPath(), ""
		}))})
}

// typed encodes each value as the JSON it looks like.
func typed(attrs map[string]string) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for k, v := range attrs {
		if v != "" && !strings.ContainsAny(v[:1], `"{[`) && json.Valid([]byte(v)) {
			out[k] = json.RawMessage(v)
		} else {
			out[k], _ = json.Marshal(v)
		}
	}
	return out
}

// putReplaces lets the reference merge and answer, then stores only the
// request's pairs.
func putReplaces(c *reference.Config) func(http.Handler) http.Handler {
	s := ensureStore(c)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rt := routeOf(r)
			if !rt.user(r, http.MethodPut) {
				next.ServeHTTP(w, r)
				return
			}
			pairs := parseForm(string(readBody(r)))
			resp := capture(next, r)
			if resp.status == http.StatusOK && len(pairs) > 0 {
				if cur, err := s.Load(rt.storeKey(), rt.storeUser()); err == nil {
					s.Commit(rt.storeKey(), rt.storeUser(), store.Write{Version: cur.Version, Attrs: pairs, Size: jsonSize(pairs), AppQuota: 1 << 62})
				}
			}
			resp.send(w)
		})
	}
}

// echoesOldValues answers a PUT with the values its keys held before it,
// for the keys it overwrote.
func echoesOldValues(c *reference.Config) func(http.Handler) http.Handler {
	s := ensureStore(c)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rt := routeOf(r)
			if !rt.user(r, http.MethodPut) {
				next.ServeHTTP(w, r)
				return
			}
			before, err := s.Load(rt.storeKey(), rt.storeUser())
			resp := capture(next, r)
			if err == nil && resp.status == http.StatusOK {
				resp.editJSON(func(obj map[string]json.RawMessage) {
					var data map[string]string
					if json.Unmarshal(obj["data"], &data) != nil {
						return
					}
					for k := range data {
						if old, had := before.Attrs[k]; had {
							data[k] = old
						}
					}
					obj["data"], _ = json.Marshal(data)
				})
			}
			resp.send(w)
		})
	}
}
