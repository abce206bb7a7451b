package mutant

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/attrconform/attrconform/reference"
)

// Defects of error answers: their bodies, texts and headers, and the
// feature switch that makes some of them.
func init() {
	register(Mutant{Name: "error-timestamp-seconds", Breaks: []string{"UA-ERR-001"},
		Doc: "error answers carry timestamp in Unix seconds instead of milliseconds (the error path has its own clock call)",
		Apply: handlerOnly(rewrite(all, func(_ *http.Request, resp *captured) {
			if resp.status >= 400 {
				resp.editJSON(func(obj map[string]json.RawMessage) { toSeconds(obj, "timestamp") })
			}
		}))})
	register(Mutant{Name: "unknown-route-plain-404", Breaks: []string{"UA-GEN-006"},
		Doc: "a path under /{org}/{app}/metadata/ outside /metadata/user falls through to the web server's default: 404 with the text body '404 page not found'",
		Apply: handlerOnly(rewrite(outsideUserPaths, func(_ *http.Request, resp *captured) {
			if resp.status == http.StatusNotFound {
				resp.header.Set("Content-Type", "text/plain; charset=utf-8")
				resp.body.Reset()
				resp.body.WriteString("404 page not found\n")
			}
		}))})
	register(Mutant{Name: "unknown-user-404-text", Breaks: []string{"UA-ERR-002", "UA-PUT-009"},
		Doc: "the admin's PUT for a username without an account answers 404 with its own type and text (user_not_found, 'user not exist') instead of service_resource_not_found / 'Service resource not found'",
		Apply: handlerOnly(rewrite(func(r *http.Request) bool { return routeOf(r).user(r, http.MethodPut) }, func(_ *http.Request, resp *captured) {
			if resp.status == http.StatusNotFound {
				resp.editJSON(func(obj map[string]json.RawMessage) {
					if string(obj["error"]) != `"service_resource_not_found"` {
						return // an unknown app keeps its own answer
					}
					obj["error"] = json.RawMessage(`"user_not_found"`)
					obj["error_description"], obj["desc"] = json.RawMessage(`"user not exist"`), json.RawMessage(`"user not exist"`)
				})
			}
		}))})
	register(Mutant{Name: "rate-limit-generic-text", Breaks: []string{"UA-RATE-002", "UA-ERR-002"}, Also: []string{"UA-RATE-003"},
		Doc: "a request over the rate limit answers 429 with a generic type and text (too_many_requests, 'Too Many Requests') instead of reach_limit / 'This request has reached api limit' (the rate-limit spec checks Retry-After in the same answer, so it also carries UA-RATE-003)",
		Apply: handlerOnly(rewrite(all, func(_ *http.Request, resp *captured) {
			if resp.status == http.StatusTooManyRequests {
				resp.editJSON(func(obj map[string]json.RawMessage) {
					obj["error"] = json.RawMessage(`"too_many_requests"`)
					obj["error_description"], obj["desc"] = json.RawMessage(`"Too Many Requests"`), json.RawMessage(`"Too Many Requests"`)
				})
			}
		}))})
	register(Mutant{Name: "retry-after-http-date", Breaks: []string{"UA-RATE-003"}, Also: []string{"UA-RATE-002", "UA-ERR-002"},
		Doc: "429 answers give Retry-After as an HTTP date instead of a number of seconds (the rate-limit spec checks status, text and header of one answer, so it also carries UA-RATE-002 and UA-ERR-002)",
		Apply: handlerOnly(rewrite(all, func(_ *http.Request, resp *captured) {
			if resp.status == http.StatusTooManyRequests {
				resp.header.Set("Retry-After", time.Now().Add(time.Second).UTC().Format(http.TimeFormat))
			}
		}))})
	register(Mutant{Name: "store-failure-plain-500", Breaks: []string{"UA-ERR-004", "UA-GEN-006"},
		Doc: "a failing store surfaces as 500 with the text body 'Internal Server Error' instead of the JSON error envelope",
		Apply: handlerOnly(rewrite(all, func(_ *http.Request, resp *captured) {
			if resp.status == http.StatusInternalServerError {
				resp.header.Set("Content-Type", "text/plain; charset=utf-8")
				resp.body.Reset()
				resp.body.WriteString(http.StatusText(http.StatusInternalServerError) + "\n")
			}
		}))})
	register(Mutant{Name: "disabled-app-batch-open", Breaks: []string{"UA-ERR-003"},
		Doc:   "the batch read does not check the app's user-attributes switch: an app with the feature off answers its admin's batch read with 200",
		Apply: disabledBatchOpen})
}

// outsideUserPaths selects paths under /{org}/{app}/metadata/ that are
// not /metadata/user or below it.
func outsideUserPaths(r *http.Request) bool {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 4)
	return len(parts) == 4 && parts[2] == "metadata" && parts[3] != "user" && !strings.HasPrefix(parts[3], "user/")
}

// disabledBatchOpen answers the admin's batch read of a disabled app with
// an empty success instead of the reference's 403.
func disabledBatchOpen(c *reference.Config) func(http.Handler) http.Handler {
	t := tokensOf(c.Tenant)
	off := disabledApps(c.Tenant)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if rt := routeOf(r); rt.batch(r) && off[rt.app] && rt.org == c.Tenant.Org && t.isAdmin(r) {
				writeData(w, map[string]any{})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
