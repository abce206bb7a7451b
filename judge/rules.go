package judge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/redact"
	"github.com/attrconform/attrconform/target"
)

// Operations of the contract the rules refer to.
const (
	opPut      = "setUserAttributes"
	opBatch    = "batchGetUserAttributes"
	opCapacity = "getAttributeCapacity"
)

// A rule judges one exchange: it records the requirements it held and
// those it found violated.
type rule func(j *Judge, s *seen, v *verdict)

var rules = []rule{contractRule, envelopeRule, authRule, putLimitRule, batchCapRule, capacityRule, textRule}

// Judged says, for each requirement a rule can judge, on which exchanges
// it does: what a report says of a requirement the traffic did not
// exercise.
var Judged = map[string]string{
	"UA-GEN-002":  "any success (200 exactly) or answer of a documented operation",
	"UA-GEN-003":  "any 200 answer (timestamp, duration, data; the contract's schema)",
	"UA-GEN-005":  "any 200 answer (no top-level error)",
	"UA-GEN-006":  "any answer of the API (a JSON object body)",
	"UA-GEN-009":  "a method a documented path does not have (405)",
	"UA-ERR-001":  "any error answer (the error envelope)",
	"UA-ERR-002":  "an error answer (documented status; the text's style for the profile)",
	"UA-CONC-002": "a PUT answered 409 (the concurrent-update text)",
	"UA-RATE-003": "an answer 429 (Retry-After)",
	"UA-AUTH-001": "a request without a token",
	"UA-AUTH-004": "a PUT with a listed user's token for another user",
	"UA-AUTH-010": "a request with a listed token of one app to another of the target's apps",
	"UA-AUTH-007": "a batch read with a listed user's token",
	"UA-CAP-001":  "a capacity read answered 200 (data a JSON integer)",
	"UA-CAP-002":  "a capacity read with a listed user's token",
	"UA-AUTH-006": "a capacity read with a listed user's token",
	"UA-LIMIT-001": "a PUT whose own attributes exceed the per-user limit under the declared size_metric " +
		"(a total reached with attributes stored earlier is not visible in one exchange)",
	"UA-LIMIT-002": "a PUT whose body exceeds the body limit under the declared body_metric, or a 413",
	"UA-BATCH-005": "a batch read of 1 to the limit of targets",
	"UA-BATCH-006": "a batch read of more targets than the limit",
}

// contractRule: the status is documented for the operation, and the
// exchange conforms to openapi.yaml.
func contractRule(j *Judge, s *seen, v *verdict) {
	c := s.checked
	switch {
	case c.MethodNotAllowed:
		if s.Status == http.StatusMethodNotAllowed {
			v.ok("UA-GEN-009")
		} else {
			v.fail("UA-GEN-009", "%s is not a method of this path, so the answer must be 405, not %d", s.Request.Method, s.Status)
		}
		if c.Response != nil && s.Status >= 400 {
			v.otherwise("UA-ERR-001", "the error answer breaks openapi.yaml: %s", oneLine(c.Response.Finding))
		}
		return
	case s.op == "":
		if c.Response != nil {
			v.otherwise("UA-ERR-001", "the answer to an undocumented route breaks openapi.yaml: %s", oneLine(c.Response.Finding))
		}
		return
	}
	documented := j.statuses[s.op]
	success := s.Status >= 200 && s.Status < 300
	switch {
	case !slices.Contains(documented, s.Status) && success:
		v.fail("UA-GEN-002", "success must be 200 exactly; %s answered %d", s.op, s.Status)
		return
	case !slices.Contains(documented, s.Status):
		v.fail("UA-ERR-002", "%d is not a documented status of %s (documented: %s)", s.Status, s.op, ints(documented))
		return
	case s.Status == http.StatusOK:
		v.ok("UA-GEN-002")
	default:
		v.ok("UA-ERR-002")
	}
	id := "UA-ERR-001"
	if s.Status == http.StatusOK {
		id = "UA-GEN-003"
	}
	if c.Response != nil {
		v.otherwise(id, "the answer breaks openapi.yaml: %s", oneLine(c.Response.Finding))
	} else {
		v.ok(id)
	}
}

// integers match a top-level JSON integer member, as the suite's envelope
// spec does: "26.0" or "2.6e1" is not one.
var integers = map[string]*regexp.Regexp{
	"timestamp": regexp.MustCompile(`"timestamp"\s*:\s*\d+\s*[,}]`),
	"duration":  regexp.MustCompile(`"duration"\s*:\s*\d+\s*[,}]`),
	"data":      regexp.MustCompile(`"data"\s*:\s*\d+\s*[,}]`),
}

func integer(body []byte, name string) bool { return integers[name].Match(body) }

// envelopeRule: every answer is a JSON object; a success carries integer
// timestamp (Unix ms) and duration, data, and no top-level error; an
// error carries its text, timestamp and duration.
func envelopeRule(j *Judge, s *seen, v *verdict) {
	if s.BodyTruncated {
		return
	}
	if mt, _, _ := mime.ParseMediaType(s.Header.Get("Content-Type")); mt != "application/json" {
		v.fail("UA-GEN-006", "Content-Type is %q, not application/json", s.Header.Get("Content-Type"))
	} else if s.obj == nil {
		v.fail("UA-GEN-006", "the body is not a JSON object: %s", j.excerpt(s.Body))
	} else {
		v.ok("UA-GEN-006")
	}
	if s.obj == nil {
		return
	}
	var ts float64
	json.Unmarshal(s.obj["timestamp"], &ts)
	switch {
	case s.Status == http.StatusOK:
		var problems []string
		if !integer(s.Body, "timestamp") || ts < 1.5e12 {
			problems = append(problems, "timestamp is not an integer of Unix milliseconds")
		}
		if !integer(s.Body, "duration") {
			problems = append(problems, "duration is not an integer ≥ 0")
		}
		if _, ok := s.obj["data"]; !ok {
			problems = append(problems, "data is missing")
		}
		if len(problems) > 0 {
			v.fail("UA-GEN-003", "the success body: %s", strings.Join(problems, ", "))
		} else {
			v.ok("UA-GEN-003")
		}
		if _, ok := s.obj["error"]; ok {
			v.fail("UA-GEN-005", "a success body carries a top-level error member")
		} else {
			v.ok("UA-GEN-005")
		}
	case s.Status >= 400:
		var problems []string
		if s.text == "" {
			problems = append(problems, "no text in error_description or desc")
		}
		if ts < 1.5e12 {
			problems = append(problems, "timestamp is not Unix milliseconds")
		}
		if _, ok := s.obj["duration"]; !ok {
			problems = append(problems, "duration is missing")
		}
		if d, e := s.str("desc"), s.str("error_description"); d != "" && e != "" && d != e {
			problems = append(problems, fmt.Sprintf("desc %q differs from error_description %q", d, e))
		}
		if len(problems) > 0 {
			v.fail("UA-ERR-001", "the error body: %s", strings.Join(problems, ", "))
		} else {
			v.ok("UA-ERR-001")
		}
	}
	if s.Status == http.StatusTooManyRequests {
		if n, err := strconv.Atoi(s.Header.Get("Retry-After")); err != nil || n < 0 {
			v.fail("UA-RATE-003", "a 429 without Retry-After in seconds (got %q)", s.Header.Get("Retry-After"))
		} else {
			v.ok("UA-RATE-003")
		}
	}
}

// authRule judges what the token proves: no token, a listed user's token
// writing another user, a listed token of one app used on another, a
// user token reading capacity, a user token refused a batch read.
func authRule(_ *Judge, s *seen, v *verdict) {
	p := s.principal
	refused := s.Status == http.StatusUnauthorized
	judge := func(id, what string) {
		switch {
		case s.Status == http.StatusOK:
			v.fail(id, "%s was answered 200, not 401", what)
		case refused:
			v.ok(id)
		}
	}
	switch {
	case s.op == "":
	case p.Kind == KindNone:
		judge("UA-AUTH-001", "a request without a token")
	case (p.Kind == KindAdmin || p.Kind == KindUser) && s.pathApp != "" && p.App != s.pathApp:
		judge("UA-AUTH-010", fmt.Sprintf("a token of app role %s used on app role %s", p.App, s.pathApp))
	case p.Kind == KindUser && s.op == opPut && s.pathApp == p.App && s.user != "" && target.FoldName(s.user) != target.FoldName(p.User):
		judge("UA-AUTH-004", fmt.Sprintf("user %s's token writing user %s", p.User, s.user))
	case p.Kind == KindUser && s.op == opCapacity && s.pathApp == p.App && (s.Status == http.StatusOK || refused):
		v.saw("UA-CAP-002", profile.CapacityUserToken, strconv.Itoa(s.Status))
		v.saw("UA-AUTH-006", profile.CapacityUserToken, strconv.Itoa(s.Status))
	case p.Kind == KindUser && s.op == opBatch && s.pathApp == p.App && refused:
		v.fail("UA-AUTH-007", "user %s's token was refused a batch read with 401: any user token of the app may read other users", p.User)
	case p.Kind == KindUser && s.op == opBatch && s.pathApp == p.App && s.Status == http.StatusOK:
		v.ok("UA-AUTH-007")
	}
}

// capacityRule: a capacity read answered 200 carries its byte count as a
// JSON integer, without a decimal point or exponent (UA-CAP-001; the
// contract's integer type lets 123.0 pass).
func capacityRule(_ *Judge, s *seen, v *verdict) {
	if s.op != opCapacity || s.Status != http.StatusOK || s.obj == nil {
		return
	}
	if integer(s.Body, "data") {
		v.ok("UA-CAP-001")
	} else {
		v.fail("UA-CAP-001", "data %s is not a JSON integer", oneLine(redact.Shorten(string(s.obj["data"]), 60)))
	}
}

// putLimitRule: a PUT over the per-user or the body limit is not answered
// 200, when the target declares how it measures; a body within the limit
// is not refused with 413.
func putLimitRule(j *Judge, s *seen, v *verdict) {
	if s.op != opPut {
		return
	}
	t := j.target
	pairs, parsed := formPairs(s.Exchange)
	if bodySize, ok := measureBody(t.BodyMetric, s.Exchange, pairs, parsed); ok {
		limit := t.BodyLimit()
		switch {
		case bodySize > limit && s.Status == http.StatusOK:
			v.fail("UA-LIMIT-002", "a body of %d bytes (body_metric %s) over the %d-byte limit was answered 200", bodySize, t.BodyMetric, limit)
		case bodySize > limit && (s.Status == http.StatusForbidden || s.Status == http.StatusRequestEntityTooLarge):
			v.saw("UA-LIMIT-002", profile.BodyLimitStatus, strconv.Itoa(s.Status))
		case bodySize <= limit && s.Status == http.StatusRequestEntityTooLarge && s.requestComplete():
			v.fail("UA-LIMIT-002", "a body of %d bytes (body_metric %s), within the %d-byte limit, was refused with 413", bodySize, t.BodyMetric, limit)
		}
	}
	if !parsed || t.SizeMetric == "" {
		return
	}
	// What the user holds after this PUT includes, at least, every key it
	// sends with a non-empty value (an empty one may remove its key), each
	// with its shortest value (which occurrence of a key wins is open).
	least := map[string]string{}
	for k, vs := range pairs {
		shortest, keep := vs[0], true
		for _, val := range vs {
			keep = keep && val != ""
			if len(val) < len(shortest) {
				shortest = val
			}
		}
		if keep {
			least[k] = shortest
		}
	}
	size := measure(t.SizeMetric, least)
	limit := t.UserLimit()
	switch {
	case size > limit && s.Status == http.StatusOK:
		v.fail("UA-LIMIT-001", "this PUT alone sets %d bytes of attributes (size_metric %s), over the %d-byte limit per user, and was answered 200", size, t.SizeMetric, limit)
	case size > limit && s.Status == http.StatusForbidden:
		v.ok("UA-LIMIT-001")
	}
}

// formPairs decodes a complete form body; false when it is cut or not a
// form the standard rules decode into valid UTF-8.
func formPairs(x Exchange) (url.Values, bool) {
	if !x.requestComplete() {
		return nil, false
	}
	values, err := url.ParseQuery(string(x.RequestBody))
	if err != nil {
		return nil, false
	}
	for k, vs := range values {
		if !utf8.ValidString(k) || slices.ContainsFunc(vs, func(s string) bool { return !utf8.ValidString(s) }) {
			return nil, false
		}
	}
	return values, true
}

// measureBody is the body's size under the declared body_metric, and
// whether it is known.
func measureBody(metric string, x Exchange, pairs url.Values, parsed bool) (int64, bool) {
	switch {
	case metric == target.BodyRaw:
		// A cut body still proves it is at least this large.
		return x.RequestSize, true
	case metric == target.BodyJSON && parsed:
		first := map[string]string{}
		for k, vs := range pairs {
			first[k] = vs[0]
			for _, val := range vs {
				if len(val) < len(first[k]) {
					first[k] = val
				}
			}
		}
		return measure(target.MetricJSON, first), true
	}
	return 0, false
}

// measure is the size of attrs under a size metric, computed here rather
// than borrowed from the reference, which is one of the servers judged:
// json is the byte length of the compact UTF-8 JSON object (no HTML
// escaping; 0 for no attributes), pairs the sum of key and value lengths.
func measure(metric string, attrs map[string]string) int64 {
	if len(attrs) == 0 {
		return 0
	}
	if metric == target.MetricPairs {
		var n int64
		for k, val := range attrs {
			n += int64(len(k) + len(val))
		}
		return n
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(attrs)
	return int64(b.Len() - 1) // Encode ends with a newline
}

// batchText is the text of a batch refused for its size.
const batchText = "exceed allowed batch size"

// batchCapRule: more targets than the limit are never answered 200, and
// their refusal has the status the profile allows and the text naming the
// limit; a batch within the limit is never refused for its size.
func batchCapRule(j *Judge, s *seen, v *verdict) {
	if s.op != opBatch || !s.requestComplete() {
		return
	}
	var body struct {
		Targets []json.RawMessage `json:"targets"`
	}
	if json.Unmarshal(s.RequestBody, &body) != nil || len(body.Targets) == 0 {
		return
	}
	n, limit := len(body.Targets), j.target.BatchLimit()
	forSize := s.Status >= 400 && (containsFold(s.text, batchText) || s.Status == http.StatusRequestEntityTooLarge)
	switch {
	case n > limit && s.Status == http.StatusOK:
		v.fail("UA-BATCH-006", "%d targets, over the limit of %d, were answered 200", n, limit)
	case n > limit && forSize:
		v.saw("UA-BATCH-006", profile.BatchOverLimitStatus, strconv.Itoa(s.Status))
		// The limit as a whole number: "… size 1000" does not name 100.
		want := fmt.Sprintf("%s %d", batchText, limit)
		if !regexp.MustCompile(`(?i)` + want + `\b`).MatchString(s.text) {
			v.fail("UA-BATCH-006", "the refusal of %d targets says %q, not %q", n, s.text, want)
		}
	case n <= limit && s.Status == http.StatusOK:
		v.ok("UA-BATCH-005")
	case n <= limit && forSize:
		v.fail("UA-BATCH-005", "%d targets, within the limit of %d, were refused for size with %d %q", n, limit, s.Status, s.text)
	}
}

// errorText is an error whose text the documents give in two styles
// (D-10): the current documents' and the seed pages'.
type errorText struct {
	applies         func(s *seen) bool
	current, legacy string
	// required is the requirement a different text violates, when the
	// exchange proves the cause of the error; "" when it does not, and
	// only a recognised text's style is judged.
	required string
}

func status(op string, code int) func(*seen) bool {
	return func(s *seen) bool { return s.Status == code && (op == "" || s.op == op) }
}

var errorTexts = []errorText{
	{status(opPut, http.StatusForbidden), "exceeds the user defined limit", "user metadata length exceed the limit", ""},
	{status(opPut, http.StatusConflict), "Failed to update userMetadata. Concurrent updates not allowed", "update userMetadata failed, concurrent updates not allowed", "UA-CONC-002"},
	{status("", http.StatusTooManyRequests), "This request has reached api limit", "reached api limit", "UA-ERR-002"},
	{func(s *seen) bool {
		return status(opPut, http.StatusNotFound)(s) && s.str("error") != "organization_application_not_found"
	}, "Service resource not found", "Not Found", ""},
	{func(s *seen) bool {
		p := s.principal
		return status(opPut, http.StatusUnauthorized)(s) && p.Kind == KindUser && p.App == s.pathApp &&
			s.user != "" && target.FoldName(s.user) != target.FoldName(p.User)
	}, "auth error", "unauthorized", "UA-ERR-002"},
}

// textRule: an error text the documents give is in a style the profile
// accepts (lenient accepts both, as the suite's expectText does), and
// where the exchange proves the cause, the text is the documented one.
func textRule(_ *Judge, s *seen, v *verdict) {
	if s.Status < 400 || s.obj == nil || s.op == "" {
		return
	}
	for _, e := range errorTexts {
		if !e.applies(s) {
			continue
		}
		var matched []string
		if containsFold(s.text, e.current) {
			matched = append(matched, profile.Current)
		}
		if containsFold(s.text, e.legacy) {
			matched = append(matched, profile.Legacy)
		}
		if len(matched) == 0 {
			if e.required != "" {
				v.fail(e.required, "error text %q is neither the current %q nor the legacy %q", s.text, e.current, e.legacy)
			}
			continue
		}
		if e.required != "" {
			v.ok(e.required)
		}
		style := matched[0]
		for _, m := range matched {
			if v.profile.Accepts(profile.ErrorTextStyle, m) {
				style = m
				break
			}
		}
		v.saw("UA-ERR-002", profile.ErrorTextStyle, style)
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// excerpt is the start of a body for a problem's text, redacted before it
// is cut.
func (j *Judge) excerpt(b []byte) string {
	if len(b) == 0 {
		return "(empty)"
	}
	shown := redact.Shorten(j.redact(string(b)), 120)
	if !utf8.ValidString(shown) {
		return fmt.Sprintf("%q (not UTF-8)", shown)
	}
	return oneLine(shown)
}

func ints(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " ")
}
