package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/redact"
)

// MaxBodyBytes bounds what is read of one body. It is far above the
// largest answer the documents allow (a batch of 100 users of 2 KB each,
// about 250 KB): a longer answer is a violation, and is not read further.
const MaxBodyBytes = 4 << 20

// The JSON handed to kin-openapi is bounded in depth and width as well:
// the documented bodies nest four levels deep and hold a few hundred
// members at most, and kin-openapi decodes and walks whatever it is given.
const (
	maxDepth   = 32
	maxMembers = 100_000
)

// Violation is an exchange the contract does not allow. Its message names
// the validator's finding, the method, path and status, and an excerpt of
// the body; tokens are redacted by the transport that made it.
type Violation struct {
	Side      string // "request" or "response"
	Method    string
	Path      string
	Status    int
	Operation string
	Finding   string
	Excerpt   string
	// Header and Body are the answer of a response violation, as it came
	// (unredacted: for judging it further, never for printing; Excerpt is
	// what to show).
	Header http.Header
	Body   []byte
}

func (v *Violation) Error() string {
	status := ""
	if v.Status != 0 {
		status = fmt.Sprintf(" -> %d", v.Status)
	}
	op := ""
	if v.Operation != "" {
		op = " (" + v.Operation + ")"
	}
	return fmt.Sprintf("contract violation in the %s of %s %s%s%s: %s\n  body: %s", v.Side, v.Method, v.Path, op, status, v.Finding, v.Excerpt)
}

type offContractKey struct{}

// OffContract marks a request that deliberately breaks the contract (a
// missing token, a JSON PUT, 101 targets, a wrong method): its request is
// not validated, but its response still is, against the operation when
// the route is documented, else against the error envelope.
func OffContract(ctx context.Context, why string) context.Context {
	return context.WithValue(ctx, offContractKey{}, why)
}

func isOffContract(ctx context.Context) bool { return ctx.Value(offContractKey{}) != nil }

// Transport validates each exchange against the contract and records which
// (operation, status) pairs were seen.
type Transport struct {
	Contract *Contract
	Base     http.RoundTripper
	// Redact removes secrets from what a Violation quotes.
	Redact func(string) string
	// Coverage, when set, records every validated exchange.
	Coverage *Coverage
	// Observe, when set, is given every exchange the target answered, its
	// bodies whole (or the answer's first MaxBodyBytes), with what the
	// contract found, before RoundTrip returns.
	Observe func(evidence.Exchange, Checked)
}

type checkedKey struct{}

// CheckRequest validates req ahead of sending it and returns it marked as
// checked, so that RoundTrip does not validate it again: requests that
// must leave at one precise moment (a race's writers) pay for validation
// beforehand. A violation is returned as a *Violation error.
func (t *Transport) CheckRequest(req *http.Request) (*http.Request, error) {
	body, err := readAll(req.Body, -1)
	if err != nil {
		return nil, err
	}
	restore := func() {
		if req.Body != nil {
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
	}
	restore()
	if !isOffContract(req.Context()) {
		m := t.Contract.match(req)
		if finding := m.checkRequest(); finding != "" {
			return nil, violation(t.Redact, "request", req, 0, m.op, finding, body)
		}
		restore()
	}
	return req.WithContext(context.WithValue(req.Context(), checkedKey{}, true)), nil
}

// RoundTrip validates the request, sends it, and validates the response.
// A violation is returned as a *Violation error.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	reqBody, err := readAll(req.Body, -1)
	if req.Body != nil {
		req.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	restore := func() {
		if reqBody != nil {
			req.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
	}
	restore()
	m := t.Contract.match(req)
	if !isOffContract(req.Context()) && req.Context().Value(checkedKey{}) == nil {
		if finding := m.checkRequest(); finding != "" {
			return nil, violation(t.Redact, "request", req, 0, m.op, finding, reqBody)
		}
		restore()
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	sent := time.Now()
	resp, err := base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := readAll(resp.Body, MaxBodyBytes+1)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the response of %s %s: %w", req.Method, req.URL.Path, err)
	}
	checked := Checked{Operation: m.op, MethodNotAllowed: errors.Is(m.routeErr, routers.ErrMethodNotAllowed)}
	cut := len(body) > MaxBodyBytes
	switch {
	case cut:
		body = body[:MaxBodyBytes]
		checked.Response = violation(t.Redact, "response", req, resp.StatusCode, m.op, tooLong("answer", resp.ContentLength), body)
	default:
		if finding := t.Contract.checkResponse(m, resp.StatusCode, resp.Header, body); finding != "" {
			checked.Response = violation(t.Redact, "response", req, resp.StatusCode, m.op, finding, body)
			checked.Response.Header, checked.Response.Body = resp.Header, body
		}
	}
	if t.Observe != nil {
		t.Observe(evidence.Exchange{
			Method: req.Method, Path: req.URL.EscapedPath(), URL: req.URL.String(), RequestHeader: req.Header,
			RequestBody: string(reqBody), RequestSize: int64(len(reqBody)),
			Status: resp.StatusCode, Header: resp.Header, ResponseBody: string(body), ResponseCut: cut,
			Sent: sent, Received: time.Now(),
		}, checked)
	}
	if checked.Response != nil {
		return nil, checked.Response
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if t.Coverage != nil && m.op != "" {
		t.Coverage.Add(m.op, resp.StatusCode)
	}
	return resp, nil
}

// match is a request's place in the contract.
type match struct {
	req *http.Request
	// op is the documented operation, "" when no route matches.
	op       string
	in       *openapi3filter.RequestValidationInput
	routeErr error
}

// validationOptions keep the offending value out of kin-openapi's
// messages: by default they quote the whole document, pretty-printed, at
// every level it nests.
var (
	schemaOptions     = []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails(), openapi3.SetSchemaErrorMessageCustomizer(schemaMessage)}
	validationOptions = &openapi3filter.Options{IncludeResponseStatus: true, AuthenticationFunc: bearerPresent, SchemaValidationOptions: schemaOptions}
)

// schemaMessage is a schema error as a finding: where and why, and the
// schema it broke when the reason alone would not say (ours, and small),
// never the value (the target's, and maybe huge).
func schemaMessage(err *openapi3.SchemaError) string {
	var b strings.Builder
	if p := err.JSONPointer(); len(p) > 0 {
		fmt.Fprintf(&b, "Error at %q: ", "/"+strings.Join(p, "/"))
	}
	switch {
	case err.Origin != nil:
		b.WriteString(err.Origin.Error())
	case err.Reason != "":
		b.WriteString(err.Reason)
	default:
		schema, _ := json.Marshal(err.Schema)
		fmt.Fprintf(&b, "doesn't match schema %q: %s", err.SchemaField, redact.Shorten(string(schema), 300))
	}
	return b.String()
}

func (c *Contract) match(req *http.Request) match {
	route, params, err := c.findRoute(req)
	m := match{req: req, routeErr: err}
	if err == nil {
		m.op = route.Operation.OperationID
		m.in = &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: validationOptions}
	}
	return m
}

// checkRequest is what the contract finds wrong with the request, or "".
// It reads the request's body.
func (m match) checkRequest() string {
	if m.routeErr != nil {
		return "no documented operation: " + m.routeErr.Error()
	}
	if err := openapi3filter.ValidateRequest(m.req.Context(), m.in); err != nil {
		return findings(err)
	}
	return ""
}

// checkResponse is what the contract finds wrong with the answer, or "":
// against the operation when the route is documented, else against the
// error envelope.
// A redirect is an answer like any other: the suite and the proxy never
// follow one, and a finding about it says where it pointed.
func (c *Contract) checkResponse(m match, status int, header http.Header, body []byte) string {
	finding := c.responseFinding(m, status, header, body)
	if finding != "" && status >= 300 && status < 400 {
		where := "nowhere (no Location header)"
		if loc := header.Get("Location"); loc != "" {
			where = redact.Shorten(loc, maxExcerpt)
		}
		finding += fmt.Sprintf("; the answer is a redirect to %s, which was not followed", where)
	}
	return finding
}

func (c *Contract) responseFinding(m match, status int, header http.Header, body []byte) string {
	if finding := shape(body); finding != "" {
		return finding
	}
	if m.routeErr == nil && status >= 300 && status < 400 && m.in.Route.Operation.Responses.Status(status) == nil {
		return fmt.Sprintf("status %d is not documented for %s", status, m.op) // kin-openapi lets redirects pass
	}
	if m.routeErr != nil {
		if err := c.validateError(status, header, body); err != nil {
			return err.Error()
		}
		return ""
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: m.in, Status: status, Header: header, Options: validationOptions}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(m.req.Context(), out); err != nil {
		return findings(err)
	}
	return ""
}

// Checked is what the contract says of an exchange.
type Checked struct {
	// Operation is the documented operation, "" when no route matches.
	Operation string
	// MethodNotAllowed: the path is documented, the method is not.
	MethodNotAllowed bool
	// Request and Response are the violations of each side, or nil.
	Request, Response *Violation
}

// Check validates an exchange after the fact, as a proxy sees it: the same
// findings Transport makes before and after sending. Its bodies are read
// in full or to MaxBodyBytes (RequestCut, ResponseCut: a longer answer is
// a violation; a longer or unfinished request body is not validated).
// redact removes secrets from what the violations quote.
func (c *Contract) Check(x evidence.Exchange, redact func(string) string) (Checked, error) {
	req, err := http.NewRequest(x.Method, x.URL, strings.NewReader(x.RequestBody))
	if err != nil {
		return Checked{}, fmt.Errorf("the exchange's request: %w", err)
	}
	maps.Copy(req.Header, x.RequestHeader)
	m := c.match(req)
	out := Checked{Operation: m.op, MethodNotAllowed: errors.Is(m.routeErr, routers.ErrMethodNotAllowed)}
	var finding string
	switch {
	case !x.RequestCut:
		finding = m.checkRequest()
	case len(x.RequestBody) >= MaxBodyBytes:
		finding = tooLong("request body", -1)
	}
	if finding != "" {
		out.Request = violation(redact, "request", req, 0, m.op, finding, []byte(x.RequestBody))
	}
	finding = tooLong("answer", -1)
	if !x.ResponseCut {
		finding = c.checkResponse(m, x.Status, x.Header, []byte(x.ResponseBody))
	}
	if finding != "" {
		out.Response = violation(redact, "response", req, x.Status, m.op, finding, []byte(x.ResponseBody))
	}
	return out, nil
}

// tooLong is the finding of a body over MaxBodyBytes; declared is its
// Content-Length, or -1.
func tooLong(what string, declared int64) string {
	size := fmt.Sprintf("more than %d bytes", MaxBodyBytes)
	if declared > MaxBodyBytes {
		size += fmt.Sprintf(" (Content-Length %d)", declared)
	}
	return fmt.Sprintf("the %s is %s, beyond any the contract allows (the largest documented answer, a batch of 100 users of 2 KB each, is about 250 KB); it was not read further", what, size)
}

// shape is what is wrong with the shape of a JSON body before any schema
// is applied: nested deeper than maxDepth, or a container of more than
// maxMembers members. Anything else, invalid JSON included, is left to
// the validator ("").
func shape(body []byte) string {
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || (t[0] != '{' && t[0] != '[') {
		return ""
	}
	type level struct {
		object bool
		tokens int
	}
	var open []level
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if len(open) > 0 {
			top := &open[len(open)-1]
			if d, ok := tok.(json.Delim); !ok || d == '{' || d == '[' {
				top.tokens++
			}
			members, kind := top.tokens, "array"
			if top.object {
				members, kind = top.tokens/2, "object"
			}
			if members > maxMembers {
				return fmt.Sprintf("the body holds a JSON %s of more than %d members, beyond any the contract allows; it was not validated further", kind, maxMembers)
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if open = append(open, level{object: tok == json.Delim('{')}); len(open) > maxDepth {
				return fmt.Sprintf("the body nests JSON more than %d levels deep, beyond any the contract allows; it was not validated further", maxDepth)
			}
		case json.Delim('}'), json.Delim(']'):
			open = open[:len(open)-1]
		}
	}
}

// validateError checks a response to an undocumented route: it must be an
// error status carrying the documented error envelope.
func (c *Contract) validateError(status int, header http.Header, body []byte) error {
	if status < 400 {
		return fmt.Errorf("an undocumented route answered %d; only an error status is allowed", status)
	}
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("error answer has Content-Type %q, want application/json", ct)
	}
	ref := c.doc.Components.Schemas["Error"]
	if ref == nil || ref.Value == nil {
		return errors.New("the contract has no Error schema")
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("error answer is not JSON: %v", err)
	}
	if err := ref.Value.VisitJSON(v, schemaOptions...); err != nil {
		return fmt.Errorf("error answer does not match the Error schema: %v", err)
	}
	return nil
}

func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if !strings.HasPrefix(h, "Bearer ") || len(h) == len("Bearer ") {
		return errors.New("the request carries no bearer token")
	}
	return nil
}

// How much of a finding and of a body a violation quotes.
const (
	maxFinding = 2048
	maxExcerpt = 300
)

// violation describes what the contract found wrong, every part redacted
// before it is shortened: a cut must not leave half a token behind.
func violation(redactFn func(string) string, side string, req *http.Request, status int, op, finding string, body []byte) *Violation {
	if redactFn == nil {
		redactFn = (*redact.Redactor)(nil).Redact
	}
	return &Violation{
		Side: side, Method: req.Method, Path: redact.Shorten(redactFn(req.URL.RequestURI()), maxExcerpt), Status: status, Operation: op,
		Finding: redact.Shorten(redactFn(finding), maxFinding), Excerpt: excerpt(redactFn, body),
	}
}

// findings flattens kin-openapi's errors to one readable line each.
func findings(err error) string {
	var me openapi3.MultiError
	if errors.As(err, &me) {
		parts := make([]string, len(me))
		for i, e := range me {
			parts[i] = e.Error()
		}
		return strings.Join(parts, "; ")
	}
	var re *routers.RouteError
	if errors.As(err, &re) {
		return re.Reason
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

func excerpt(redactFn func(string) string, b []byte) string {
	if len(b) == 0 {
		return "(empty)"
	}
	return redact.Shorten(redactFn(string(b)), maxExcerpt)
}

func readAll(r io.ReadCloser, limit int64) ([]byte, error) {
	if r == nil || r == http.NoBody {
		return nil, nil
	}
	var src io.Reader = r
	if limit > 0 {
		src = io.LimitReader(r, limit)
	}
	return io.ReadAll(src)
}

// Coverage counts exchanges per operation and status.
type Coverage struct {
	mu   sync.Mutex
	seen map[string]map[int]int
}

// Add counts one exchange of op answered with status.
func (c *Coverage) Add(op string, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]map[int]int{}
	}
	if c.seen[op] == nil {
		c.seen[op] = map[int]int{}
	}
	c.seen[op][status]++
}

// Seen returns a copy of the counts: operation -> status -> exchanges.
func (c *Coverage) Seen() map[string]map[int]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]map[int]int{}
	for op, m := range c.seen {
		out[op] = map[int]int{}
		for s, n := range m {
			out[op][s] = n
		}
	}
	return out
}
