package mutant

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
)

// Filter defects of the batch read, made by changing the request's
// properties before the reference reads them, or the answer after.
func init() {
	register(Mutant{Name: "batch-ignores-properties", Breaks: []string{"UA-BATCH-002", "UA-BATCH-003"},
		Doc: "batch get returns every attribute of each target, whatever properties asks for",
		Apply: handlerOnly(editBatchRequest(func(req map[string]json.RawMessage) {
			delete(req, "properties")
		}))})
	register(Mutant{Name: "batch-first-property-only", Breaks: []string{"UA-BATCH-002"},
		Doc: "batch get returns only the first of the requested properties",
		Apply: handlerOnly(editBatchRequest(func(req map[string]json.RawMessage) {
			var props []string
			if json.Unmarshal(req["properties"], &props) == nil && len(props) > 1 {
				req["properties"], _ = json.Marshal(props[:1])
			}
		}))})
	register(Mutant{Name: "batch-empty-for-missing", Breaks: []string{"UA-BATCH-003"},
		Doc:   "batch get lists requested properties a target does not have, with the value \"\"",
		Apply: handlerOnly(batchFillsMissing)})
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
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	})
}

func batchFillsMissing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !routeOf(r).batch(r) {
			next.ServeHTTP(w, r)
			return
		}
		var req struct {
			Properties []string `json:"properties"`
		}
		json.Unmarshal(readBody(r), &req)
		resp := capture(next, r)
		if resp.status == http.StatusOK {
			resp.editJSON(func(obj map[string]json.RawMessage) {
				var data map[string]map[string]string
				if json.Unmarshal(obj["data"], &data) != nil {
					return
				}
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
				obj["data"], _ = json.Marshal(data)
			})
		}
		resp.send(w)
	})
}
