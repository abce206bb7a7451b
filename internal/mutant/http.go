package mutant

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/reference/store"
	"github.com/attrconform/attrconform/target"
)

// What the handler wrappers of this package stand on: where a request
// goes, its body, the response it got, and the error envelope for the few
// answers a wrapper makes itself. None of this is used by the faithful
// reference.

// route is what a request addresses: /{org}/{app}/metadata/user/{rest},
// with rest percent-decoded (a username, "get" or "capacity").
type route struct {
	org, app, rest string
	ok             bool
}

func routeOf(r *http.Request) route {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 5)
	if len(parts) < 5 || parts[2] != "metadata" || parts[3] != "user" || parts[4] == "" {
		return route{}
	}
	return route{org: parts[0], app: parts[1], rest: parts[4], ok: true}
}

// appKeyOf is the store key of the app a request's path names
// (/{org}/{app}/...), whatever the rest of the path; "" without one.
func appKeyOf(r *http.Request) string {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[0] + "/" + parts[1]
}

// The operations as the reference routes them.
func (rt route) batch(r *http.Request) bool {
	return rt.ok && r.Method == http.MethodPost && rt.rest == "get"
}
func (rt route) capacity(r *http.Request) bool {
	return rt.ok && r.Method == http.MethodGet && rt.rest == "capacity"
}
func (rt route) user(r *http.Request, method string) bool {
	return rt.ok && r.Method == method && !rt.batch(r) && !rt.capacity(r)
}

// storeKey and storeUser are the keys the reference uses in its store.
func (rt route) storeKey() string  { return rt.org + "/" + rt.app }
func (rt route) storeUser() string { return target.FoldName(rt.rest) }

// readBody reads the request body and puts it back for the next handler.
func readBody(r *http.Request) []byte {
	if r.Body == nil {
		return nil
	}
	data, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body.Close()
	replaceBody(r, data)
	return data
}

// replaceBody gives the request a new body for the next handler.
func replaceBody(r *http.Request, body []byte) {
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
}

// captured is a response held back so that a wrapper can change it.
type captured struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func (c *captured) Header() http.Header         { return c.header }
func (c *captured) Write(b []byte) (int, error) { return c.body.Write(b) }
func (c *captured) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

// capture runs next and returns its response without sending it.
func capture(next http.Handler, r *http.Request) *captured {
	c := &captured{header: http.Header{}}
	next.ServeHTTP(c, r)
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c
}

// send writes a captured (and possibly changed) response.
func (c *captured) send(w http.ResponseWriter) {
	for k, v := range c.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(c.status)
	w.Write(c.body.Bytes())
}

// editJSON changes the top-level members of the captured JSON body.
func (c *captured) editJSON(edit func(obj map[string]json.RawMessage)) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(c.body.Bytes(), &obj) != nil {
		return
	}
	edit(obj)
	data, err := json.Marshal(obj)
	if err != nil {
		return
	}
	c.body.Reset()
	c.body.Write(data)
}

// rewrite sends the responses to the requests match selects through edit.
func rewrite(match func(*http.Request) bool, edit func(r *http.Request, resp *captured)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !match(r) {
				next.ServeHTTP(w, r)
				return
			}
			resp := capture(next, r)
			edit(r, resp)
			resp.send(w)
		})
	}
}

// before changes matching requests before the reference sees them.
func before(match func(*http.Request) bool, change func(r *http.Request)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if match(r) {
				change(r)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// writeData answers 200 with the reference's success envelope.
func writeData(w http.ResponseWriter, data any) {
	body, _ := json.Marshal(map[string]any{"timestamp": time.Now().UnixMilli(), "data": data, "duration": 0})
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// writeError answers with the reference's JSON error envelope.
func writeError(w http.ResponseWriter, status int, kind, text string) {
	body, _ := json.Marshal(map[string]any{
		"error": kind, "error_description": text, "desc": text,
		"timestamp": time.Now().UnixMilli(), "duration": 0,
	})
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	w.Write(body)
}

// parseForm decodes a form body as the reference does: lenient
// unescaping, the first occurrence of a key wins.
func parseForm(body string) map[string]string {
	pairs := map[string]string{}
	for part := range strings.SplitSeq(body, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = unescape(k), unescape(v)
		if _, seen := pairs[k]; !seen && k != "" {
			pairs[k] = v
		}
	}
	return pairs
}

// encodeForm is the form body of pairs, keys sorted.
func encodeForm(pairs map[string]string) string {
	v := url.Values{}
	for k, val := range pairs {
		v.Set(k, val)
	}
	return v.Encode()
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// jsonSize is the size the reference stores under its default metric.
func jsonSize(attrs map[string]string) int64 {
	n, _ := reference.MetricJSON.Measure(attrs) // it measures any map of strings
	return n
}

// compactJSON is the compact JSON of the map without HTML escaping.
func compactJSON(attrs map[string]string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(attrs)
	return strings.TrimSuffix(buf.String(), "\n")
}

// ensureStore gives the configuration its store now, so that a mutant can
// reach it from a handler wrapper.
func ensureStore(c *reference.Config) store.Store {
	if c.Store == nil {
		c.Store = store.NewMemory()
	}
	return c.Store
}

// tokens indexes the tenant's credentials.
type tokens struct {
	admin  map[string]string // app name -> admin token
	users  map[string]string // user token -> admin token of its app
	names  map[string]string // user token -> its folded username
	issued map[string]bool   // every token of every app
}

func tokensOf(t target.Tenant) tokens {
	out := tokens{admin: map[string]string{}, users: map[string]string{}, names: map[string]string{}, issued: map[string]bool{}}
	for _, a := range t.Apps {
		out.admin[a.Name] = a.AdminToken
		out.issued[a.AdminToken] = true
		for _, u := range a.Users {
			if u.Token != "" {
				out.users[u.Token] = a.AdminToken
				out.names[u.Token] = target.FoldName(u.Name)
				out.issued[u.Token] = true
			}
		}
	}
	return out
}

// isAdmin reports whether the request carries the admin token of the app
// in its path.
func (t tokens) isAdmin(r *http.Request) bool {
	admin, ok := t.admin[routeOf(r).app]
	return ok && bearer(r) == admin
}

// refuseMediaType answers 415 as the reference does for a body type it
// does not read.
func refuseMediaType(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "Content-Type '"+r.Header.Get("Content-Type")+"' is not supported.")
}

// bearer is the token of the request, or "".
func bearer(r *http.Request) string {
	scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// accounts lists the folded usernames with an account, per app name.
func accounts(t target.Tenant) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, a := range t.Apps {
		out[a.Name] = map[string]bool{}
		for _, u := range a.Users {
			out[a.Name][target.FoldName(u.Name)] = true
		}
	}
	return out
}

// disabledApps reports, per app name, whether the app has the feature off.
func disabledApps(t target.Tenant) map[string]bool {
	out := map[string]bool{}
	for _, a := range t.Apps {
		out[a.Name] = a.MetadataDisabled
	}
	return out
}
