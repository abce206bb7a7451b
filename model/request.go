package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Op is one of the five operations.
type Op string

// The operations, by the contract's operationId.
const (
	Put      Op = "setUserAttributes"
	Get      Op = "getUserAttributes"
	Batch    Op = "batchGetUserAttributes"
	Capacity Op = "getAttributeCapacity"
	Delete   Op = "deleteUserAttributes"
	// Other is a request outside the five operations (Request.Verb and
	// Request.Route say what): a method a documented path does not have,
	// a PUT without a username, a path that names no operation.
	Other Op = "other"
)

// Ops lists the operations.
var Ops = []Op{Put, Get, Batch, Capacity, Delete}

// Kind is what a request's token is, as the model tells principals apart.
type Kind string

// The kinds of principal, named as judge.Principal names them.
const (
	KindAdmin Kind = "admin" // an app's admin token
	KindUser  Kind = "user"  // a listed user's token
	KindNone  Kind = "none"  // no Authorization header
	// KindUnknown is a token no app issued: malformed or never issued.
	KindUnknown Kind = "unknown"
)

// Principal is who a request acts as: the kind of its token, the role of
// the app that issued it (target.MainApp or an extra_apps key) and, for a
// user token, the user.
type Principal struct {
	Kind Kind
	App  string
	User string
}

func (p Principal) String() string {
	app := ""
	if p.App != "" && p.App != mainApp {
		app = " of app " + p.App
	}
	switch p.Kind {
	case KindAdmin:
		return "admin" + app
	case KindUser:
		return "user " + p.User + app
	case KindNone:
		return "no token"
	}
	return "an unknown token"
}

// NoSuchApp is the role of an app the target does not have: requests to
// it address an org or app that does not exist (UA-GEN-001).
const NoSuchApp = "no-such-app"

// Request is one request as the model reads it.
type Request struct {
	Principal Principal
	// App is the role of the app the path addresses, or NoSuchApp.
	App string
	Op  Op
	// User is the decoded {username} of PUT, GET and DELETE; RawUser is
	// the path segment as sent, when it is not url.PathEscape(User).
	User, RawUser string
	Body          []byte
	// ContentType is the Content-Type header as sent, "" for none.
	ContentType string
	// Verb and Route are the method and the path below /{org}/{app} of a
	// request of Op Other.
	Verb, Route string
	// Fault asks a target with fault hooks for a failure (wire.FaultStore,
	// wire.FaultOverload); "" for none.
	Fault string
}

// Method is the request's HTTP method.
func (r Request) Method() string {
	switch r.Op {
	case Other:
		return r.Verb
	case Put:
		return http.MethodPut
	case Batch:
		return http.MethodPost
	case Delete:
		return http.MethodDelete
	}
	return http.MethodGet
}

// Path is the request's path below /{org}/{app}.
func (r Request) Path() string {
	switch r.Op {
	case Other:
		return r.Route
	case Batch:
		return "/metadata/user/get"
	case Capacity:
		return "/metadata/user/capacity"
	}
	if r.RawUser != "" {
		return "/metadata/user/" + r.RawUser
	}
	return "/metadata/user/" + url.PathEscape(r.User)
}

func (r Request) String() string {
	s := fmt.Sprintf("%s %s", r.Method(), r.Path())
	if r.App != mainApp {
		s += " (app " + r.App + ")"
	}
	s += " as " + r.Principal.String()
	if r.Fault != "" {
		s += " asking for fault " + r.Fault
	}
	if len(r.Body) > 0 {
		s += fmt.Sprintf(" [%s] %s", r.ContentType, excerpt(r.Body, 160))
	} else if r.ContentType != "" {
		s += " [" + r.ContentType + "]"
	}
	return s
}

func excerpt(b []byte, n int) string {
	s := string(b)
	if !utf8.ValidString(s) {
		s = fmt.Sprintf("%q", s)
	}
	if len(s) > n {
		return fmt.Sprintf("%s… (%d bytes)", s[:n], len(b))
	}
	return s
}

// mediaType is the lower-cased media type of a Content-Type, "" when
// there is none or it does not parse.
func mediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return strings.ToLower(mt)
}

const (
	formType = "application/x-www-form-urlencoded"
	jsonType = "application/json"
)

// Pair is one key=value of a form body, decoded. Plain reports that it was
// sent as unreserved characters only, so no decoding rule applied to it.
type Pair struct {
	Key, Value string
	Plain      bool
	// Verbatim is the pair with each component that needed leniency taken
	// byte for byte as sent (its + and % kept): the other reading of such
	// a component.
	Verbatim *Pair
}

// Form is a form body decoded by the HTML form rules (UA-PUT-003): pairs
// split on &, key and value on the first =, + and %20 are spaces, %XX
// escapes are bytes of UTF-8, anything else is taken as sent.
type Form struct {
	Pairs []Pair
	// Lenient reports that the body is only decodable leniently: it holds
	// a % that starts no escape or bytes that are not UTF-8 once decoded.
	// The HTML form rules keep such a % as it is and replace such bytes
	// with U+FFFD; a server may instead take such a component as it was
	// sent (the documents take unescaped values as they are), or refuse
	// the body with 400.
	Lenient bool
}

// DecodeForm decodes a form body.
func DecodeForm(body []byte) Form {
	var f Form
	for _, part := range bytes.Split(body, []byte("&")) {
		if len(part) == 0 {
			continue
		}
		k, v, _ := bytes.Cut(part, []byte("="))
		key, okK := unescape(k)
		val, okV := unescape(v)
		p := Pair{Key: key, Value: val, Plain: unreserved(k) && unreserved(v)}
		if !okK || !okV {
			f.Lenient = true
			verbatim := p
			if !okK && utf8.Valid(k) {
				verbatim.Key = string(k)
			}
			if !okV && utf8.Valid(v) {
				verbatim.Value = string(v)
			}
			p.Verbatim = &verbatim
		}
		f.Pairs = append(f.Pairs, p)
	}
	return f
}

// unescape decodes one form component; false when it needed leniency.
func unescape(b []byte) (string, bool) {
	ok := true
	var out []byte
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '+':
			out = append(out, ' ')
		case c == '%' && i+2 < len(b) && hex(b[i+1]) && hex(b[i+2]):
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
		case c == '%':
			ok = false
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	if !utf8.Valid(out) {
		ok = false
		out = []byte(strings.ToValidUTF8(string(out), "\uFFFD"))
	}
	return string(out), ok
}

func unreserved(b []byte) bool {
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '*') {
			return false
		}
	}
	return true
}

func hex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// BatchBody is a batch read's body as the model reads it.
type BatchBody struct {
	// Problem says why the body is malformed (UA-BATCH-008), "" when it
	// is well formed.
	Problem string
	// Targets are the usernames as sent; Count is how many elements
	// targets has, counted as sent (UA-BATCH-009), valid or not.
	Targets []string
	Count   int
	// Properties are the keys asked for; NoProperties when properties
	// is missing, null or empty (UA-BATCH-004).
	Properties   []string
	NoProperties bool
}

// DecodeBatch reads a batch body (UA-BATCH-001, -008, OQ-11, OQ-18).
func DecodeBatch(body []byte) BatchBody {
	var out BatchBody
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		out.Problem = "the body is not a JSON object"
		return out
	}
	var targets []json.RawMessage
	switch raw, ok := obj["targets"]; {
	case !ok || string(raw) == "null":
		out.Problem = "targets is missing"
	case json.Unmarshal(raw, &targets) != nil:
		out.Problem = "targets is not an array"
	case len(targets) == 0:
		out.Problem = "targets is empty"
	}
	out.Count = len(targets)
	for _, t := range targets {
		var s string
		if json.Unmarshal(t, &s) != nil {
			out.Problem = "targets holds something other than a string"
			continue
		}
		out.Targets = append(out.Targets, s)
	}
	var props []json.RawMessage
	switch raw, ok := obj["properties"]; {
	case !ok || string(raw) == "null":
		out.NoProperties = true
	case json.Unmarshal(raw, &props) != nil:
		if out.Problem == "" {
			out.Problem = "properties is not an array"
		}
	case len(props) == 0:
		out.NoProperties = true
	}
	for _, p := range props {
		var s string
		if json.Unmarshal(p, &s) != nil {
			if out.Problem == "" {
				out.Problem = "properties holds something other than a string"
			}
			continue
		}
		out.Properties = append(out.Properties, s)
	}
	return out
}
