package reference

// Several servers over one shared store (the etcd store): what one server
// creates at run time, a registered account or an issued token, another
// server learns from the store the first time a request names it. Nothing
// else a server decides on is kept in its memory: attributes, versions and
// totals are read from the store for every operation. A store that cannot
// reach its data answers 503 with a Retry-After, so that clients (and the
// suite's budget) try again later instead of taking it for an answer.

import (
	"errors"
	"fmt"
	"log"
	"maps"
	"net/http"
	"time"

	"github.com/attrconform/attrconform/reference/store"
)

// errStoreUnavailable answers a request whose store could not be reached.
func errStoreUnavailable() *apiError {
	return &apiError{status: http.StatusServiceUnavailable, kind: "service_unavailable", text: "The service is temporarily unavailable, try again later", retryAfter: 1}
}

// storeFailed logs a store error and turns it into the answer: 503 when
// the store was unavailable, else 500.
func (s *Server) storeFailed(err error) *apiError {
	log.Printf("reference: store: %v", err)
	if errors.Is(err, store.ErrUnavailable) {
		return errStoreUnavailable()
	}
	return errInternal()
}

// hasUser reports whether user (folded) has an account in app a, asking a
// shared store for names this server does not know; a name found there is
// remembered.
func (s *Server) hasUser(a *app, user string) (bool, *apiError) {
	s.mu.RLock()
	known := s.apps[a.key()].users[user]
	s.mu.RUnlock()
	if known || s.shared == nil {
		return known, nil
	}
	rec, found, err := s.shared.LookupAccount(a.key(), user)
	if err != nil {
		return false, s.storeFailed(err)
	}
	if found {
		s.learnAccount(s.apps[a.key()], rec)
	}
	return found, nil
}

// learnAccount publishes an account another server registered.
func (s *Server) learnAccount(a *app, rec store.Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.users[rec.Name] {
		return
	}
	grown := maps.Clone(a.users)
	grown[rec.Name] = true
	a.users = grown
	a.logins[rec.Name] = login{salt: rec.Salt, hash: rec.Hash, created: time.UnixMilli(rec.Created)}
}

// lookupToken finds a token another server issued; found is false for a
// token the shared store does not hold, or one it holds for a user or app
// that no longer exists, or that expired.
func (s *Server) lookupToken(token string) (principal, bool, *apiError) {
	if s.shared == nil {
		return principal{}, false, nil
	}
	t, found, err := s.shared.LookupToken(token)
	if err != nil {
		return principal{}, false, s.storeFailed(err)
	}
	a := s.apps[t.App]
	if !found || a == nil {
		return principal{}, false, nil
	}
	p := principal{app: a, user: t.User}
	if t.Expires != 0 {
		p.expires = time.UnixMilli(t.Expires)
	}
	if !p.expires.IsZero() && !s.now().Before(p.expires) {
		return principal{}, false, nil
	}
	if t.User != "" {
		if has, e := s.hasUser(a, t.User); e != nil || !has {
			return principal{}, false, e
		}
	}
	s.mu.Lock()
	s.tokens[token] = p
	s.mu.Unlock()
	return p, true, nil
}

// takenName names the account of regs that the shared store holds
// already, for the answer to a registration another server beat.
func (s *Server) takenName(a *app, regs []registration, records []store.Account) string {
	if s.shared != nil {
		for i, rec := range records {
			if _, found, err := s.shared.LookupAccount(a.key(), rec.Name); err == nil && found {
				return regs[i].name
			}
		}
	}
	return regs[0].name
}

func errDuplicate(a *app, name string) *apiError {
	return &apiError{status: http.StatusBadRequest, kind: kindDuplicate,
		text: fmt.Sprintf("Application %s Entity user requires that property named username be unique, value of %s exists", a.uuid(), name)}
}
