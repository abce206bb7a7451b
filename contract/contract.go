// Package contract holds the API contract (openapi.yaml) and the HTTP
// transport that validates every request and response against it with
// kin-openapi, so that no spec can talk to a target without the contract
// watching.
package contract

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Contract is a loaded, validated OpenAPI document bound to one base URL.
type Contract struct {
	doc    *openapi3.T
	router routers.Router
	base   *url.URL
	routes routeCache
}

// routeCache remembers the router's answer per method, host and path: the
// suite asks for the same few paths again and again, and route matching
// is the largest part of validating an exchange. Bounded: past
// maxCachedRoutes new paths are matched without being remembered.
type routeCache struct {
	mu sync.RWMutex
	m  map[string]routed
}

type routed struct {
	route  *routers.Route
	params map[string]string
	err    error
}

const maxCachedRoutes = 4096

// findRoute is the router's FindRoute, remembered.
func (c *Contract) findRoute(req *http.Request) (*routers.Route, map[string]string, error) {
	key := req.Method + " " + req.URL.Host + req.URL.EscapedPath()
	c.routes.mu.RLock()
	r, ok := c.routes.m[key]
	c.routes.mu.RUnlock()
	if !ok {
		r.route, r.params, r.err = c.router.FindRoute(req)
		c.routes.mu.Lock()
		if c.routes.m == nil {
			c.routes.m = map[string]routed{}
		}
		if len(c.routes.m) < maxCachedRoutes {
			c.routes.m[key] = r
		}
		c.routes.mu.Unlock()
	}
	return r.route, maps.Clone(r.params), r.err
}

// Load parses and validates the contract and binds its routes to baseURL
// and to the other base URLs of the same deployment (its nodes): the
// target's addresses replace the document's servers.
func Load(data []byte, baseURL string, more ...string) (*Contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("contract: parsing openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("contract: openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	base, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("contract: base URL %q: %w", baseURL, err)
	}
	doc.Servers = openapi3.Servers{{URL: baseURL}}
	for _, u := range more {
		if u != baseURL {
			if _, err := url.Parse(u); err != nil {
				return nil, fmt.Errorf("contract: base URL %q: %w", u, err)
			}
			doc.Servers = append(doc.Servers, &openapi3.Server{URL: u})
		}
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("contract: building routes: %w", err)
	}
	return &Contract{doc: doc, router: router, base: base}, nil
}

// OperationID names the documented operation req addresses (its
// operationId), or "" when no operation of the contract matches.
func (c *Contract) OperationID(req *http.Request) string {
	route, _, err := c.findRoute(req)
	if err != nil {
		return ""
	}
	return route.Operation.OperationID
}

// Operation is a documented operation and its documented status codes.
type Operation struct {
	ID           string
	Method, Path string
	Statuses     []int
	Requirements []string
}

// Operations lists the contract's operations in document order of paths.
func (c *Contract) Operations() []Operation {
	var out []Operation
	for _, p := range c.doc.Paths.InMatchingOrder() {
		item := c.doc.Paths.Value(p)
		for method, op := range item.Operations() {
			o := Operation{ID: op.OperationID, Method: method, Path: p, Requirements: requirementIDs(op.Extensions)}
			for code := range op.Responses.Map() {
				var status int
				if _, err := fmt.Sscanf(code, "%d", &status); err == nil {
					o.Statuses = append(o.Statuses, status)
				}
			}
			out = append(out, o)
		}
	}
	return out
}

// requirementIDs reads the x-requirements extension.
func requirementIDs(ext map[string]any) []string {
	list, _ := ext["x-requirements"].([]any)
	var out []string
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
