package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// maxResponseBytes bounds what is read of one response body.
const maxResponseBytes = 4 << 20

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
	if req.Body != nil {
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	if _, err := t.checkRequest(req, body); err != nil {
		return nil, err
	}
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	return req.WithContext(context.WithValue(req.Context(), checkedKey{}, true)), nil
}

// checkRequest finds req's operation and validates req against it, unless
// req is off-contract. It returns the validation input for the response;
// nil when no documented operation matches an off-contract request.
func (t *Transport) checkRequest(req *http.Request, body []byte) (*openapi3filter.RequestValidationInput, error) {
	route, params, routeErr := t.Contract.findRoute(req)
	var in *openapi3filter.RequestValidationInput
	if routeErr == nil {
		opts := &openapi3filter.Options{IncludeResponseStatus: true, AuthenticationFunc: bearerPresent}
		in = &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	}
	if isOffContract(req.Context()) || req.Context().Value(checkedKey{}) != nil {
		return in, nil
	}
	if routeErr != nil {
		return nil, t.violation("request", req, 0, "", "no documented operation: "+routeErr.Error(), body)
	}
	if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
		return nil, t.violation("request", req, 0, route.Operation.OperationID, findings(err), body)
	}
	return in, nil
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
	in, err := t.checkRequest(req, reqBody)
	if err != nil {
		return nil, err
	}
	restore()
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := readAll(resp.Body, maxResponseBytes)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the response of %s %s: %w", req.Method, req.URL.Path, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	opID := ""
	if in != nil {
		opID = in.Route.Operation.OperationID
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Options: in.Options}
		out.SetBodyBytes(body)
		if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
			return nil, t.violation("response", req, resp.StatusCode, opID, findings(err), body)
		}
	} else if err := t.Contract.validateError(resp, body); err != nil {
		return nil, t.violation("response", req, resp.StatusCode, "", err.Error(), body)
	}
	if t.Coverage != nil && opID != "" {
		t.Coverage.add(opID, resp.StatusCode)
	}
	return resp, nil
}

// validateError checks a response to an undocumented route: it must be an
// error status carrying the documented error envelope.
func (c *Contract) validateError(resp *http.Response, body []byte) error {
	if resp.StatusCode < 400 {
		return fmt.Errorf("an undocumented route answered %d; only an error status is allowed", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
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
	if err := ref.Value.VisitJSON(v); err != nil {
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

func (t *Transport) violation(side string, req *http.Request, status int, op, finding string, body []byte) *Violation {
	redact := t.Redact
	if redact == nil {
		redact = func(s string) string { return s }
	}
	return &Violation{
		Side: side, Method: req.Method, Path: redact(req.URL.RequestURI()), Status: status, Operation: op,
		Finding: redact(finding), Excerpt: redact(excerpt(body, 300)),
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

func excerpt(b []byte, n int) string {
	if len(b) == 0 {
		return "(empty)"
	}
	if len(b) > n {
		return string(b[:n]) + fmt.Sprintf("… (%d bytes)", len(b))
	}
	return string(b)
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

func (c *Coverage) add(op string, status int) {
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
