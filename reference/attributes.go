package reference

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/reference/store"
	"github.com/attrconform/attrconform/target"
)

// maxBatchBody bounds what the batch operation reads: 100 targets of 64
// bytes and their properties fit many times over. maxFormBody bounds what
// a PUT reads under the json body metric, before its pairs are measured.
const (
	maxBatchBody = 1 << 20
	maxFormBody  = 1 << 20
)

func (s *Server) choice(k profile.Knob) string { return s.cfg.Profile.Choice(k) }

// setAttributes merges the form pairs into the user's attributes under
// optimistic locking (UA-PUT-004, UA-CONC-001).
func (s *Server) setAttributes(c *call, username string) result {
	user := target.FoldName(username)
	if !c.admin() && !c.isUser(user) {
		// Also for users without an account: an ordinary user learns nothing (UA-AUTH-005).
		return fail(s.texts.errNotThisUser())
	}
	if !target.ValidUsername(username) {
		return fail(s.texts.errUserNotFound())
	}
	if s.choice(profile.PutUnknownUserAsAdmin) == "404" {
		if has, e := s.hasUser(c.app, user); e != nil {
			return fail(e)
		} else if !has {
			return fail(s.texts.errUserNotFound())
		}
	}
	ct := c.r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/x-www-form-urlencoded" {
		return fail(errMediaType(ct))
	}
	// Under the raw body metric nothing past the limit needs reading;
	// under the json one the pairs are measured once decoded.
	readCap := s.cfg.Limits.BodyBytes
	if s.cfg.BodyMetric == BodyJSON {
		readCap = max(readCap, maxFormBody)
	}
	body, err := io.ReadAll(io.LimitReader(c.r.Body, readCap+1))
	if err != nil {
		return fail(errIllegalArgument("reading the request body: " + err.Error()))
	}
	if int64(len(body)) > readCap {
		return fail(s.errBodyTooLarge())
	}
	pairs, order, perr := parseForm(string(body))
	if perr != nil {
		return fail(perr)
	}
	if s.cfg.BodyMetric == BodyJSON {
		if n, err := MetricJSON.Measure(pairs); err != nil || n > s.cfg.Limits.BodyBytes {
			return fail(s.errBodyTooLarge())
		}
	}
	if len(order) == 0 {
		if s.choice(profile.EmptyPut) == "400" {
			return fail(errIllegalArgument("the request body holds no attributes"))
		}
		e, err := s.cfg.Store.Load(c.app.key(), user)
		if err != nil {
			return fail(s.storeFailed(err))
		}
		return ok(e.Attrs)
	}
	e, err := s.cfg.Store.Load(c.app.key(), user)
	if err != nil {
		return fail(s.storeFailed(err))
	}
	merged := maps.Clone(e.Attrs)
	for k, v := range pairs {
		if v == "" && s.choice(profile.EmptyValue) == "removed" {
			delete(merged, k)
			continue
		}
		merged[k] = v
	}
	size, err := s.cfg.SizeMetric.Measure(merged)
	if err != nil {
		return fail(s.storeFailed(err))
	}
	if size > s.cfg.Limits.UserBytes {
		return fail(s.texts.errUserTooLarge(s.cfg.Limits.UserBytes))
	}
	if s.cfg.RaceWindow > 0 {
		time.Sleep(s.cfg.RaceWindow)
	}
	switch err := s.cfg.Store.Commit(c.app.key(), user, store.Write{Version: e.Version, Attrs: merged, Size: size, AppQuota: c.app.quota}); {
	case errors.Is(err, store.ErrConflict):
		return fail(s.texts.errConflict())
	case errors.Is(err, store.ErrQuota):
		return fail(s.texts.errAppTooLarge(c.app.quota))
	case err != nil:
		return fail(s.storeFailed(err))
	}
	if s.choice(profile.PutResponseData) == "full" {
		return ok(merged)
	}
	return ok(pairs)
}

// parseForm decodes an HTML form body leniently (UA-PUT-003): '+' and %20
// are spaces, a part that is not valid percent-encoding is taken as sent,
// and the first occurrence of a key wins (UA-PUT-012).
func parseForm(body string) (map[string]string, []string, *apiError) {
	pairs := map[string]string{}
	var order []string
	for part := range strings.SplitSeq(body, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = formUnescape(k), formUnescape(v)
		if k == "" {
			return nil, nil, errIllegalArgument("an attribute in the form body has an empty key")
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, nil, errIllegalArgument("the form body is not valid UTF-8 once decoded")
		}
		if _, seen := pairs[k]; !seen {
			pairs[k] = v
			order = append(order, k)
		}
	}
	return pairs, order, nil
}

// errBodyTooLarge refuses a body over the body limit: 403 with the
// single-user text, or 413 where the profile says so (UA-LIMIT-002).
func (s *Server) errBodyTooLarge() *apiError {
	status := http.StatusForbidden
	if s.choice(profile.BodyLimitStatus) == "413" {
		status = http.StatusRequestEntityTooLarge
	}
	return errBodyTooLarge(status, s.texts.pick(
		fmt.Sprintf("size of metadata for this single user exceeds the user defined limit, %dBytes", s.cfg.Limits.BodyBytes),
		"user metadata length exceed the limit"))
}

func formUnescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

func (s *Server) getAttributes(c *call, username string) result {
	user := target.FoldName(username)
	if !c.admin() && !c.isUser(user) && s.choice(profile.UserTokenGetOtherUser) == "401" {
		return fail(s.texts.errNotThisUser())
	}
	has := false
	if target.ValidUsername(username) {
		var e *apiError
		if has, e = s.hasUser(c.app, user); e != nil {
			return fail(e)
		}
	}
	if !has {
		if s.choice(profile.GetUnknownUser) == "404" {
			return result{status: http.StatusNotFound, data: map[string]string{}}
		}
		return ok(map[string]string{})
	}
	e, err := s.cfg.Store.Load(c.app.key(), user)
	if err != nil {
		return fail(s.storeFailed(err))
	}
	return ok(e.Attrs)
}

func (s *Server) deleteAttributes(c *call, username string) result {
	user := target.FoldName(username)
	switch {
	case c.admin():
	case c.isUser(user):
		if s.choice(profile.UserTokenDeleteSelf) == "deny" {
			return fail(errAdminOnly())
		}
	default:
		return fail(s.texts.errNotThisUser())
	}
	if err := s.cfg.Store.Delete(c.app.key(), user); err != nil {
		return fail(s.storeFailed(err))
	}
	return ok(true)
}

func (s *Server) capacity(c *call) result {
	if !c.admin() && s.choice(profile.CapacityUserToken) == "401" {
		return fail(errAdminOnly())
	}
	n, err := s.cfg.Store.Usage(c.app.key())
	if err != nil {
		return fail(s.storeFailed(err))
	}
	return ok(n)
}

// batchGet reads the requested properties of up to BatchTargets users.
// Any token of the app may call it (UA-AUTH-007), and the body is read as
// JSON whatever its Content-Type says (UA-BATCH-011).
func (s *Server) batchGet(c *call) result {
	body, err := io.ReadAll(io.LimitReader(c.r.Body, maxBatchBody+1))
	if err != nil {
		return fail(errIllegalArgument("reading the request body: " + err.Error()))
	}
	if len(body) > maxBatchBody {
		return fail(errIllegalArgument(fmt.Sprintf("the request body exceeds %d bytes", maxBatchBody)))
	}
	var req struct {
		Targets    json.RawMessage `json:"targets"`
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return fail(errJSONParse(err))
	}
	var targets []string
	if err := json.Unmarshal(req.Targets, &targets); err != nil || len(targets) == 0 {
		return fail(errIllegalArgument("targets must be a non-empty array of usernames"))
	}
	if len(targets) > s.cfg.Limits.BatchTargets {
		status := http.StatusBadRequest
		if s.choice(profile.BatchOverLimitStatus) == "403" {
			status = http.StatusForbidden
		}
		return fail(errBatchTooLarge(status, s.cfg.Limits.BatchTargets))
	}
	var properties []string
	if len(req.Properties) > 0 {
		if err := json.Unmarshal(req.Properties, &properties); err != nil {
			return fail(errIllegalArgument("properties must be an array of attribute names"))
		}
	}
	if len(properties) == 0 && s.choice(profile.BatchPropertiesRequired) == "required" {
		return fail(errIllegalArgument("properties must name at least one attribute"))
	}
	data := map[string]map[string]string{}
	for _, name := range targets {
		key := name
		if s.choice(profile.BatchKeyCase) == "lowercase" {
			key = target.FoldName(name)
		}
		if _, done := data[key]; done {
			continue
		}
		found := map[string]string{}
		user := target.FoldName(name)
		has := false
		if target.ValidUsername(name) {
			var e *apiError
			if has, e = s.hasUser(c.app, user); e != nil {
				return fail(e)
			}
		}
		if has {
			e, err := s.cfg.Store.Load(c.app.key(), user)
			if err != nil {
				return fail(s.storeFailed(err))
			}
			found = pick(e.Attrs, properties)
		}
		if len(found) > 0 || s.choice(profile.BatchMiss) == "empty" {
			data[key] = found
		}
	}
	return ok(data)
}

// pick returns the named attributes the user has; no names means all.
func pick(attrs map[string]string, names []string) map[string]string {
	if len(names) == 0 {
		return attrs
	}
	out := map[string]string{}
	for _, n := range names {
		if v, has := attrs[n]; has {
			out[n] = v
		}
	}
	return out
}

func (a *app) key() string { return a.org + "/" + a.Name }
