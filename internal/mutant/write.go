package mutant

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"

	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/reference/store"
)

// Defects of writing and reading attributes.
func init() {
	register(Mutant{Name: "put-replaces", Breaks: []string{"UA-PUT-004"},
		Doc:   "a successful PUT replaces the user's whole map with its own pairs instead of merging them",
		Apply: replacesWhen(func(tokens, *http.Request) bool { return true })})
	register(Mutant{Name: "numeric-values", Breaks: []string{"UA-PUT-006"},
		Doc: "values that look like JSON numbers, booleans or null are returned as such, not as strings (GET and batch)",
		Apply: handlerOnly(typedValues(func(v string) bool {
			return v != "" && !strings.ContainsAny(v[:1], `"{[`) && json.Valid([]byte(v))
		}))})
	register(Mutant{Name: "boolean-values-typed", Breaks: []string{"UA-PUT-006", "UA-GET-001"},
		Doc:   "the values true, false and null are returned as JSON literals, not as strings (GET and batch): a loosely typed value column",
		Apply: handlerOnly(typedValues(func(v string) bool { return v == "true" || v == "false" || v == "null" }))})
	register(Mutant{Name: "user-put-replaces", Breaks: []string{"UA-PUT-004"},
		Doc:   "a PUT with a user token (the client SDKs' 'update own info') replaces the user's map with its pairs; the admin's PUT merges",
		Apply: replacesWhen(func(t tokens, r *http.Request) bool { _, user := t.names[bearer(r)]; return user })})
	register(Mutant{Name: "empty-value-keeps-old", Breaks: []string{"UA-PUT-007"},
		Doc:   "key= never overwrites a value the user already has: an empty value counts as 'not sent', so a field cannot be cleared",
		Apply: emptyKeepsOld})
	register(Mutant{Name: "empty-put-clears", Breaks: []string{"UA-PUT-008"},
		Doc:   "a PUT without pairs answers 200 and removes every attribute of the user (the empty map replaces the stored one)",
		Apply: emptyPutClears})
	register(Mutant{Name: "put-unknown-user-created", Breaks: []string{"UA-PUT-009"}, Also: []string{"UA-ERR-002"}, Profile: profile.Current,
		Doc: "the admin's PUT for a username without an account answers 200 (the account is created on the fly), where the server's profile says 404 (judged with profile current; the 404 spec also checks the 404's text, UA-ERR-002)",
		Apply: configOnly(func(c *reference.Config) {
			c.Profile, _ = c.Profile.With(map[string]string{string(profile.PutUnknownUserAsAdmin): "200"})
		})})
	register(Mutant{Name: "put-collection-writes-all", Breaks: []string{"UA-PUT-013"},
		Doc:   "a PUT to /metadata/user without a username writes its pairs to every user of the app (a batch set the API does not have)",
		Apply: writesAll})
	register(Mutant{Name: "put-echoes-old-value", Breaks: []string{"UA-PUT-005"}, Fixture: minimal,
		Doc:   "a PUT that overwrites a key stores the new value but answers, in data, the value the key held before (the answer is built from the map read before the merge)",
		Apply: echoesOldValues})
	register(Mutant{Name: "no-percent-decoding", Breaks: []string{"UA-GEN-007"},
		Doc: "the username is looked up as it appears in the raw path: %61lice is not alice",
		Apply: handlerOnly(before(func(r *http.Request) bool { return r.URL.EscapedPath() != r.URL.Path }, func(r *http.Request) {
			r.URL.Path, r.URL.RawPath = r.URL.EscapedPath(), ""
		}))})
}

// typedValues answers GET and batch with the values looks selects
// encoded as the JSON they look like, not as strings.
func typedValues(looks func(string) bool) func(http.Handler) http.Handler {
	typed := func(attrs map[string]string) map[string]json.RawMessage {
		out := map[string]json.RawMessage{}
		for k, v := range attrs {
			if looks(v) && json.Valid([]byte(v)) {
				out[k] = json.RawMessage(v)
			} else {
				out[k], _ = json.Marshal(v)
			}
		}
		return out
	}
	return rewrite(func(r *http.Request) bool {
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
	})
}

// replacesWhen lets the reference merge and answer the PUTs when selects,
// then stores only the request's pairs.
func replacesWhen(when func(t tokens, r *http.Request) bool) func(*reference.Config) func(http.Handler) http.Handler {
	return func(c *reference.Config) func(http.Handler) http.Handler {
		s := ensureStore(c)
		t := tokensOf(c.Tenant)
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rt := routeOf(r)
				if !rt.user(r, http.MethodPut) || !when(t, r) {
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
}

// emptyKeepsOld drops from a PUT the empty values of keys the user has.
func emptyKeepsOld(c *reference.Config) func(http.Handler) http.Handler {
	s := ensureStore(c)
	return before(func(r *http.Request) bool { return routeOf(r).user(r, http.MethodPut) }, func(r *http.Request) {
		rt := routeOf(r)
		cur, err := s.Load(rt.storeKey(), rt.storeUser())
		if err != nil {
			return
		}
		pairs := parseForm(string(readBody(r)))
		dropped := false
		for k, v := range pairs {
			if _, has := cur.Attrs[k]; has && v == "" {
				delete(pairs, k)
				dropped = true
			}
		}
		if dropped {
			replaceBody(r, []byte(encodeForm(pairs)))
		}
	})
}

// emptyPutClears deletes the user's attributes after a successful PUT
// without pairs.
func emptyPutClears(c *reference.Config) func(http.Handler) http.Handler {
	s := ensureStore(c)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rt := routeOf(r)
			if !rt.user(r, http.MethodPut) || len(parseForm(string(readBody(r)))) > 0 {
				next.ServeHTTP(w, r)
				return
			}
			resp := capture(next, r)
			if resp.status == http.StatusOK {
				s.Delete(rt.storeKey(), rt.storeUser())
				resp.editJSON(func(obj map[string]json.RawMessage) { obj["data"] = json.RawMessage("{}") })
			}
			resp.send(w)
		})
	}
}

// writesAll serves the admin's PUT on /{org}/{app}/metadata/user by
// merging its pairs into every user of the app.
func writesAll(c *reference.Config) func(http.Handler) http.Handler {
	s := ensureStore(c)
	t := tokensOf(c.Tenant)
	users := accounts(c.Tenant)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
			if r.Method != http.MethodPut || len(parts) != 4 || parts[0] != c.Tenant.Org || parts[2] != "metadata" || parts[3] != "user" || bearer(r) != t.admin[parts[1]] {
				next.ServeHTTP(w, r)
				return
			}
			pairs := parseForm(string(readBody(r)))
			key := parts[0] + "/" + parts[1]
			for user := range users[parts[1]] {
				cur, err := s.Load(key, user)
				if err != nil {
					continue
				}
				merged := maps.Clone(cur.Attrs)
				if merged == nil {
					merged = map[string]string{}
				}
				maps.Copy(merged, pairs)
				s.Commit(key, user, store.Write{Version: cur.Version, Attrs: merged, Size: jsonSize(merged), AppQuota: 1 << 62})
			}
			writeData(w, pairs)
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
