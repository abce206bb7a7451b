package proxy

import (
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/attrconform/attrconform/target"
)

// Redactor removes tokens from everything the proxy prints, reports or
// records: the target file's secrets, every token seen in an
// Authorization header of the traffic (a client may use tokens the file
// does not list), and whatever token follows "Bearer " in any text.
type Redactor struct {
	target *target.Target
	mu     sync.RWMutex
	seen   map[string]bool
	// longest first, so that a token never leaves the tail of a longer one
	sorted []string
}

// Tokens shorter than minSeenToken are not searched for in texts: they
// would blank out ordinary words. They are never printed as headers either.
const (
	minSeenToken = 8
	maxSeenToken = 1000 // distinct tokens remembered
)

var bearer = regexp.MustCompile(`(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}`)

// NewRedactor redacts t's secrets and the tokens it is shown.
func NewRedactor(t *target.Target) *Redactor {
	return &Redactor{target: t, seen: map[string]bool{}}
}

// See remembers the credentials of an Authorization header value.
func (r *Redactor) See(authorization string) {
	_, token, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok {
		token = authorization
	}
	token = strings.TrimSpace(token)
	if len(token) < minSeenToken {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[token] || len(r.seen) >= maxSeenToken {
		return
	}
	r.seen[token] = true
	r.sorted = append(r.sorted, token)
	sort.Slice(r.sorted, func(i, j int) bool { return len(r.sorted[i]) > len(r.sorted[j]) })
}

// Redact replaces every known token in s.
func (r *Redactor) Redact(s string) string {
	s = r.target.Redact(s)
	r.mu.RLock()
	for _, token := range r.sorted {
		s = strings.ReplaceAll(s, token, "[REDACTED]")
	}
	r.mu.RUnlock()
	return bearer.ReplaceAllString(s, "${1}[REDACTED]")
}
