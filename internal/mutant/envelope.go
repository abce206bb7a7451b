package mutant

import (
	"encoding/json"
	"net/http"

	"github.com/attrconform/attrconform/reference"
)

// Envelope and error-shape defects, made by rewriting responses.
func init() {
	register(Mutant{Name: "batch-no-timestamp", Breaks: []string{"UA-GEN-003"},
		Doc: "the batch read's success body leaves out timestamp",
		Apply: handlerOnly(rewrite(batchOnly, func(_ *http.Request, resp *captured) {
			if resp.status < 300 {
				resp.editJSON(func(obj map[string]json.RawMessage) { delete(obj, "timestamp") })
			}
		}))})
	register(Mutant{Name: "batch-error-key", Breaks: []string{"UA-GEN-005"},
		Doc: "the batch read's success body carries an empty top-level error member",
		Apply: handlerOnly(rewrite(batchOnly, func(_ *http.Request, resp *captured) {
			if resp.status < 300 {
				resp.editJSON(func(obj map[string]json.RawMessage) { obj["error"] = json.RawMessage(`""`) })
			}
		}))})
	register(Mutant{Name: "errors-text-plain", Breaks: []string{"UA-GEN-006", "UA-ERR-001"},
		Doc: "error answers carry a plain-text body (the status text) instead of the JSON envelope",
		Apply: handlerOnly(rewrite(all, func(_ *http.Request, resp *captured) {
			if resp.status >= 400 {
				resp.header.Set("Content-Type", "text/plain; charset=utf-8")
				resp.body.Reset()
				resp.body.WriteString(http.StatusText(resp.status) + "\n")
			}
		}))})
	register(Mutant{Name: "error-no-description", Breaks: []string{"UA-ERR-001"},
		Doc: "error bodies keep error but lose error_description and desc",
		Apply: handlerOnly(rewrite(all, func(_ *http.Request, resp *captured) {
			if resp.status >= 400 {
				resp.editJSON(func(obj map[string]json.RawMessage) { delete(obj, "error_description"); delete(obj, "desc") })
			}
		}))})
	register(Mutant{Name: "wrong-method-404", Breaks: []string{"UA-GEN-009"},
		Doc: "a method the path does not have answers 404 service_resource_not_found instead of 405",
		Apply: handlerOnly(rewrite(all, func(r *http.Request, resp *captured) {
			if resp.status == http.StatusMethodNotAllowed {
				resp.status = http.StatusNotFound
				resp.header.Del("Allow")
				resp.editJSON(func(obj map[string]json.RawMessage) {
					obj["error"] = json.RawMessage(`"service_resource_not_found"`)
					text, _ := json.Marshal("Service resource not found: " + r.URL.Path)
					obj["error_description"], obj["desc"] = text, text
				})
			}
		}))})
	register(Mutant{Name: "unknown-app-wrong-error", Breaks: []string{"UA-GEN-001"}, Also: []string{"UA-ERR-001"},
		Doc: "an unknown org or app answers 404 with error service_resource_not_found instead of organization_application_not_found (the unknown-app spec checks the error member of the envelope, so it also carries UA-ERR-001)",
		Apply: handlerOnly(rewrite(all, func(_ *http.Request, resp *captured) {
			if resp.status == http.StatusNotFound {
				resp.editJSON(func(obj map[string]json.RawMessage) {
					if string(obj["error"]) == `"organization_application_not_found"` {
						obj["error"] = json.RawMessage(`"service_resource_not_found"`)
					}
				})
			}
		}))})
	register(Mutant{Name: "timestamp-in-seconds", Breaks: []string{"UA-GEN-003"},
		Doc: "success answers carry timestamp in Unix seconds instead of milliseconds (time.Now().Unix())",
		Apply: handlerOnly(rewrite(all, func(_ *http.Request, resp *captured) {
			if resp.status == http.StatusOK {
				resp.editJSON(func(obj map[string]json.RawMessage) { toSeconds(obj, "timestamp") })
			}
		}))})
	register(Mutant{Name: "user-batch-error-key", Breaks: []string{"UA-GEN-005"}, Also: []string{"UA-AUTH-007"},
		Doc:   "the batch read's success answers to user tokens (the client path) carry an empty top-level error member (the spec of UA-AUTH-007, a user token's batch read, sees the broken envelope too)",
		Apply: userBatchErrorKey})
	register(Mutant{Name: "batch-201", Breaks: []string{"UA-GEN-002"},
		Doc: "the batch read (a POST) answers 201 Created instead of 200",
		Apply: handlerOnly(rewrite(batchOnly, func(_ *http.Request, resp *captured) {
			if resp.status == http.StatusOK {
				resp.status = http.StatusCreated
			}
		}))})
}

func all(*http.Request) bool { return true }

// toSeconds turns a Unix-milliseconds member of obj into seconds.
func toSeconds(obj map[string]json.RawMessage, member string) {
	var ms int64
	if json.Unmarshal(obj[member], &ms) == nil {
		obj[member] = json.RawMessage(jsonInt(ms / 1000))
	}
}

// userBatchErrorKey adds "error": "" to successful batch answers to user tokens.
func userBatchErrorKey(c *reference.Config) func(http.Handler) http.Handler {
	t := tokensOf(c.Tenant)
	return rewrite(func(r *http.Request) bool { _, user := t.names[bearer(r)]; return user && batchOnly(r) }, func(_ *http.Request, resp *captured) {
		if resp.status == http.StatusOK {
			resp.editJSON(func(obj map[string]json.RawMessage) { obj["error"] = json.RawMessage(`""`) })
		}
	})
}

// batchOnly selects the batch read. The envelope defects are confined to
// it because the runner's preflight validates the capacity, GET and PUT
// answers against the contract before any spec runs, and stops the run
// (exit 2, no verdicts) when they break it: a defect there is reported,
// but not by a spec.
func batchOnly(r *http.Request) bool { return routeOf(r).batch(r) }
