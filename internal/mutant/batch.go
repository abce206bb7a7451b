package mutant

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"

	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/reference"
)

// Filter defects of the batch read, made by changing the request's
// properties before the reference reads them, or the answer after.
func init() {
	register(Mutant{Name: "batch-charset-refused", Breaks: []string{"UA-BATCH-001"}, Also: []string{"UA-ERR-002"},
		Doc: "the batch read takes only the exact Content-Type application/json: with a charset parameter it answers 415 (a status the documents do not give the batch read: the single-exchange rules see it, for UA-ERR-002)",
		Apply: handlerOnly(refuseWhen(func(r *http.Request) bool {
			return routeOf(r).batch(r) && strings.Contains(r.Header.Get("Content-Type"), ";")
		}))})
	register(Mutant{Name: "batch-form-type-refused", Breaks: []string{"UA-BATCH-011"}, Also: []string{"UA-ERR-002"},
		Doc: "the batch read refuses a JSON body sent with a form Content-Type with 415 (the Go SDK that switches its content type after a PUT cannot read profiles; 415 is a status the documents do not give the batch read: the single-exchange rules see it, for UA-ERR-002)",
		Apply: handlerOnly(refuseWhen(func(r *http.Request) bool {
			return routeOf(r).batch(r) && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
		}))})
	register(Mutant{Name: "batch-shares-map", Breaks: []string{"UA-BATCH-002"},
		Doc:   "the batch read fills one map for all targets: each target found is answered with its attributes merged into those of the targets found before it",
		Apply: handlerOnly(editBatchData(shareMap))})
	register(Mutant{Name: "batch-miss-leaks", Breaks: []string{"UA-BATCH-007"},
		Doc:   "a target without matches is answered with the attributes of the target before it (the loop's result variable is not reset for a miss)",
		Apply: handlerOnly(editBatchData(leakToMisses))})
	register(Mutant{Name: "batch-empty-targets-ok", Breaks: []string{"UA-BATCH-008"},
		Doc: "a batch with an empty targets array answers 200 with data {} instead of 400 (nothing validates the list before the loop)",
		Apply: handlerOnly(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var req struct {
					Targets json.RawMessage `json:"targets"`
				}
				if routeOf(r).batch(r) && json.Unmarshal(readBody(r), &req) == nil && string(req.Targets) == "[]" {
					writeData(w, map[string]any{})
					return
				}
				next.ServeHTTP(w, r)
			})
		})})
	register(Mutant{Name: "batch-keys-lowercased", Breaks: []string{"UA-BATCH-010"}, Also: []string{"UA-NAME-003"}, Profile: profile.Current,
		Doc: "the batch read keys data by the lower-cased username instead of the target as sent, where the server's profile says as sent (judged with profile current; the spec also reads the user case-insensitively, for UA-NAME-003)",
		Apply: configOnly(func(c *reference.Config) {
			c.Profile, _ = c.Profile.With(map[string]string{string(profile.BatchKeyCase): "lowercase"})
		})})
	register(Mutant{Name: "batch-no-match-204", Breaks: []string{"UA-GEN-002", "UA-GEN-006", "UA-BATCH-007"},
		Doc: "a batch read where no target matches answers 204 No Content with an empty body instead of 200 with data {}",
		Apply: handlerOnly(rewrite(batchOnly, func(_ *http.Request, resp *captured) {
			var body struct {
				Data map[string]json.RawMessage `json:"data"`
			}
			if resp.status == http.StatusOK && json.Unmarshal(resp.body.Bytes(), &body) == nil && body.Data != nil && len(body.Data) == 0 {
				resp.status = http.StatusNoContent
				resp.header.Del("Content-Type")
				resp.body.Reset()
			}
		}))})
	register(Mutant{Name: "batch-duplicate-target-400", Breaks: []string{"UA-BATCH-009"},
		Doc: "a batch naming a username twice answers 400 instead of one entry (strict validation of targets)",
		Apply: handlerOnly(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var req struct {
					Targets []string `json:"targets"`
				}
				if routeOf(r).batch(r) && json.Unmarshal(readBody(r), &req) == nil {
					seen := map[string]bool{}
					for _, t := range req.Targets {
						if seen[t] {
							writeError(w, http.StatusBadRequest, "illegal_argument", "targets name "+t+" twice")
							return
						}
						seen[t] = true
					}
				}
				next.ServeHTTP(w, r)
			})
		})})
	register(Mutant{Name: "batch-ignores-properties", Breaks: []string{"UA-BATCH-002", "UA-BATCH-003"},
		Also: []string{"UA-BATCH-001", "UA-BATCH-005", "UA-BATCH-007", "UA-BATCH-009", "UA-BATCH-010", "UA-BATCH-011", "UA-NAME-003"},
		Doc:  "batch get returns every attribute of each target, whatever properties asks for (every batch spec asks for properties and holds the answer's data to them, UA-BATCH-001, UA-BATCH-005, UA-BATCH-007, UA-BATCH-009, UA-BATCH-010, UA-BATCH-011 and UA-NAME-003 among them)",
		Apply: handlerOnly(editBatchRequest(func(req map[string]json.RawMessage) {
			delete(req, "properties")
		}))})
	register(Mutant{Name: "batch-first-property-only", Breaks: []string{"UA-BATCH-002"}, Also: []string{"UA-BATCH-003"},
		Doc: "batch get returns only the first of the requested properties (the filter spec of UA-BATCH-003 asks for two and sees one missing)",
		Apply: handlerOnly(editBatchRequest(func(req map[string]json.RawMessage) {
			var props []string
			if json.Unmarshal(req["properties"], &props) == nil && len(props) > 1 {
				req["properties"], _ = json.Marshal(props[:1])
			}
		}))})
	register(Mutant{Name: "batch-empty-for-missing", Breaks: []string{"UA-BATCH-002", "UA-BATCH-003"}, Also: []string{"UA-CONC-001", "UA-CONC-003"},
		Doc:   "batch get lists requested properties a target does not have, with the value \"\" (the race specs' histories read with batches too: a filled-in property is a read no order of the writes explains, UA-CONC-001 and UA-CONC-003)",
		Apply: handlerOnly(editBatchData(fillMissing))})
}

// editBatchRequest changes the JSON body of batch requests.
func editBatchRequest(edit func(req map[string]json.RawMessage)) func(http.Handler) http.Handler {
	return before(func(r *http.Request) bool { return routeOf(r).batch(r) }, func(r *http.Request) {
		var req map[string]json.RawMessage
		if json.Unmarshal(readBody(r), &req) != nil {
			return
		}
		edit(req)
		body, _ := json.Marshal(req)
		replaceBody(r, body)
	})
}

// fillMissing lists each requested property a found target lacks, with
// the value "".
func fillMissing(_ *http.Request, req batchRequest, data map[string]map[string]string) {
	for _, attrs := range data {
		if attrs == nil {
			continue
		}
		for _, p := range req.Properties {
			if _, has := attrs[p]; !has {
				attrs[p] = ""
			}
		}
	}
}

// batchRequest is the body of a batch read, as far as the mutants read it.
type batchRequest struct {
	Targets    []string `json:"targets"`
	Properties []string `json:"properties"`
}

// editBatchData passes the data of successful batch answers, with the
// request and its body, through edit.
func editBatchData(edit func(r *http.Request, req batchRequest, data map[string]map[string]string)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !routeOf(r).batch(r) {
				next.ServeHTTP(w, r)
				return
			}
			var req batchRequest
			json.Unmarshal(readBody(r), &req)
			resp := capture(next, r)
			if resp.status == http.StatusOK {
				resp.editJSON(func(obj map[string]json.RawMessage) {
					var data map[string]map[string]string
					if json.Unmarshal(obj["data"], &data) == nil {
						edit(r, req, data)
						obj["data"], _ = json.Marshal(data)
					}
				})
			}
			resp.send(w)
		})
	}
}

// shareMap merges each found target's attributes into those of the
// targets found before it.
func shareMap(_ *http.Request, req batchRequest, data map[string]map[string]string) {
	acc := map[string]string{}
	for _, t := range req.Targets {
		if len(data[t]) == 0 {
			continue
		}
		maps.Copy(acc, data[t])
		data[t] = maps.Clone(acc)
	}
}

// leakToMisses gives each target without matches the attributes of the
// target before it.
func leakToMisses(_ *http.Request, req batchRequest, data map[string]map[string]string) {
	var prev map[string]string
	for _, t := range req.Targets {
		if len(data[t]) > 0 {
			prev = data[t]
		} else if prev != nil {
			data[t] = prev
		}
	}
}
