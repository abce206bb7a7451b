package framework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/attrconform/attrconform/contract"
	"github.com/attrconform/attrconform/contract/wire"
	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/judge"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/redact"
	"github.com/attrconform/attrconform/target"
)

// Caller sends requests to one app as one principal. Callers are values:
// the With* methods return changed copies.
type Caller struct {
	env       *Env
	app       *target.App
	org       string // overrides the target's org when set
	principal string // for messages: "admin", "user alice", "no token"
	auth      string // the Authorization header; empty sends none
	off       string // why the requests deliberately break the contract
	noBudget  bool
	fault     string // the failure to ask a target with fault hooks for
	base      string // the node the requests go to; empty: the target's base_url (cluster.go)
	spread    bool   // Together spreads its requests over the nodes (cluster.go)
	// ctx, when set, bounds the requests instead of the run's context:
	// the cleanup's requests outlive a stopped run.
	ctx   context.Context
	share *share // budget taken ahead (Prepay)
	once  bool   // never retried (Prepay)
}

// Admin calls the main app with its admin (app) token.
func (e *Env) Admin() Caller { return e.AdminOf(&e.Target.App) }

// AdminOf calls app a with its admin token.
func (e *Env) AdminOf(a *target.App) Caller {
	return Caller{env: e, app: a, principal: "admin of " + a.Name, auth: "Bearer " + a.AdminToken}
}

// As calls the main app with u's user token.
func (e *Env) As(u target.User) Caller {
	return Caller{env: e, app: &e.Target.App, principal: "user " + u.Name, auth: "Bearer " + u.Token}
}

// WithoutToken sends no Authorization header.
func (c Caller) WithoutToken() Caller {
	c.principal, c.auth = "no token", ""
	return c.OffContract("the request carries no token")
}

// WithAuthorization sends the given Authorization header.
func (c Caller) WithAuthorization(h string) Caller {
	c.principal, c.auth = "Authorization "+h, h
	return c
}

// At addresses another org and app with the same credentials.
func (c Caller) At(org, app string) Caller {
	c.org, c.app = org, &target.App{Name: app}
	return c
}

// WithFault asks the target for a failure (wire.FaultStore or
// wire.FaultOverload); the spec is skipped unless the target declares
// fault_hooks. The requests go through the budget, and only a 429 is
// retried: the 500 or 503 asked for is the answer.
func (c Caller) WithFault(kind string) Caller {
	GinkgoHelper()
	if !c.env.Target.FaultHooks {
		Skip("needs a target with fault hooks (fault_hooks: true in the target file)")
	}
	c.fault = kind
	return c
}

// OffContract marks the requests as deliberately breaking the contract;
// only the responses are validated.
func (c Caller) OffContract(why string) Caller {
	c.off = why
	return c
}

// Unbudgeted sends without the client budget and without retries on 429,
// for the rate-limit specs.
func (c Caller) Unbudgeted() Caller {
	c.noBudget = true
	return c
}

// Put sets attributes with a form body.
func (c Caller) Put(user, form string) *Response {
	GinkgoHelper()
	return c.Must(c.Send(http.MethodPut, userPath(user), form, "application/x-www-form-urlencoded"))
}

// PutAs sends a PUT body with the given Content-Type.
func (c Caller) PutAs(user, body, contentType string) *Response {
	GinkgoHelper()
	return c.Must(c.Send(http.MethodPut, userPath(user), body, contentType))
}

// Get reads one user's attributes.
func (c Caller) Get(user string) *Response {
	GinkgoHelper()
	return c.Must(c.Send(http.MethodGet, userPath(user), "", ""))
}

// Delete removes one user's attributes.
func (c Caller) Delete(user string) *Response {
	GinkgoHelper()
	return c.Must(c.Send(http.MethodDelete, userPath(user), "", ""))
}

// Capacity reads the app's total attribute size.
func (c Caller) Capacity() *Response {
	GinkgoHelper()
	return c.Must(c.Send(http.MethodGet, "/metadata/user/capacity", "", ""))
}

// Batch reads properties of several users; nil properties are left out.
func (c Caller) Batch(targets, properties []string) *Response {
	GinkgoHelper()
	body := map[string]any{"targets": targets}
	if properties != nil {
		body["properties"] = properties
	}
	raw, _ := json.Marshal(body)
	return c.BatchBody(string(raw), "application/json")
}

// BatchBody sends a raw batch body with the given Content-Type.
func (c Caller) BatchBody(body, contentType string) *Response {
	GinkgoHelper()
	return c.Must(c.Send(http.MethodPost, "/metadata/user/get", body, contentType))
}

// Raw sends any request to path (relative to /{org}/{app}).
func (c Caller) Raw(method, path, body, contentType string) *Response {
	GinkgoHelper()
	return c.Must(c.Send(method, path, body, contentType))
}

func userPath(user string) string { return "/metadata/user/" + url.PathEscape(user) }

// Send sends one request to path (relative to /{org}/{app}) and returns
// the exchange, or the error that stopped it. It never fails the spec, so
// it may be called from any goroutine.
func (c Caller) Send(method, path, body, contentType string) (*Response, error) {
	req, cancel, err := c.request(method, path, body, contentType)
	if err != nil {
		return nil, err
	}
	defer cancel()
	r, err := c.do(req, body)
	if err == nil && c.noBudget && c.fault == "" && Unavailable(r) {
		// Outside the budget nothing retries it: not an answer to judge.
		return r, &UnavailableError{r}
	}
	return r, err
}

// request builds a request of c to path (relative to /{org}/{app}), with
// its time limit.
func (c Caller) request(method, path, body, contentType string) (*http.Request, context.CancelFunc, error) {
	parent := c.ctx
	if parent == nil {
		parent = c.env.run
	}
	ctx, cancel := context.WithTimeout(parent, c.env.RequestTimeout)
	if c.off != "" {
		ctx = contract.OffContract(ctx, c.off)
	}
	if c.noBudget {
		ctx = withoutBudget(ctx)
	}
	if c.share != nil {
		ctx = context.WithValue(ctx, shareKey{}, c.share)
	}
	if c.once {
		ctx = context.WithValue(ctx, onceKey{}, true)
	}
	org := c.env.Target.Org
	if c.org != "" {
		org = c.org
	}
	u := strings.TrimSuffix(c.baseURL(), "/") + "/" + url.PathEscape(org) + "/" + url.PathEscape(c.app.Name) + path
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	c.env.touched.add(c.app.Name, path, method)
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if c.fault != "" {
		req.Header.Set(wire.FaultHeader, c.fault)
	}
	return req, cancel, nil
}

// do sends req and reads the whole answer, noting when the request was
// written (the send time of a race's writers).
func (c Caller) do(req *http.Request, body string) (*Response, error) {
	var sent, started time.Time
	trace := &httptrace.ClientTrace{
		GotConn:      func(httptrace.GotConnInfo) { started = time.Now() },
		WroteRequest: func(httptrace.WroteRequestInfo) { sent = time.Now() },
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, err := c.env.http.Do(req)
	if err != nil {
		c.env.failed(err)
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.env.failed(err)
		return nil, err
	}
	c.env.answered()
	r := &Response{Exchange: evidence.Exchange{
		Method: req.Method, Path: req.URL.EscapedPath(), Principal: c.principal, RequestBody: body, Status: resp.StatusCode, ResponseBody: string(data),
		URL: req.URL.String(), RequestHeader: req.Header, Header: resp.Header, RequestSize: int64(len(body)), Sent: sent, Received: time.Now(),
	}, Started: started, redact: c.env.Redactor}
	if c.env.Clustered() {
		r.Node = req.URL.Host
	}
	_ = json.Unmarshal(data, &r.obj)
	remember(r)
	return r, nil
}

// Must turns a failed exchange into a failed spec: a contract violation is
// a FAIL with the validator's finding; anything else (network, budget) is
// a harness error, reported as ERROR.
func (c Caller) Must(r *Response, err error) *Response {
	GinkgoHelper()
	if err == nil {
		return r
	}
	c.env.abortIfStopped()
	var v *contract.Violation
	if errors.As(err, &v) {
		Failf("%s", v.Error())
	}
	HarnessError(err.Error())
	return nil
}

// HarnessError fails the spec as an ERROR, not a FAIL.
func HarnessError(msg string) {
	GinkgoHelper()
	Failf("%s%s", evidence.HarnessErrorPrefix, msg)
}

// Response is one exchange as the spec sees it: its Sent is when the
// request was last written to the connection.
type Response struct {
	evidence.Exchange
	// Started is when the request's last attempt got the connection,
	// before writing.
	Started time.Time
	obj     map[string]any
	redact  *redact.Redactor
}

// Answer is the answer as the model of the documents judges one.
func (r *Response) Answer() model.Answer { return judge.Answer(r.Exchange) }

// Field is a top-level field of the JSON body, or nil.
func (r *Response) Field(name string) any { return r.obj[name] }

// Has reports whether the JSON body has the top-level field.
func (r *Response) Has(name string) bool { _, ok := r.obj[name]; return ok }

// Text is the human error text (model.Reason).
func (r *Response) Text() string { return model.Reason(r.Answer()) }

// attrsOrNil is Attrs for code outside specs: nil when data is not a
// string map.
func (r *Response) attrsOrNil() map[string]string {
	raw, ok := r.rawData()
	var out map[string]string
	if ok {
		json.Unmarshal(raw, &out)
	}
	return out
}

// Attrs decodes data as a string map (a user's attributes); a null data is
// an empty map. It fails the spec if data has another shape.
func (r *Response) Attrs() map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	r.decodeData(&out)
	return out
}

// BatchData decodes data as username -> attributes.
func (r *Response) BatchData() map[string]map[string]string {
	GinkgoHelper()
	out := map[string]map[string]string{}
	r.decodeData(&out)
	return out
}

// Capacity decodes data as a JSON integer (model.Integer).
func (r *Response) Capacity() int64 {
	GinkgoHelper()
	raw, _ := r.rawData() // as sent: a decoded float would hide "26.0"
	n, ok := model.Integer(raw)
	if !ok {
		Failf("capacity data is not a JSON integer in %s", r)
	}
	return n
}

func (r *Response) decodeData(into any) {
	GinkgoHelper()
	raw, ok := r.rawData()
	if !ok {
		Failf("the body has no data field: %s", r)
	}
	if string(raw) == "null" {
		return
	}
	if err := json.Unmarshal(raw, into); err != nil {
		Failf("data has the wrong shape (%v): %s", err, r)
	}
}

func (r *Response) rawData() (json.RawMessage, bool) {
	var env map[string]json.RawMessage
	if json.Unmarshal([]byte(r.ResponseBody), &env) != nil {
		return nil, false
	}
	raw, ok := env["data"]
	return raw, ok
}

// String describes the exchange for failure messages: secrets redacted,
// then the body shortened.
func (r *Response) String() string {
	on := ""
	if r.Node != "" {
		on = " on " + r.Node
	}
	return r.redact.Redact(fmt.Sprintf("%s %s%s as %s -> %d %s", r.Method, r.Path, on, r.Principal, r.Status, r.redact.Excerpt(r.ResponseBody, 400)))
}
