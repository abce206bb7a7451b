// Package reference is the bundled reference server of the user-attributes
// API: small, stateful and faithful to the contract in openapi.yaml. It is
// what the suite is proven against, and a local emulator.
package reference

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/attrconform/attrconform/contract/wire"

	"golang.org/x/time/rate"

	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/reference/store"
	"github.com/attrconform/attrconform/target"
)

// Server serves the five user-attributes operations for a tenant.
type Server struct {
	cfg   Config
	texts texts
	apps  map[string]*app // "org/app" -> app; fixed once New returns
	mux   *http.ServeMux
	// mu guards tokens and every app's users and logins, which the account
	// endpoints (accounts.go) change while requests read them.
	mu       sync.RWMutex
	tokens   map[string]principal
	register sync.Mutex           // one registration at a time (accounts.go)
	accounts store.Accounts       // where created accounts and tokens persist; nil: nowhere
	shared   store.SharedAccounts // accounts, when other servers share the store (shared.go)
	started  time.Time
}

type app struct {
	target.App
	org string
	// users are the folded usernames with an account. Registration
	// replaces the map, never changes it (copy on write), so an operation
	// reads its call's snapshot without a lock.
	users    map[string]bool
	logins   map[string]login // folded username -> password and creation time
	quota    int64
	limiters map[string]*rate.Limiter // operation -> budget
}

// principal is who a token speaks for: an app's admin, or one of its users.
type principal struct {
	app     *app
	user    string    // folded username; empty for the admin
	expires time.Time // zero: never (the tenant file's tokens)
}

func (p principal) admin() bool { return p.user == "" }

// Operation names, as the contract's operationIds.
const (
	opSet      = "setUserAttributes"
	opGet      = "getUserAttributes"
	opBatch    = "batchGetUserAttributes"
	opCapacity = "getAttributeCapacity"
	opDelete   = "deleteUserAttributes"
)

// New builds a server from cfg. It refuses tenants with duplicate apps or
// tokens, because a token must name exactly one principal.
func New(cfg Config) (*Server, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		texts:   texts{legacy: cfg.Profile.Choice(profile.ErrorTextStyle) == "legacy"},
		apps:    map[string]*app{},
		tokens:  map[string]principal{},
		started: cfg.Now(),
	}
	for _, ta := range cfg.Tenant.Apps {
		if err := s.addApp(cfg.Tenant.Org, ta); err != nil {
			return nil, err
		}
	}
	if err := s.restoreAccounts(); err != nil {
		return nil, err
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/{org}/{app}/metadata/user/{username}", s.userPath)
	s.mux.HandleFunc("/{org}/{app}/metadata/user/get", s.batchPath)
	s.mux.HandleFunc("/{org}/{app}/metadata/user/capacity", s.capacityPath)
	// The emulator's account endpoints (accounts.go, UA-GEN-010).
	s.mux.HandleFunc("/{org}/{app}/token", s.tokenPath)
	s.mux.HandleFunc("/{org}/{app}/users", s.usersPath)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, time.Now(), errNoRoute(r.URL.Path))
	})
	return s, nil
}

func (s *Server) addApp(org string, ta target.App) error {
	key := org + "/" + ta.Name
	if ta.Name == "" {
		return fmt.Errorf("reference: an app of org %q has no name", org)
	}
	if _, dup := s.apps[key]; dup {
		return fmt.Errorf("reference: app %s is listed twice", key)
	}
	a := &app{App: ta, org: org, users: map[string]bool{}, logins: map[string]login{}, quota: ta.AppBytes, limiters: map[string]*rate.Limiter{}}
	if a.quota == 0 {
		a.quota = s.cfg.Limits.AppBytes
	}
	perSecond := ta.RatePerSecond
	if perSecond == 0 {
		perSecond = s.cfg.Limits.RatePerSecond
	}
	for _, op := range []string{opSet, opGet, opBatch, opCapacity, opDelete} {
		a.limiters[op] = rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)))
	}
	if err := s.addToken(ta.AdminToken, principal{app: a}, "admin token of app "+key); err != nil {
		return err
	}
	for _, u := range ta.Users {
		if !target.ValidUsername(u.Name) {
			return fmt.Errorf("reference: app %s: %q is not a valid username (1-64 of a-z A-Z 0-9 _ - .)", key, u.Name)
		}
		a.users[target.FoldName(u.Name)] = true
		if u.Password != "" {
			a.logins[target.FoldName(u.Name)] = newLogin(u.Password, s.started)
		}
		if u.Token != "" {
			if err := s.addToken(u.Token, principal{app: a, user: target.FoldName(u.Name)}, "token of user "+u.Name); err != nil {
				return err
			}
		}
	}
	s.apps[key] = a
	return nil
}

func (s *Server) addToken(token string, p principal, what string) error {
	if token == "" {
		return fmt.Errorf("reference: the %s is empty", what)
	}
	if !wellFormedToken(token) {
		return fmt.Errorf("reference: the %s has characters a bearer token cannot carry", what)
	}
	if _, dup := s.tokens[token]; dup {
		return fmt.Errorf("reference: the %s is already used by another principal", what)
	}
	s.tokens[token] = p
	return nil
}

// Close releases the store.
func (s *Server) Close() error { return s.cfg.Store.Close() }

// ServeHTTP answers every request with JSON, including unknown routes, bad
// methods and panics.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.cfg.Now()
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			log.Printf("reference: panic serving %s %s: %v", r.Method, r.URL.Path, v)
			s.writeError(w, start, errInternal())
		}
	}()
	// ServeMux would redirect unclean paths with an HTML body, and answer a
	// request for "*" with an empty 400; refuse them here.
	if r.URL.Path == "" || path.Clean(r.URL.Path) != r.URL.Path || r.Method == http.MethodConnect || r.RequestURI == "*" {
		s.writeError(w, start, errNoRoute(r.URL.Path))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// userPath serves PUT, GET and DELETE on one user.
func (s *Server) userPath(w http.ResponseWriter, r *http.Request) {
	s.userOperation(w, r, r.PathValue("username"), "GET, PUT, DELETE")
}

// batchPath serves POST …/get; other methods address the user named "get".
func (s *Server) batchPath(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		s.serve(w, r, opBatch, s.batchGet)
		return
	}
	s.userOperation(w, r, "get", "GET, PUT, DELETE, POST")
}

// capacityPath serves GET …/capacity; PUT and DELETE address the user named
// "capacity" (OQ-12).
func (s *Server) capacityPath(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		s.serve(w, r, opCapacity, s.capacity)
		return
	}
	s.userOperation(w, r, "capacity", "GET, PUT, DELETE")
}

func (s *Server) userOperation(w http.ResponseWriter, r *http.Request, username, allowed string) {
	switch r.Method {
	case http.MethodPut:
		s.serve(w, r, opSet, func(c *call) result { return s.setAttributes(c, username) })
	case http.MethodGet:
		s.serve(w, r, opGet, func(c *call) result { return s.getAttributes(c, username) })
	case http.MethodDelete:
		s.serve(w, r, opDelete, func(c *call) result { return s.deleteAttributes(c, username) })
	default:
		w.Header().Set("Allow", allowed)
		s.writeError(w, s.cfg.Now(), errMethod(r.Method, allowed))
	}
}

// call is one authenticated request to an operation.
type call struct {
	r   *http.Request
	app *app
	who principal
}

// result is an operation's answer: data for a success envelope with the
// given status, or an error.
type result struct {
	status int
	data   any
	err    *apiError
}

func ok(data any) result             { return result{status: http.StatusOK, data: data} }
func fail(err *apiError) result      { return result{err: err} }
func (r result) failed() bool        { return r.err != nil }
func (s *Server) now() time.Time     { return s.cfg.Now() }
func (c *call) admin() bool          { return c.who.admin() }
func (c *call) isUser(u string) bool { return c.who.user == u }

// serve resolves the app, spends its request budget, authenticates, checks
// the feature switch, then runs the operation.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, op string, run func(*call) result) {
	start := s.now()
	org, appName := r.PathValue("org"), r.PathValue("app")
	a, found := s.apps[org+"/"+appName]
	if !found {
		s.writeError(w, start, errUnknownApp(org, appName, strings.TrimPrefix(r.URL.Path, "/")))
		return
	}
	if !a.limiters[op].Allow() {
		status := http.StatusTooManyRequests
		if s.cfg.Profile.Choice(profile.RateLimitStatus) == "503" {
			status = http.StatusServiceUnavailable
		}
		s.writeError(w, start, errRateLimited(status, 1))
		return
	}
	who, err := s.authenticate(r, a)
	if err != nil {
		s.writeError(w, start, err)
		return
	}
	if a.MetadataDisabled {
		s.writeError(w, start, errServiceOff(a.org, a.Name))
		return
	}
	if s.cfg.FaultHooks {
		switch r.Header.Get(wire.FaultHeader) {
		case wire.FaultStore:
			s.writeError(w, start, errInternal())
			return
		case wire.FaultOverload:
			s.writeError(w, start, errOverloaded())
			return
		}
	}
	// The operation reads a snapshot of the app: registration replaces
	// users, never changes it, so the snapshot needs no lock once taken.
	s.mu.RLock()
	snapshot := *a
	s.mu.RUnlock()
	res := run(&call{r: r, app: &snapshot, who: who})
	if res.failed() {
		s.writeError(w, start, res.err)
		return
	}
	s.writeJSON(w, res.status, start, successBody{Data: res.data})
}

// authenticate maps the bearer token to a principal of app a.
func (s *Server) authenticate(r *http.Request, a *app) (principal, *apiError) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		return principal{}, errMissingToken()
	}
	scheme, token, _ := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || !wellFormedToken(token) {
		return principal{}, errCorruptToken()
	}
	s.mu.RLock()
	p, found := s.tokens[token]
	s.mu.RUnlock()
	if !found {
		var e *apiError
		if p, found, e = s.lookupToken(token); e != nil {
			return principal{}, e
		}
	}
	if !found || p.app != a {
		return principal{}, errUnknownToken()
	}
	if !p.expires.IsZero() && !s.now().Before(p.expires) {
		return principal{}, errMissingToken() // "… due to expired access token"
	}
	return p, nil
}

// wellFormedToken accepts the characters of base64 and base64url tokens.
func wellFormedToken(t string) bool {
	if len(t) < 8 || len(t) > 1024 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~+/=", c) >= 0) {
			return false
		}
	}
	return true
}

type successBody struct {
	Timestamp int64 `json:"timestamp"`
	Data      any   `json:"data"`
	Duration  int64 `json:"duration"`
}

type errorBody struct {
	Error            string `json:"error"`
	Exception        string `json:"exception,omitempty"`
	Timestamp        int64  `json:"timestamp"`
	Duration         int64  `json:"duration"`
	ErrorDescription string `json:"error_description"`
	Desc             string `json:"desc"`
}

func (s *Server) writeError(w http.ResponseWriter, start time.Time, e *apiError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(e.retryAfter))
	}
	s.writeJSON(w, e.status, start, errorBody{Error: e.kind, Exception: e.exception, ErrorDescription: e.text, Desc: e.text})
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, start time.Time, body any) {
	now := s.now()
	switch b := body.(type) {
	case successBody:
		b.Timestamp, b.Duration = now.UnixMilli(), now.Sub(start).Milliseconds()
		body = b
	case errorBody:
		b.Timestamp, b.Duration = now.UnixMilli(), now.Sub(start).Milliseconds()
		body = b
	}
	buf, err := json.Marshal(body)
	if err != nil {
		log.Printf("reference: encoding a %d answer: %v", status, err)
		status, buf = http.StatusInternalServerError, []byte(`{"error":"INTERNAL_SERVER_ERROR","error_description":"encoding failed","desc":"encoding failed","timestamp":0,"duration":0}`)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	w.Write(buf)
}
