package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Answer is what a target answered one request, with the times the
// request left and the answer arrived: the envelope's timestamp and
// duration are judged against them. Zero times judge only the units.
type Answer struct {
	Status         int
	Header         http.Header
	Body           []byte
	Sent, Received time.Time
}

// Problem is a way an answer breaks the documents, with the requirements
// it breaks.
type Problem struct {
	IDs  []string
	Text string
}

func (p Problem) String() string { return strings.Join(p.IDs, ", ") + ": " + p.Text }

func problem(ids []string, format string, a ...any) Problem {
	return Problem{IDs: ids, Text: fmt.Sprintf(format, a...)}
}

// body is an answer's JSON object, read once.
type body struct {
	obj map[string]json.RawMessage
	// text is the human error text (Reason).
	text string
}

func readBody(a Answer) (body, bool) {
	var b body
	if json.Unmarshal(a.Body, &b.obj) != nil || b.obj == nil {
		return b, false
	}
	b.text = b.str("error_description")
	if b.text == "" {
		b.text = b.str("desc")
	}
	return b, true
}

// Reason is the human text an error answer gives: error_description, else
// the older documents' desc (D-10); "" when it gives none.
func Reason(a Answer) string {
	b, _ := readBody(a)
	return b.text
}

func (b body) str(name string) string {
	var s string
	json.Unmarshal(b.obj[name], &s)
	return s
}

func (b body) has(name string) bool { _, ok := b.obj[name]; return ok }

var integerLiteral = regexp.MustCompile(`^-?[0-9]+$`)

// integer is the member as a JSON integer (Integer).
func (b body) integer(name string) (int64, bool) { return Integer(b.obj[name]) }

// Integer is raw as a JSON integer literal, and whether it is one: a
// fraction or an exponent ("26.0", "2.6e1") is not, as the documents'
// integers (timestamps, durations, a capacity: UA-GEN-003, UA-CAP-001)
// are read by clients that decode them into integer types.
func Integer(raw json.RawMessage) (int64, bool) {
	raw = bytes.TrimSpace(raw)
	if !integerLiteral.Match(raw) {
		return 0, false
	}
	var n int64
	if json.Unmarshal(raw, &n) != nil {
		return 0, false
	}
	return n, true
}

var (
	successIDs = []string{"UA-GEN-003"}
	errorIDs   = []string{"UA-ERR-001"}
)

// Envelope judges what every answer must be whatever the request: a JSON
// object with Content-Type application/json (UA-GEN-006); a 200 holds
// data and no top-level error (UA-GEN-003, -005), and the generic members
// with their documented types (UA-GEN-004); timestamp is an integer of
// Unix milliseconds within the exchange and duration an integer of
// milliseconds no longer than the exchange (UA-GEN-003 for a success,
// UA-ERR-001 for an error).
func Envelope(a Answer) []Problem {
	var out []Problem
	if mt := mediaType(a.Header.Get("Content-Type")); mt != jsonType {
		out = append(out, problem([]string{"UA-GEN-006"}, "Content-Type is %q, not application/json", a.Header.Get("Content-Type")))
	}
	b, ok := readBody(a)
	if !ok {
		return append(out, problem([]string{"UA-GEN-006"}, "the body is not a JSON object: %s", excerpt(a.Body, 120)))
	}
	ids := errorIDs
	if a.Status == http.StatusOK {
		ids = successIDs
		if !b.has("data") {
			out = append(out, problem(ids, "a success body has no data"))
		}
		if b.has("error") {
			out = append(out, problem([]string{"UA-GEN-005"}, "a success body carries a top-level error member"))
		}
		out = append(out, genericMembers(b)...)
	}
	out = append(out, times(a, b, ids)...)
	return out
}

// ErrorBody judges what an error answer (a status of 400 or more) to op
// says beside its envelope: its reason, in error_description or desc, the
// same text in both when both are given (UA-ERR-001). The older documents
// answer a read of a user without an account with 404 and the success
// envelope's empty data instead (UA-GET-003), which is judged as such.
func ErrorBody(op Op, a Answer) []Problem {
	b, ok := readBody(a)
	if !ok || a.Status < 400 {
		return nil
	}
	if op == Get && a.Status == http.StatusNotFound {
		raw, present := b.obj["data"]
		return notFound.check(raw, present, b)
	}
	return errorText(b)
}

// MaxRetryAfter is the longest wait a refusal for rate may name: the limit
// counts calls per second (UA-RATE-001), so a longer wait is no pause
// but a ban.
const MaxRetryAfter = 60

// RetryAfter judges a refusal for rate's Retry-After: the seconds to
// wait, a pause of at most MaxRetryAfter (UA-RATE-003).
func RetryAfter(a Answer) []Problem {
	ids := []string{"UA-RATE-003"}
	v := a.Header.Get("Retry-After")
	n, err := strconv.Atoi(v)
	switch {
	case v == "":
		return []Problem{problem(ids, "a refusal for rate without Retry-After")}
	case err != nil || n < 0:
		return []Problem{problem(ids, "Retry-After %q is not a number of seconds", v)}
	case n > MaxRetryAfter:
		return []Problem{problem(ids, "Retry-After %d is no pause but a ban (more than %d seconds)", n, MaxRetryAfter)}
	}
	return nil
}

// errorText judges the text of an error body.
func errorText(b body) []Problem {
	var out []Problem
	if b.text == "" {
		out = append(out, problem(errorIDs, "the error has no text in error_description or desc"))
	}
	if d, e := b.str("desc"), b.str("error_description"); d != "" && e != "" && d != e {
		out = append(out, problem(errorIDs, "desc %q differs from error_description %q", d, e))
	}
	return out
}

// times judges timestamp and duration by their units.
func times(a Answer, b body, ids []string) []Problem {
	var out []Problem
	ts, ok := b.integer("timestamp")
	lo, hi := int64(1e12), int64(1e14) // any time of this century, in ms
	if !a.Sent.IsZero() && !a.Received.IsZero() {
		lo, hi = a.Sent.UnixMilli()-ClockSkew, a.Received.UnixMilli()+ClockSkew
	}
	switch {
	case !b.has("timestamp"):
		out = append(out, problem(ids, "timestamp is missing"))
	case !ok:
		out = append(out, problem(ids, "timestamp %s is not a JSON integer", b.obj["timestamp"]))
	case ts < lo || ts > hi:
		out = append(out, problem(ids, "timestamp %d is not the time of the exchange in Unix milliseconds (between %d and %d, allowing %d minutes of clock skew)", ts, lo, hi, ClockSkew/60000))
	}
	d, ok := b.integer("duration")
	switch {
	case !b.has("duration"):
		out = append(out, problem(ids, "duration is missing"))
	case !ok:
		out = append(out, problem(ids, "duration %s is not a JSON integer", b.obj["duration"]))
	case d < 0:
		out = append(out, problem(ids, "duration %d is negative", d))
	case !a.Sent.IsZero() && !a.Received.IsZero():
		elapsed := a.Received.Sub(a.Sent)
		limit := int64((elapsed+time.Millisecond-1)/time.Millisecond) + DurationSlack
		if d > limit {
			out = append(out, problem(ids, "duration %d is longer than the whole exchange (%v) in milliseconds: not a duration in ms", d, elapsed.Round(time.Microsecond)))
		}
	}
	return out
}

// genericMembers judges the generic envelope members a success may add
// (UA-GEN-004) by their documented types.
func genericMembers(b body) []Problem {
	var out []Problem
	ids := []string{"UA-GEN-004"}
	for _, k := range []string{"action", "organization", "application", "applicationName", "uri", "path"} {
		var s string
		if raw, ok := b.obj[k]; ok && json.Unmarshal(raw, &s) != nil {
			out = append(out, problem(ids, "%s is %s, not a string", k, raw))
		}
	}
	var entities []json.RawMessage
	if raw, ok := b.obj["entities"]; ok && json.Unmarshal(raw, &entities) != nil {
		out = append(out, problem(ids, "entities is %s, not an array", raw))
	}
	if raw, ok := b.obj["lastModified"]; ok {
		var one int64
		var many map[string]int64
		if json.Unmarshal(raw, &one) != nil && json.Unmarshal(raw, &many) != nil {
			out = append(out, problem(ids, "lastModified is %s, neither a time in ms nor a map of them", raw))
		}
	}
	return out
}
