// Package redact holds the one redactor every text passes before it
// leaves the process: the terminal, logs, every report file, recorded
// traffic and the proxy's lines. A Redactor knows a run's secrets (the
// target's tokens, client secrets and passwords, the passwords of its
// URLs, and tokens the proxy saw in Authorization headers) and also
// removes what needs no list: the userinfo of any URL and the credentials
// after "Bearer" or "Basic".
//
// Texts are redacted before they are shortened (Excerpt). A text whose
// source was cut (a body read that stopped inside a token, a server that
// echoes a token cut short) also loses every piece of a secret it holds:
// a start or an end of one, at least minPiece bytes long, standing as a
// word of token characters or at either end of the text.
package redact

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Mark stands in for whatever was removed.
const Mark = "[REDACTED]"

// Reliable is the length from which a secret is removed wherever it
// appears. A shorter one would blank out parts of ordinary words (a token
// "t" is in "http"), so it is removed only where it stands as a whole
// word: bounded by characters that are not letters, digits or '_'. Such
// a secret may still show inside a longer word; New's caller warns.
const Reliable = 8

// minPiece is the shortest piece of a secret (its start or its end) that
// is removed: shorter pieces say little about a secret, and would blank
// out ordinary words.
const minPiece = 6

// maxSecrets bounds the secrets one Redactor holds (the proxy learns
// tokens from its traffic); Add ignores the rest.
const maxSecrets = 1000

var (
	userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s@"'<>]+@`)
	// credentials after an authorization scheme, plain or URL-encoded.
	scheme = regexp.MustCompile(`(?i)\b(bearer|basic)((?:\s|%20|\+)+)([A-Za-z0-9._~+/-]+=*)`)
)

// Redactor removes secrets from texts. It is safe for concurrent use.
type Redactor struct {
	mu      sync.RWMutex
	known   map[string]bool // the secrets as given
	long    []string        // secrets and their encoded forms from Reliable bytes, longest first
	short   []string        // shorter ones, matched as whole words
	weak    int             // secrets given shorter than Reliable
	replace *strings.Replacer
	// heads and tails index the secrets' forms by their first and last
	// minPiece bytes, for the pieces a cut left.
	heads, tails map[string][]string
	maxLen       int // the longest form
}

// New is a Redactor of the given secrets; empty ones are ignored.
func New(secrets ...string) *Redactor {
	r := &Redactor{known: map[string]bool{}}
	r.Add(secrets...)
	return r
}

// Add makes r remove more secrets.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, s := range secrets {
		if s == "" || r.known[s] || len(r.known) >= maxSecrets {
			continue
		}
		r.known[s] = true
		changed = true
		if len(s) < Reliable {
			r.weak++
		}
	}
	if changed {
		r.index()
	}
}

// Weak counts the secrets shorter than Reliable: removed only as whole
// words, so a longer word may still show one.
func (r *Redactor) Weak() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.weak
}

// index rebuilds the matchers from r.known.
func (r *Redactor) index() {
	forms := map[string]bool{}
	for s := range r.known {
		for _, f := range encodings(s) {
			forms[f] = true
		}
	}
	r.long, r.short = nil, nil
	r.heads, r.tails = map[string][]string{}, map[string][]string{}
	r.maxLen = 0
	for f := range forms {
		r.maxLen = max(r.maxLen, len(f))
		if len(f) >= Reliable {
			r.long = append(r.long, f)
		} else {
			r.short = append(r.short, f)
		}
		if len(f) > minPiece {
			r.heads[f[:minPiece]] = append(r.heads[f[:minPiece]], f)
			r.tails[f[len(f)-minPiece:]] = append(r.tails[f[len(f)-minPiece:]], f)
		}
	}
	longestFirst := func(l []string) {
		sort.Slice(l, func(i, j int) bool { return len(l[i]) > len(l[j]) || len(l[i]) == len(l[j]) && l[i] < l[j] })
	}
	longestFirst(r.long)
	longestFirst(r.short)
	pairs := make([]string, 0, 2*len(r.long))
	for _, f := range r.long {
		pairs = append(pairs, f, Mark)
	}
	r.replace = strings.NewReplacer(pairs...)
}

// encodings are the forms a secret takes in texts: as is, URL-encoded,
// inside a JSON string, and escaped for HTML or XML.
func encodings(s string) []string {
	j, _ := json.Marshal(s)
	out := []string{s, url.QueryEscape(s), url.PathEscape(s), string(j[1 : len(j)-1]), html.EscapeString(s)}
	seen := map[string]bool{}
	uniq := out[:0]
	for _, f := range out {
		if !seen[f] {
			seen[f] = true
			uniq = append(uniq, f)
		}
	}
	return uniq
}

// Redact is s without secrets. A nil Redactor knows no secrets but still
// removes URL userinfo and credentials after an authorization scheme.
func (r *Redactor) Redact(s string) string {
	if r != nil {
		r.mu.RLock()
		defer r.mu.RUnlock()
		if r.replace != nil {
			s = r.replace.Replace(s)
		}
		for _, f := range r.short {
			s = wholeWords(s, f)
		}
	}
	if strings.Contains(s, "://") && strings.Contains(s, "@") {
		s = userinfo.ReplaceAllString(s, "${1}"+Mark+"@")
	}
	if containsFold(s, "bearer") || containsFold(s, "basic") {
		s = scheme.ReplaceAllStringFunc(s, func(m string) string {
			sub := scheme.FindStringSubmatch(m)
			if !credential(sub[3]) {
				return m
			}
			return sub[1] + sub[2] + Mark
		})
	}
	if r != nil {
		s = r.pieces(s)
	}
	return s
}

// containsFold reports whether s holds the lower-case ASCII word w in
// any case; cheaper than the regular expression it guards.
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i]|0x20 == w[0] && strings.EqualFold(s[i:i+len(w)], w) {
			return true
		}
	}
	return false
}

// credential tells a token after "Bearer" from an English word: it has a
// digit, a symbol or a capital past its first letter, and 8 characters.
func credential(s string) bool {
	if len(s) < Reliable {
		return false
	}
	return strings.ContainsFunc(s[1:], func(c rune) bool { return !unicode.IsLower(c) })
}

// wholeWords replaces every occurrence of secret in s that is not part of
// a longer word.
func wholeWords(s, secret string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, secret)
		if i < 0 {
			break
		}
		j := i + len(secret)
		if boundary(s[:i], secret, true) && boundary(s[j:], secret, false) {
			b.WriteString(s[:i])
			b.WriteString(Mark)
		} else {
			b.WriteString(s[:j])
		}
		s = s[j:]
	}
	if b.Len() == 0 {
		return s
	}
	b.WriteString(s)
	return b.String()
}

// boundary reports whether the secret's edge does not run on into rest:
// before is the text before it (its last rune counts), else the text
// after it (its first rune).
func boundary(rest, secret string, before bool) bool {
	var near, edge rune
	if before {
		near, _ = utf8.DecodeLastRuneInString(rest)
		edge, _ = utf8.DecodeRuneInString(secret)
	} else {
		near, _ = utf8.DecodeRuneInString(rest)
		edge, _ = utf8.DecodeLastRuneInString(secret)
	}
	return rest == "" || !word(near) || !word(edge)
}

func word(c rune) bool { return c == '_' || unicode.IsLetter(c) || unicode.IsDigit(c) }

// pieces removes the pieces of secrets a cut left in s: every word of
// token characters that is the start or the end of a secret, and a start
// of one that s ends with or an end of one that s begins with, whatever
// stands before or after it there (a read stops anywhere). A piece of a
// short secret counts only as a whole word.
func (r *Redactor) pieces(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !tokenChar(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && tokenChar(s[j]) {
			j++
		}
		if r.isPiece(s[i:j]) {
			b.WriteString(s[last:i])
			b.WriteString(Mark)
			last = j
		}
		i = j
	}
	if last > 0 {
		b.WriteString(s[last:])
		s = b.String()
	}
	for i := max(0, len(s)-r.maxLen); i+minPiece <= len(s); i++ {
		if r.startOf(s[i:], s[:i]) {
			s = s[:i] + Mark
			break
		}
	}
	for i := min(len(s), r.maxLen); i >= minPiece; i-- {
		if r.endOf(s[:i], s[i:]) {
			s = Mark + s[i:]
			break
		}
	}
	return s
}

// tokenChar: the characters of a bearer token (RFC 6750's b64token).
func tokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~+/=", c) >= 0
}

// isPiece reports whether w, a whole word, is a start or an end of a secret.
func (r *Redactor) isPiece(w string) bool {
	return len(w) >= minPiece && len(w) < r.maxLen && (r.startOf(w, "") || r.endOf(w, ""))
}

// startOf reports whether piece is a proper start of a secret, standing
// apart from the text before it when the secret is short.
func (r *Redactor) startOf(piece, before string) bool {
	for _, f := range r.heads[piece[:minPiece]] {
		if len(piece) < len(f) && strings.HasPrefix(f, piece) && (len(f) >= Reliable || boundary(before, piece, true)) {
			return true
		}
	}
	return false
}

// endOf reports whether piece is a proper end of a secret, standing apart
// from the text after it when the secret is short.
func (r *Redactor) endOf(piece, after string) bool {
	for _, f := range r.tails[piece[len(piece)-minPiece:]] {
		if len(piece) < len(f) && strings.HasSuffix(f, piece) && (len(f) >= Reliable || boundary(after, piece, false)) {
			return true
		}
	}
	return false
}

// Excerpt is s redacted, then shortened to n bytes as Shorten does. Of a
// long s only the start is redacted: n bytes and room for the longest
// secret, so that a secret straddling the cut is whole when it goes.
func (r *Redactor) Excerpt(s string, n int) string {
	room := 1024 // without secrets: for a URL's userinfo, a scheme's credentials
	if r != nil {
		r.mu.RLock()
		room = max(room, r.maxLen)
		r.mu.RUnlock()
	}
	window := min(len(s), n+room)
	return shorten(r.Redact(s[:window]), n, len(s)-window)
}

// Shorten cuts s to at most n bytes on a character boundary and says how
// much was left out: "… 1234 bytes more".
func Shorten(s string, n int) string { return shorten(s, n, 0) }

// shorten is Shorten of a text that more bytes followed.
func shorten(s string, n, more int) string {
	if len(s) <= n && more == 0 {
		return s
	}
	cut := min(n, len(s))
	for cut > 0 && cut < len(s) && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… %d bytes more", s[:cut], len(s)-cut+more)
}

// Writer is w with every write redacted. Each write is redacted on its
// own, so a writer of whole messages (Ginkgo's reporter, fmt.Fprintf)
// never lets a secret through split across two writes unnoticed: the
// pieces at the ends of each are removed.
func (r *Redactor) Writer(w io.Writer) io.Writer { return writer{r, w} }

type writer struct {
	r *Redactor
	w io.Writer
}

func (w writer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(w.w, w.r.Redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
