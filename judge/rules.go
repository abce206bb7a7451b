package judge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/redact"
	"github.com/attrconform/attrconform/target"
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
	"UA-GEN-004":  "any 200 answer (the generic envelope members' types)",
	"UA-GEN-005":  "any 200 answer (no top-level error)",
	"UA-GEN-006":  "any answer of the API (a JSON object body)",
	"UA-GEN-009":  "a method a documented path does not have (405)",
	"UA-ERR-001":  "any error answer (the error envelope)",
	"UA-ERR-002":  "an error answer (documented status; the text's style for the profile)",
	"UA-CONC-002": "a PUT answered 409 (the concurrent-update text)",
	"UA-RATE-003": "an answer 429 (Retry-After in seconds)",
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
			v.fail("UA-GEN-009", "%s is not a method of this path, so the answer must be 405, not %d", s.Method, s.Status)
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
	documented := j.statuses[string(s.op)]
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

// envelopeRule: every answer is a JSON object; a success carries integer
// timestamp (Unix ms) and duration, data, no top-level error, and the
// generic members with their types; an error carries its text, timestamp
// and duration; a 429 names the seconds to wait. The documents' rules of
// the envelope are the model's.
func envelopeRule(_ *Judge, s *seen, v *verdict) {
	if s.ResponseCut {
		return
	}
	judged := []string{"UA-GEN-006"}
	problems := model.Envelope(s.answer)
	switch {
	case s.Status == http.StatusOK:
		judged = append(judged, "UA-GEN-003", "UA-GEN-004", "UA-GEN-005")
	case s.Status >= 400:
		judged = append(judged, "UA-ERR-001")
		problems = append(problems, model.ErrorBody(s.op, s.answer)...)
	}
	if s.Status == http.StatusTooManyRequests {
		judged = append(judged, "UA-RATE-003")
		problems = append(problems, model.RetryAfter(s.answer)...)
	}
	failed := map[string]bool{}
	for _, p := range problems {
		for _, id := range p.IDs {
			v.fail(id, "%s", p.Text)
			failed[id] = true
		}
	}
	for _, id := range judged {
		if !failed[id] {
			v.ok(id)
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
	case p.Kind == KindUser && s.op == model.Put && s.pathApp == p.App && s.user != "" && target.FoldName(s.user) != target.FoldName(p.User):
		judge("UA-AUTH-004", fmt.Sprintf("user %s's token writing user %s", p.User, s.user))
	case p.Kind == KindUser && s.op == model.Capacity && s.pathApp == p.App && slices.Contains(model.Statuses(profile.CapacityUserToken), s.Status):
		v.saw("UA-CAP-002", profile.CapacityUserToken, strconv.Itoa(s.Status))
		v.saw("UA-AUTH-006", profile.CapacityUserToken, strconv.Itoa(s.Status))
	case p.Kind == KindUser && s.op == model.Batch && s.pathApp == p.App && refused:
		v.fail("UA-AUTH-007", "user %s's token was refused a batch read with 401: any user token of the app may read other users", p.User)
	case p.Kind == KindUser && s.op == model.Batch && s.pathApp == p.App && s.Status == http.StatusOK:
		v.ok("UA-AUTH-007")
	}
}

// capacityRule: a capacity read answered 200 carries its byte count as a
// JSON integer, without a decimal point or exponent (UA-CAP-001; the
// contract's integer type lets 123.0 pass). Data that is no number at all
// is the contract's finding, not repeated here.
func capacityRule(_ *Judge, s *seen, v *verdict) {
	var body struct {
		Data json.RawMessage `json:"data"`
	}
	var number float64
	if s.op != model.Capacity || s.Status != http.StatusOK || s.ResponseCut || json.Unmarshal(s.answer.Body, &body) != nil || json.Unmarshal(body.Data, &number) != nil {
		return
	}
	if _, ok := model.Integer(body.Data); ok {
		v.ok("UA-CAP-001")
	} else {
		v.fail("UA-CAP-001", "data %s is not a JSON integer", oneLine(redact.Shorten(string(body.Data), 60)))
	}
}

// putLimitRule: a PUT over the per-user or the body limit is not answered
// 200, when the target declares how it measures; a body within the limit
// is not refused with 413. Sizes are the model's, each a range over the
// encoders' choices: over a limit means over it under every choice.
func putLimitRule(j *Judge, s *seen, v *verdict) {
	if s.op != model.Put {
		return
	}
	t := j.target
	pairs, parsed := formPairs(s.Exchange)
	if bodySize, ok := measureBody(t.BodyMetric, s.Exchange, pairs, parsed); ok {
		limit := t.BodyLimit()
		switch {
		case bodySize.Min > limit && s.Status == http.StatusOK:
			v.fail("UA-LIMIT-002", "a body of %s bytes (body_metric %s) over the %d-byte limit was answered 200", bodySize, t.BodyMetric, limit)
		case bodySize.Min > limit && slices.Contains(model.Statuses(profile.BodyLimitStatus), s.Status):
			v.saw("UA-LIMIT-002", profile.BodyLimitStatus, strconv.Itoa(s.Status))
		case bodySize.Max <= limit && s.Status == http.StatusRequestEntityTooLarge && !s.RequestCut:
			v.fail("UA-LIMIT-002", "a body of %s bytes (body_metric %s), within the %d-byte limit, was refused with 413", bodySize, t.BodyMetric, limit)
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
		if !slices.Contains(vs, "") {
			least[k] = shortest(vs)
		}
	}
	size := model.UserSize(t.SizeMetric, least)
	limit := t.UserLimit()
	switch {
	case size.Min > limit && s.Status == http.StatusOK:
		v.fail("UA-LIMIT-001", "this PUT alone sets %s bytes of attributes (size_metric %s), over the %d-byte limit per user, and was answered 200", size, t.SizeMetric, limit)
	case size.Min > limit && s.Status == http.StatusForbidden:
		v.ok("UA-LIMIT-001")
	}
}

// formPairs decodes a complete form body, each key with its values in
// order; false when it is cut or decodes only leniently (model.DecodeForm).
func formPairs(x evidence.Exchange) (map[string][]string, bool) {
	if x.RequestCut {
		return nil, false
	}
	f := model.DecodeForm([]byte(x.RequestBody))
	if f.Lenient {
		return nil, false
	}
	out := map[string][]string{}
	for _, p := range f.Pairs {
		out[p.Key] = append(out[p.Key], p.Value)
	}
	return out, true
}

func shortest(vs []string) string {
	s := vs[0]
	for _, v := range vs {
		if len(v) < len(s) {
			s = v
		}
	}
	return s
}

// measureBody is the body's size under the declared body_metric, and
// whether it is known.
func measureBody(metric string, x evidence.Exchange, pairs map[string][]string, parsed bool) (model.Size, bool) {
	switch {
	case metric == target.BodyRaw:
		// A cut body still proves it is at least this large.
		return model.Size{Min: x.RequestSize, Max: x.RequestSize}, true
	case metric == target.BodyJSON && parsed:
		first := map[string]string{}
		for k, vs := range pairs {
			first[k] = shortest(vs)
		}
		return model.JSON(first), true
	}
	return model.Size{}, false
}

// batchCapRule: more targets than the limit are never answered 200, and
// their refusal has the status the profile allows and the text naming the
// limit; a batch within the limit is never refused for its size.
func batchCapRule(j *Judge, s *seen, v *verdict) {
	if s.op != model.Batch || s.RequestCut {
		return
	}
	n, limit := model.DecodeBatch([]byte(s.RequestBody)).Count, j.target.BatchLimit()
	if n == 0 {
		return
	}
	kind := model.ErrBatchSize
	forSize := s.Status >= 400 && (model.Says(s.text, kind.Stem(model.Current)) || s.Status == http.StatusRequestEntityTooLarge)
	switch {
	case n > limit && s.Status == http.StatusOK:
		v.fail("UA-BATCH-006", "%d targets, over the limit of %d, were answered 200", n, limit)
	case n > limit && forSize:
		v.saw("UA-BATCH-006", profile.BatchOverLimitStatus, strconv.Itoa(s.Status))
		if want := kind.Text(model.Current, limit); !model.Says(s.text, want) {
			v.fail("UA-BATCH-006", "the refusal of %d targets says %q, not %q", n, s.text, want)
		}
	case n <= limit && s.Status == http.StatusOK:
		v.ok("UA-BATCH-005")
	case n <= limit && forSize:
		v.fail("UA-BATCH-005", "%d targets, within the limit of %d, were refused for size with %d %q", n, limit, s.Status, s.text)
	}
}

// errorText is an error whose text the documents give in two styles
// (D-10): the current documents' and the seed pages', as the model holds
// them.
type errorText struct {
	applies func(s *seen) bool
	// kinds are the documented errors the answer may be: its text is
	// recognised by the stem of any.
	kinds []model.ErrorKind
	// proven: the exchange proves the cause of the error, so a text the
	// kind does not give breaks its TextIDs; otherwise only a recognised
	// text's style is judged.
	proven bool
}

func status(op model.Op, code int) func(*seen) bool {
	return func(s *seen) bool { return s.Status == code && (op == "" || s.op == op) }
}

var errorTexts = []errorText{
	{status(model.Put, http.StatusForbidden), []model.ErrorKind{model.ErrUserTooLarge, model.ErrAppTooLarge, model.ErrBodyTooLarge}, false},
	{status(model.Put, http.StatusConflict), []model.ErrorKind{model.ErrConflict}, true},
	{status("", http.StatusTooManyRequests), []model.ErrorKind{model.ErrRateLimit}, true},
	{func(s *seen) bool {
		return status(model.Put, http.StatusNotFound)(s) && s.str("error") != model.ErrUnknownApp.Type
	}, []model.ErrorKind{model.ErrUnknownUserPut}, false},
	{func(s *seen) bool {
		p := s.principal
		return status(model.Put, http.StatusUnauthorized)(s) && p.Kind == KindUser && p.App == s.pathApp &&
			s.user != "" && target.FoldName(s.user) != target.FoldName(p.User)
	}, []model.ErrorKind{model.ErrOtherUserWrite}, true},
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
		for _, style := range model.Styles {
			if slices.ContainsFunc(e.kinds, func(k model.ErrorKind) bool { return model.Says(s.text, k.Stem(style)) }) {
				matched = append(matched, string(style))
			}
		}
		k := e.kinds[0]
		if len(matched) == 0 {
			if e.proven {
				for _, id := range k.TextIDs {
					v.fail(id, "error text %q is neither the current %q nor the legacy %q", s.text, k.Current, k.Legacy)
				}
			}
			continue
		}
		if e.proven {
			v.ok(k.TextIDs...)
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

func ints(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " ")
}
