package mutant

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// Defects of reading a PUT body: its content type and its decoding.
func init() {
	register(Mutant{Name: "form-charset-refused", Breaks: []string{"UA-PUT-001"},
		Doc: "a PUT is read only with the exact Content-Type application/x-www-form-urlencoded: with a charset parameter it answers 415",
		Apply: handlerOnly(refuseWhen(func(r *http.Request) bool {
			return routeOf(r).user(r, http.MethodPut) && strings.Contains(r.Header.Get("Content-Type"), ";")
		}))})
	register(Mutant{Name: "put-json-accepted", Breaks: []string{"UA-PUT-002"}, Also: []string{"UA-LIMIT-006"},
		Doc: "a PUT with a JSON object body is read as if it were a form (the newer page's 'JSON String' taken literally) and stored with 200 instead of refused with 415 (the 415 spec also checks, for UA-LIMIT-006, that the refused body stored nothing)",
		Apply: handlerOnly(before(func(r *http.Request) bool {
			mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			return routeOf(r).user(r, http.MethodPut) && mt == "application/json"
		}, func(r *http.Request) {
			var obj map[string]any
			if json.Unmarshal(readBody(r), &obj) != nil {
				return
			}
			pairs := map[string]string{}
			for k, v := range obj {
				pairs[k] = fmt.Sprint(v)
			}
			replaceBody(r, []byte(encodeForm(pairs)))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}))})
	register(Mutant{Name: "plus-not-space", Breaks: []string{"UA-PUT-003"},
		Doc: "the form body is decoded with path rules: '+' stays a plus sign instead of meaning a space",
		Apply: handlerOnly(before(func(r *http.Request) bool { return routeOf(r).user(r, http.MethodPut) }, func(r *http.Request) {
			replaceBody(r, []byte(strings.ReplaceAll(string(readBody(r)), "+", "%2B")))
		}))})
}

// refuseWhen answers the requests when selects with 415.
func refuseWhen(when func(*http.Request) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if when(r) {
				refuseMediaType(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
