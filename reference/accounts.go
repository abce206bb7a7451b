package reference

// The emulator's account endpoints (UA-GEN-010), so that the vendor's own
// client SDKs can log in against the reference:
//
//	POST /{org}/{app}/token  grant_type client_credentials (client_id,
//	                         client_secret): an app (admin) token;
//	                         grant_type password (username, password): a
//	                         user token; grant_type inherit (admin token,
//	                         username, autoCreateUser): a user token.
//	POST /{org}/{app}/users  admin token; a user object or an array of them
//	                         ({username, password}): registers them.
//
// Shapes follow the vendor's pages (E10, E12). What these endpoints create
// works with the five metadata operations at once, and with a store that
// implements store.Accounts (the bolt store) it survives a restart.
// Passwords and client secrets are compared, never logged or echoed.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/attrconform/attrconform/reference/store"
	"github.com/attrconform/attrconform/target"
)

const (
	// defaultTokenTTL is the documented default lifetime: 60 days.
	defaultTokenTTL = 60 * 24 * time.Hour
	// maxTokenTTL keeps expiry times far from overflowing.
	maxTokenTTL = 100 * 365 * 24 * time.Hour
	// maxAccountBody bounds what the account endpoints read.
	maxAccountBody = 64 << 10
	// maxRegisterBatch is the documented cap of one registration call.
	maxRegisterBatch = 60
	// maxPasswordLen is the documented password length (characters).
	maxPasswordLen = 64
)

// login is what the server knows of an account beyond its name: when it
// was created and, if it has one, its password as a salted hash. (An
// emulator's passwords: one SHA-256 round, not a password vault.)
type login struct {
	salt, hash []byte
	created    time.Time
}

func newLogin(password string, created time.Time) login {
	l := login{created: created}
	if password != "" {
		l.salt = make([]byte, 16)
		rand.Read(l.salt)
		l.hash = passwordHash(l.salt, password)
	}
	return l
}

func passwordHash(salt []byte, password string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(password))
	return h.Sum(nil)
}

func (l login) accepts(password string) bool {
	return len(l.hash) > 0 && subtle.ConstantTimeCompare(l.hash, passwordHash(l.salt, password)) == 1
}

// sameSecret compares a presented credential with the configured one in
// constant time.
func sameSecret(presented, configured string) bool {
	return configured != "" && subtle.ConstantTimeCompare([]byte(presented), []byte(configured)) == 1
}

// restoreAccounts loads the accounts and tokens a durable store kept from
// earlier runs. The tenant file wins over a stored account of the same
// name; expired tokens and tokens of unknown apps or users are dropped.
func (s *Server) restoreAccounts() error {
	kept, ok := s.cfg.Store.(store.Accounts)
	if !ok {
		return nil
	}
	s.accounts = kept
	s.shared, _ = kept.(store.SharedAccounts)
	for key, a := range s.apps {
		stored, err := kept.LoadAccounts(key)
		if err != nil {
			return fmt.Errorf("reference: restoring the accounts of %s: %w", key, err)
		}
		for _, rec := range stored {
			if a.users[rec.Name] {
				continue
			}
			a.users[rec.Name] = true
			a.logins[rec.Name] = login{salt: rec.Salt, hash: rec.Hash, created: time.UnixMilli(rec.Created)}
		}
	}
	tokens, err := kept.LoadTokens()
	if err != nil {
		return fmt.Errorf("reference: restoring tokens: %w", err)
	}
	now := s.now()
	for _, t := range tokens {
		a := s.apps[t.App]
		p := principal{app: a, user: t.User}
		if t.Expires != 0 {
			p.expires = time.UnixMilli(t.Expires)
		}
		_, taken := s.tokens[t.Token]
		if a == nil || taken || (t.User != "" && !a.users[t.User]) || (!p.expires.IsZero() && !now.Before(p.expires)) || !wellFormedToken(t.Token) {
			continue
		}
		s.tokens[t.Token] = p
	}
	return nil
}

// appOf resolves the {org}/{app} of an account request.
func (s *Server) appOf(r *http.Request) (*app, *apiError) {
	org, name := r.PathValue("org"), r.PathValue("app")
	a, found := s.apps[org+"/"+name]
	if !found {
		return nil, errUnknownApp(org, name, strings.TrimPrefix(r.URL.Path, "/"))
	}
	return a, nil
}

// readAccountBody reads a JSON body of at most maxAccountBody bytes.
func readAccountBody(r *http.Request) ([]byte, *apiError) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAccountBody+1))
	if err != nil {
		return nil, errIllegalArgument("reading the request body: " + err.Error())
	}
	if len(body) > maxAccountBody {
		return nil, errIllegalArgument(fmt.Sprintf("the request body exceeds %d bytes", maxAccountBody))
	}
	return body, nil
}

// tokenRequest is the body of POST …/token. ttl is a number of seconds,
// sent as a number or, in the vendor's own examples, as a string.
type tokenRequest struct {
	GrantType      string          `json:"grant_type"`
	ClientID       string          `json:"client_id"`
	ClientSecret   string          `json:"client_secret"`
	Username       string          `json:"username"`
	Password       string          `json:"password"`
	AutoCreateUser bool            `json:"autoCreateUser"`
	TTL            json.RawMessage `json:"ttl"`
}

// tokenAnswer is the documented token response (E12).
type tokenAnswer struct {
	AccessToken string      `json:"access_token"`
	ExpiresIn   int64       `json:"expires_in"`
	Application string      `json:"application"`
	User        *userEntity `json:"user,omitempty"`
}

// userEntity is a user as the vendor's account endpoints show it.
type userEntity struct {
	UUID      string `json:"uuid"`
	Type      string `json:"type"`
	Created   int64  `json:"created"`
	Modified  int64  `json:"modified"`
	Username  string `json:"username"`
	Activated bool   `json:"activated"`
}

// ttl is the requested lifetime; 0 means the token never expires.
func (t tokenRequest) ttl() (time.Duration, *apiError) {
	raw := bytes.TrimSpace(t.TTL)
	if len(raw) == 0 || string(raw) == "null" {
		return defaultTokenTTL, nil
	}
	var text string
	if json.Unmarshal(raw, &text) != nil {
		text = string(raw)
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
	if err != nil || secs < 0 {
		return 0, errIllegalArgument("ttl must be a whole number of seconds, 0 for a token that never expires")
	}
	return time.Duration(min(secs, int64(maxTokenTTL/time.Second))) * time.Second, nil
}

// tokenPath serves POST /{org}/{app}/token.
func (s *Server) tokenPath(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.writeError(w, start, errMethod(r.Method, http.MethodPost))
		return
	}
	answer, e := s.token(r)
	if e != nil {
		s.writeError(w, start, e)
		return
	}
	s.writeJSON(w, http.StatusOK, start, answer)
}

func (s *Server) token(r *http.Request) (*tokenAnswer, *apiError) {
	a, e := s.appOf(r)
	if e != nil {
		return nil, e
	}
	body, e := readAccountBody(r)
	if e != nil {
		return nil, e
	}
	var req tokenRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, errJSONParse(err)
	}
	ttl, e := req.ttl()
	if e != nil {
		return nil, e
	}
	var p principal
	switch req.GrantType {
	case "client_credentials":
		if a.ClientID == "" || a.ClientSecret == "" {
			return nil, errInvalidGrant(http.StatusBadRequest, "this app has no client credentials; give it client_id and client_secret in the tenant file")
		}
		// Both compared, whichever is wrong: the answer says nothing about which.
		idOK := sameSecret(req.ClientID, a.ClientID)
		secretOK := sameSecret(req.ClientSecret, a.ClientSecret)
		if !idOK || !secretOK {
			return nil, errInvalidGrant(http.StatusBadRequest, "invalid client_id or client_secret")
		}
		p = principal{app: a}
	case "password":
		user := target.FoldName(req.Username)
		if target.ValidUsername(req.Username) {
			if _, e := s.hasUser(a, user); e != nil {
				return nil, e
			}
		}
		s.mu.RLock()
		l, found := a.logins[user]
		s.mu.RUnlock()
		if !target.ValidUsername(req.Username) || !found || !l.accepts(req.Password) {
			return nil, errInvalidGrant(http.StatusBadRequest, "invalid username or password")
		}
		p = principal{app: a, user: user}
	case "inherit":
		who, e := s.authenticate(r, a)
		if e != nil {
			return nil, e
		}
		if !who.admin() {
			return nil, errAdminOnly()
		}
		if e := checkUsername(req.Username); e != nil {
			return nil, e
		}
		user := target.FoldName(req.Username)
		exists, e := s.hasUser(a, user)
		if e != nil {
			return nil, e
		}
		if !exists {
			if !req.AutoCreateUser {
				return nil, errInvalidGrant(http.StatusNotFound, "user not found")
			}
			if _, e := s.registerUsers(a, []registration{{name: req.Username}}); e != nil && e.kind != kindDuplicate {
				return nil, e
			}
		}
		p = principal{app: a, user: user}
	case "":
		return nil, errIllegalArgument("grant_type is missing; use client_credentials, password or inherit")
	default:
		return nil, &apiError{status: http.StatusBadRequest, kind: "unsupported_grant_type", text: "grant_type must be client_credentials, password or inherit"}
	}
	token, e := s.issueToken(p, ttl)
	if e != nil {
		return nil, e
	}
	answer := &tokenAnswer{AccessToken: token, ExpiresIn: int64(ttl / time.Second), Application: a.uuid()}
	if p.user != "" {
		answer.User = s.entity(a, p.user)
	}
	return answer, nil
}

// issueToken makes a token for p that lives for ttl (0: forever). It is
// stored before it is handed out, so an answered token survives a crash.
func (s *Server) issueToken(p principal, ttl time.Duration) (string, *apiError) {
	random := make([]byte, 32)
	rand.Read(random)
	token := "YWMt" + base64.RawURLEncoding.EncodeToString(random)
	if ttl > 0 {
		p.expires = s.now().Add(ttl)
	}
	if s.accounts != nil {
		rec := store.Token{Token: token, App: p.app.key(), User: p.user}
		if !p.expires.IsZero() {
			rec.Expires = p.expires.UnixMilli()
		}
		if err := s.accounts.AddToken(rec); err != nil {
			return "", s.storeFailed(err)
		}
	}
	s.mu.Lock()
	s.tokens[token] = p
	s.mu.Unlock()
	return token, nil
}

// registration is one user to register: its name as sent and its
// password (empty for users created by the inherit grant).
type registration struct {
	name, password string
}

// registerBody is one user object of POST …/users. Fields are pointers
// only to tell a missing field from an empty one.
type registerBody struct {
	Username *string `json:"username"`
	Password *string `json:"password"`
	Nickname string  `json:"nickname"`
}

// registerAnswer is the documented registration response (E10).
type registerAnswer struct {
	Action          string       `json:"action"`
	Application     string       `json:"application"`
	Path            string       `json:"path"`
	URI             string       `json:"uri"`
	Entities        []userEntity `json:"entities"`
	Data            []any        `json:"data,omitempty"`
	Timestamp       int64        `json:"timestamp"`
	Duration        int64        `json:"duration"`
	Organization    string       `json:"organization"`
	ApplicationName string       `json:"applicationName"`
}

// usersPath serves POST /{org}/{app}/users: registration with the admin
// token (the vendor's "authorised registration").
func (s *Server) usersPath(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.writeError(w, start, errMethod(r.Method, http.MethodPost))
		return
	}
	answer, e := s.registration(r, start)
	if e != nil {
		s.writeError(w, start, e)
		return
	}
	s.writeJSON(w, http.StatusOK, start, answer)
}

func (s *Server) registration(r *http.Request, start time.Time) (*registerAnswer, *apiError) {
	a, e := s.appOf(r)
	if e != nil {
		return nil, e
	}
	who, e := s.authenticate(r, a)
	if e != nil {
		return nil, e
	}
	if !who.admin() {
		return nil, errAdminOnly()
	}
	regs, batch, e := parseRegistrations(r)
	if e != nil {
		return nil, e
	}
	entities, e := s.registerUsers(a, regs)
	if e != nil {
		return nil, e
	}
	now := s.now()
	answer := &registerAnswer{
		Action: "post", Application: a.uuid(), Path: "/users", URI: "http://" + r.Host + r.URL.Path,
		Entities: entities, Timestamp: now.UnixMilli(), Duration: now.Sub(start).Milliseconds(),
		Organization: a.org, ApplicationName: a.Name,
	}
	if batch {
		answer.Data = []any{} // as the vendor answers an array
	}
	return answer, nil
}

// parseRegistrations reads a user object or an array of 1 to 60 of them.
func parseRegistrations(r *http.Request) ([]registration, bool, *apiError) {
	body, e := readAccountBody(r)
	if e != nil {
		return nil, false, e
	}
	var bodies []registerBody
	batch := len(bytes.TrimSpace(body)) > 0 && bytes.TrimSpace(body)[0] == '['
	if batch {
		if err := json.Unmarshal(body, &bodies); err != nil {
			return nil, true, errJSONParse(err)
		}
	} else {
		var one registerBody
		if err := json.Unmarshal(body, &one); err != nil {
			return nil, false, errJSONParse(err)
		}
		bodies = []registerBody{one}
	}
	switch {
	case len(bodies) == 0:
		return nil, batch, errIllegalArgument("the request names no user to register")
	case len(bodies) > maxRegisterBatch:
		return nil, batch, errIllegalArgument(fmt.Sprintf("at most %d users may be registered in one request", maxRegisterBatch))
	}
	regs := make([]registration, 0, len(bodies))
	for _, b := range bodies {
		if b.Username == nil {
			return nil, batch, errIllegalArgument("username is missing")
		}
		if e := checkUsername(*b.Username); e != nil {
			return nil, batch, e
		}
		if b.Password == nil || *b.Password == "" {
			return nil, batch, errIllegalArgument("password or pin must provided")
		}
		if utf8.RuneCountInString(*b.Password) > maxPasswordLen {
			return nil, batch, errIllegalArgument(fmt.Sprintf("password is longer than %d characters", maxPasswordLen))
		}
		regs = append(regs, registration{name: *b.Username, password: *b.Password})
	}
	return regs, batch, nil
}

// checkUsername answers the documented 400s for a name that cannot be an
// account (UA-NAME-001, UA-NAME-002).
func checkUsername(name string) *apiError {
	switch {
	case len(name) > 64:
		return errIllegalArgument("USERNAME_TOO_LONG")
	case !target.ValidUsername(name):
		return errIllegalArgument(fmt.Sprintf("username [%s] is not legal", name))
	}
	return nil
}

const kindDuplicate = "duplicate_unique_property_exists"

// registerUsers creates the accounts, all or none: a name that exists
// already, or twice in the request, refuses the whole request (usernames
// are case-insensitive, UA-NAME-003). The accounts are stored before they
// are published, so an answered registration survives a crash.
func (s *Server) registerUsers(a *app, regs []registration) ([]userEntity, *apiError) {
	s.register.Lock() // the check and the publication below see the same users
	defer s.register.Unlock()
	s.mu.RLock()
	users := a.users
	s.mu.RUnlock()
	now := s.now()
	seen := map[string]bool{}
	records := make([]store.Account, 0, len(regs))
	logins := make([]login, 0, len(regs))
	for _, reg := range regs {
		user := target.FoldName(reg.name)
		if users[user] || seen[user] {
			return nil, &apiError{status: http.StatusBadRequest, kind: kindDuplicate,
				text: fmt.Sprintf("Application %s Entity user requires that property named username be unique, value of %s exists", a.uuid(), reg.name)}
		}
		seen[user] = true
		l := newLogin(reg.password, now)
		logins = append(logins, l)
		records = append(records, store.Account{Name: user, Salt: l.salt, Hash: l.hash, Created: now.UnixMilli()})
	}
	if s.accounts != nil {
		if err := s.accounts.AddAccounts(a.key(), records); errors.Is(err, store.ErrAccountExists) {
			return nil, errDuplicate(a, s.takenName(a, regs, records))
		} else if err != nil {
			return nil, s.storeFailed(err)
		}
	}
	grown := maps.Clone(users)
	entities := make([]userEntity, 0, len(regs))
	s.mu.Lock()
	for i, rec := range records {
		grown[rec.Name] = true
		a.logins[rec.Name] = logins[i]
	}
	a.users = grown
	s.mu.Unlock()
	for _, rec := range records {
		entities = append(entities, *s.entity(a, rec.Name))
	}
	return entities, nil
}

// entity shows a user of a; user is folded, as the vendor answers it.
func (s *Server) entity(a *app, user string) *userEntity {
	s.mu.RLock()
	l, found := a.logins[user]
	s.mu.RUnlock()
	created := s.started
	if found {
		created = l.created
	}
	return &userEntity{UUID: nameUUID("user:" + a.key() + "/" + user), Type: "user",
		Created: created.UnixMilli(), Modified: created.UnixMilli(), Username: user, Activated: true}
}

// uuid is the app's UUID, stable across restarts.
func (a *app) uuid() string { return nameUUID("app:" + a.key()) }

// nameUUID is a name-based (version 5 style) UUID of name.
func nameUUID(name string) string {
	sum := sha1.Sum([]byte("attrconform/" + name))
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

func errInvalidGrant(status int, text string) *apiError {
	return &apiError{status: status, kind: "invalid_grant", text: text}
}
