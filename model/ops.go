package model

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/attrconform/attrconform/contract/wire"
	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/target"
)

// outcomes lists the answers the documents allow r in world w.
func (m *Model) outcomes(w world, r Request) []Outcome {
	ac, ok := m.cfg.Apps[r.App]
	if r.App == NoSuchApp || !ok {
		out := m.noSuchApp(w, r)
		if r.Op == Other {
			out = append(out, m.other(w, r)...) // the route is judged before the app
		}
		return out
	}
	op := map[Op]func(world, Request) []Outcome{Put: m.put, Get: m.get, Batch: m.batch, Capacity: m.capacity, Delete: m.delete, Other: m.other}[r.Op]
	if op == nil {
		return nil
	}
	if r.Fault != "" && r.Op != Other { // a route no operation serves has no store to fail
		normal := op
		op = func(w world, r Request) []Outcome { return m.fault(w, r, normal(w, r)) }
	}
	if kind := authentication(r); kind != nil {
		// No documented order between checking the token and the body: a
		// refusal of the body is as good an answer (it changes nothing).
		out := m.refuse(w, *kind, nil)
		admin := r
		admin.Principal = Principal{Kind: KindAdmin, App: r.App}
		for _, o := range op(w, admin) {
			if o.refusal {
				out = append(out, o)
			}
		}
		if ac.Disabled {
			out = append(out, m.refuse(w, ErrDisabled, m.appKey(r.App))...)
		}
		return out
	}
	outs := op(w, r)
	for i := range outs {
		outs[i].IDs = appendNew(outs[i].IDs, m.context(r)...)
	}
	if ac.Disabled {
		// Every operation answers 403 (UA-ERR-003); a user token's own
		// refusal is as good, and a route no operation serves is judged
		// before the app.
		out := m.refuse(w, ErrDisabled, m.appKey(r.App))
		for _, o := range outs {
			if o.Status == http.StatusUnauthorized || r.Op == Other {
				out = append(out, o)
			}
		}
		return out
	}
	return outs
}

// authentication is the error of a request whose token is not valid for
// the app it addresses, nil when it is.
func authentication(r Request) *ErrorKind {
	switch {
	case r.Principal.Kind == KindNone:
		return &ErrNoToken
	case r.Principal.Kind == KindUnknown:
		return &ErrBadToken
	case r.Principal.App != r.App:
		return &ErrForeignToken
	}
	return nil
}

// other lists the answers to a request outside the five operations: a
// method the path does not have answers 405 (UA-GEN-009); a PUT without a
// username is refused, one user per call (UA-PUT-013); any other path
// under /metadata answers an error envelope (UA-GEN-006). None changes
// anything.
func (m *Model) other(w world, r Request) []Outcome {
	seg := strings.Split(strings.TrimPrefix(r.Route, "/metadata/user/"), "/")
	var out []Outcome
	switch {
	case r.Route == "/metadata/user" && r.Verb == http.MethodPut:
		for _, status := range []int{http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed} {
			out = append(out, withStatus(m.refuse(w, ErrOneUser, nil), status)...)
		}
	case strings.HasPrefix(r.Route, "/metadata/user/") && len(seg) == 1 && seg[0] != "":
		out = m.refuse(w, ErrNoMethod, nil)
	default:
		for _, status := range []int{http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed} {
			out = append(out, withStatus(m.refuse(w, ErrNoOperation, nil), status)...)
		}
	}
	return refusals(out)
}

// fault lists the answers to a request asking a target with fault hooks
// for a failure: the error envelope with 500 or 503, nothing changed
// (UA-ERR-004).
// The answer is judged on the requirements of the operation too: a
// server that answers otherwise breaks them.
func (m *Model) fault(w world, r Request, normal []Outcome) []Outcome {
	kind := ErrStore
	if r.Fault == wire.FaultOverload {
		kind = ErrOverload
	}
	outs := m.refuse(w, kind, nil)
	for i := range outs {
		for _, o := range normal {
			outs[i].blame = appendNew(outs[i].blame, o.IDs...)
		}
	}
	return outs
}

func (m *Model) noSuchApp(w world, r Request) []Outcome {
	out := m.refuse(w, ErrUnknownApp, nil)
	if kind := authentication(Request{Principal: r.Principal, App: r.Principal.App}); kind != nil {
		out = append(out, m.refuse(w, *kind, nil)...)
	}
	return out
}

// alternatives are the alternatives w allows for a choice: the one it
// committed to, else those of the profile (for a knob) or of the model.
func (m *Model) alternatives(w world, key string, k profile.Knob) []string {
	if alt, ok := w.choice(key); ok {
		return []string{alt}
	}
	if k != "" {
		return m.cfg.Profile.Allowed(k)
	}
	return modelChoices[key]
}

// branch calls f in one world per alternative of a choice, each world
// committed to its alternative.
func (m *Model) branch(w world, key string, k profile.Knob, f func(world, string) []Outcome) []Outcome {
	var out []Outcome
	for _, alt := range m.alternatives(w, key, k) {
		out = append(out, f(w.with(key, alt), alt)...)
	}
	return out
}

// knob is branch over a profile knob.
func (m *Model) knob(w world, k profile.Knob, f func(world, string) []Outcome) []Outcome {
	return m.branch(w, knobKey(k), k, f)
}

// refuse lists the answers of error k in w: one per text style the world
// allows when the documents give the kind two texts. The world does not
// change but for the style it commits to.
func (m *Model) refuse(w world, k ErrorKind, arg any, ids ...string) []Outcome {
	one := func(w world, s Style) Outcome {
		o := Outcome{Status: k.Status, Error: &k, Style: s, Arg: arg, IDs: appendNew(slices.Clone(k.IDs), ids...), next: w}
		if s != "" {
			o.also = appendNew(slices.Clone(k.TextIDs), "UA-ERR-002")
		}
		return o
	}
	switch {
	case k.Current == "":
		return []Outcome{one(w, "")}
	case k.Text(Current, arg) == k.Text(Legacy, arg):
		return []Outcome{one(w, Current)}
	}
	return m.branch(w, styleKey(k.Name), profile.ErrorTextStyle, func(w world, alt string) []Outcome {
		return []Outcome{one(w, Style(alt))}
	})
}

// refusals marks outcomes as refusals of the request's content.
func refusals(outs []Outcome) []Outcome {
	for i := range outs {
		outs[i].refusal = true
	}
	return outs
}

// withStatus sets the status of outcomes (a status knob's alternative).
func withStatus(outs []Outcome, status int) []Outcome {
	for i := range outs {
		outs[i].Status = status
	}
	return outs
}

// context is what the request's form adds to the requirements an answer
// rests on: another app (UA-NAME-004), a username in another case than
// listed (UA-NAME-003), a percent-encoded path segment (UA-GEN-007).
func (m *Model) context(r Request) []string {
	var ids []string
	if r.App != mainApp {
		ids = append(ids, "UA-NAME-004")
	}
	if r.Op == Put || r.Op == Get || r.Op == Delete {
		for _, n := range m.cfg.Apps[r.App].Users {
			if target.FoldName(n) == target.FoldName(r.User) && n != r.User {
				ids = append(ids, "UA-NAME-003")
			}
		}
		if r.RawUser != "" && r.RawUser != url.PathEscape(r.User) {
			ids = append(ids, "UA-GEN-007")
		}
	}
	return ids
}

// self reports whether a user token addresses its own user.
func self(r Request) bool {
	return r.Principal.Kind == KindUser && target.FoldName(r.Principal.User) == target.FoldName(r.User)
}

// nameIDs are the requirements of an invalid username: its length
// (UA-NAME-001) or its characters (UA-NAME-002), and UA-NAME-005.
func nameIDs(name string) []string {
	if len(name) == 0 || len(name) > 64 {
		return []string{"UA-NAME-001", "UA-NAME-005"}
	}
	return []string{"UA-NAME-002", "UA-NAME-005"}
}

// invalidName lists the answers to an invalid username on a write: 400,
// or 404 as for a user without an account (UA-NAME-005).
func (m *Model) invalidName(w world, name string) []Outcome {
	ids := nameIDs(name)
	notFound := ErrorKind{Name: "invalid username as a user without an account", Status: http.StatusNotFound, IDs: ids}
	return refusals(append(m.refuse(w, ErrInvalidName, nil, ids...), m.refuse(w, notFound, nil)...))
}

// put lists the answers to a PUT.
func (m *Model) put(w world, r Request) []Outcome {
	name, role := r.User, r.App
	writes, refused := m.readForm(w, r)
	ctx := m.context(r)
	untouched := func(w world, ids ...string) world { return m.untouched(w, role, name, writes, ids...) }
	for i := range refused {
		refused[i].next = untouched(refused[i].next, "UA-LIMIT-006")
	}
	var out []Outcome
	switch u := w.user(role, name); {
	case r.Principal.Kind == KindUser && !self(r):
		kind := ErrOtherUserWrite
		if !u.exists {
			kind = ErrUnknownUserWrite
		}
		out = m.refuse(untouched(w, "UA-AUTH-004", "UA-LIMIT-006"), kind, nil, ctx...)
		if !target.ValidUsername(name) {
			out = append(out, m.invalidName(w, name)...)
		}
	case !target.ValidUsername(name):
		out = append(m.invalidName(w, name), m.limits(writes, r, ctx)...)
	case !u.exists:
		out = m.knob(w, profile.PutUnknownUserAsAdmin, func(w world, alt string) []Outcome {
			if alt == "404" {
				return append(m.refuse(w, ErrUnknownUserPut, nil, ctx...), m.limits(writes, r, ctx)...)
			}
			var out []Outcome
			for _, wr := range writes {
				wr.w = wr.w.with(knobKey(profile.PutUnknownUserAsAdmin), alt)
				out = append(out, m.commit(wr, r, user{exists: true, known: true}, append(ctx, "UA-PUT-009"))...)
			}
			return out
		})
	default:
		for _, wr := range writes {
			out = append(out, m.commit(wr, r, u, ctx)...)
		}
		if m.cfg.Concurrent {
			out = append(out, m.refuse(untouched(w, "UA-CONC-003"), ErrConflict, nil)...)
		}
	}
	return append(out, refused...)
}

// limits lists the refusals for a limit of writes to a user without an
// account: the documents give no order between the checks, so a refusal
// for the size is as good an answer as the user's absence.
func (m *Model) limits(writes []write, r Request, ctx []string) []Outcome {
	var out []Outcome
	for _, wr := range writes {
		for _, o := range m.commit(wr, r, user{exists: true, known: true}, ctx) {
			if o.refusal {
				o.next = wr.w
				out = append(out, o)
			}
		}
	}
	return out
}

// write is one reading of a PUT's form: the pairs it stores, in the world
// that reading commits to.
type write struct {
	w world
	// pairs are the keys and values the write stores; removed are the keys
	// it removes (key= under empty_value=removed).
	pairs   map[string]string
	removed map[string]bool
	// why names per key the requirements of its reading.
	why map[string][]string
	// ids are the requirements of the reading as a whole.
	ids []string
}

// readForm reads a PUT's body in each way the documents allow: the
// writes a success may store, and the refusals of the body.
func (m *Model) readForm(w world, r Request) ([]write, []Outcome) {
	switch mt := mediaType(r.ContentType); mt {
	case formType:
	case jsonType:
		return nil, refusals(m.refuse(w, ErrPutJSON, nil))
	default:
		notForm := ErrorKind{Name: "PUT body not sent as a form", Status: http.StatusUnsupportedMediaType, IDs: []string{"UA-PUT-001"}}
		bad := notForm
		bad.Status = http.StatusBadRequest
		return nil, refusals(append(m.refuse(w, notForm, nil), m.refuse(w, bad, nil)...))
	}
	f := DecodeForm(r.Body)
	var refused []Outcome
	ids := []string{"UA-PUT-001"}
	if f.Lenient {
		refused = append(refused, refusals(m.refuse(w, ErrBadForm, nil))...)
		ids = append(ids, "UA-PUT-003")
	}
	var out []write
	read := func(w world, pairs []Pair, ids []string) {
		if len(pairs) == 0 {
			m.knob(w, profile.EmptyPut, func(w world, alt string) []Outcome {
				if alt == "400" {
					refused = append(refused, refusals(m.refuse(w, ErrEmptyPut, nil))...)
				} else {
					out = append(out, write{w: w, pairs: map[string]string{}, why: map[string][]string{}, ids: append(ids, "UA-PUT-008")})
				}
				return nil
			})
			return
		}
		out = append(out, m.readPairs(w, pairs, ids)...)
	}
	keys := func(w world, pairs []Pair) {
		var keyed []Pair
		for _, p := range pairs {
			if p.Key != "" {
				keyed = append(keyed, p)
			}
		}
		if len(keyed) == len(pairs) {
			read(w, keyed, ids)
			return
		}
		// A pair with an empty key: refused, or left out (UA-PUT-003); an
		// empty key is never stored.
		m.branch(w, emptyKey, "", func(w world, alt string) []Outcome {
			if alt == "refused" {
				refused = append(refused, refusals(m.refuse(w, ErrEmptyKey, nil))...)
			} else {
				read(w, keyed, append(slices.Clone(ids), "UA-PUT-003"))
			}
			return nil
		})
	}
	if !f.Lenient {
		keys(w, f.Pairs)
		return out, refused
	}
	m.branch(w, lenientForm, "", func(w world, alt string) []Outcome {
		pairs := slices.Clone(f.Pairs)
		for i, p := range pairs {
			if p.Verbatim != nil && alt == "verbatim" {
				pairs[i] = *p.Verbatim
			}
		}
		keys(w, pairs)
		return nil
	})
	return out, refused
}

// readPairs resolves keys sent twice (UA-PUT-012) and empty values
// (UA-PUT-007) in each way the documents allow.
func (m *Model) readPairs(w world, pairs []Pair, ids []string) []write {
	values := map[string][]string{}
	var order []string
	plain := map[string]bool{}
	for _, p := range pairs {
		if _, seen := values[p.Key]; !seen {
			order = append(order, p.Key)
			plain[p.Key] = true
		}
		values[p.Key] = append(values[p.Key], p.Value)
		plain[p.Key] = plain[p.Key] && p.Plain
	}
	twice := slices.ContainsFunc(order, func(k string) bool {
		return slices.ContainsFunc(values[k], func(v string) bool { return v != values[k][0] })
	})
	pick := func(w world, alt string) (write, world) {
		wr := write{pairs: map[string]string{}, removed: map[string]bool{}, why: map[string][]string{}, ids: slices.Clone(ids)}
		for _, k := range order {
			vs := values[k]
			v := vs[0]
			if alt == "last" {
				v = vs[len(vs)-1]
			}
			wr.pairs[k] = v
			why := []string{"UA-PUT-004"}
			if !plain[k] {
				why = append(why, "UA-PUT-003")
			}
			if len(vs) > 1 {
				why = append(why, "UA-PUT-012")
				wr.ids = appendNew(wr.ids, "UA-PUT-012")
			}
			if !plain[k] {
				wr.ids = appendNew(wr.ids, "UA-PUT-003")
			}
			wr.why[k] = why
		}
		return wr, w
	}
	var picked []write
	if twice {
		m.branch(w, duplicateKey, "", func(w world, alt string) []Outcome {
			wr, w := pick(w, alt)
			wr.w = w
			picked = append(picked, wr)
			return nil
		})
	} else {
		wr, w := pick(w, "first")
		wr.w = w
		picked = append(picked, wr)
	}
	var out []write
	for _, wr := range picked {
		empty := slices.ContainsFunc(slices.Collect(maps.Values(wr.pairs)), func(v string) bool { return v == "" })
		if !empty {
			out = append(out, wr)
			continue
		}
		m.knob(wr.w, profile.EmptyValue, func(w world, alt string) []Outcome {
			c := write{w: w, pairs: maps.Clone(wr.pairs), removed: map[string]bool{}, why: maps.Clone(wr.why), ids: append(slices.Clone(wr.ids), "UA-PUT-007")}
			for k, v := range c.pairs {
				if v == "" {
					c.why[k] = append(slices.Clone(c.why[k]), "UA-PUT-007")
					if alt == "removed" {
						c.removed[k] = true
						delete(c.pairs, k)
					}
				}
			}
			out = append(out, c)
			return nil
		})
	}
	return out
}

// untouched returns w noting that the PUT's keys must keep their values
// in the user's state, for the requirements ids (a refused PUT changes
// nothing: UA-LIMIT-006).
func (m *Model) untouched(w world, role, name string, writes []write, ids ...string) world {
	u := w.user(role, name)
	if !u.exists || len(writes) == 0 {
		return w.changed(role, ids...)
	}
	u.why = maps.Clone(u.why)
	if u.why == nil {
		u.why = map[string][]string{}
	}
	for _, wr := range writes {
		for k := range wr.pairs {
			u.why[k] = appendNew(slices.Clone(u.why[k]), ids...)
		}
		for k := range wr.removed {
			u.why[k] = appendNew(slices.Clone(u.why[k]), ids...)
		}
	}
	return w.withUser(role, name, u).changed(role, ids...)
}

// Client conventions of the standard fields, in characters (UA-PUT-011).
var fieldLengths = map[string]int{"nickname": 64, "avatarurl": 256, "phone": 32, "mail": 64, "sign": 256, "birth": 64}

// commit lists the answers to a write wr of user u (whose account exists
// or is created by it): 200 with the merge, or a refusal for a limit.
func (m *Model) commit(wr write, r Request, u user, ctx []string) []Outcome {
	role, name := r.App, r.User
	ac := m.cfg.Apps[role]
	after := maps.Clone(u.attrs)
	if after == nil {
		after = map[string]string{}
	}
	for k, v := range wr.pairs {
		after[k] = v
	}
	for k := range wr.removed {
		delete(after, k)
	}
	// What the write alone keeps: a bound from below when the user's
	// other attributes are unknown.
	least := maps.Clone(wr.pairs)
	for k, v := range least {
		if v == "" {
			delete(least, k)
		}
	}
	sized := after
	if !u.known {
		sized = least
	}
	userFit := judgeSize(m.cfg.SizeMetric != "", UserSize(m.cfg.SizeMetric, sized), m.cfg.UserLimit)
	if !u.known && userFit == fits {
		userFit = maybe
	}
	bodyFit := judgeSize(m.cfg.BodyMetric != "", m.bodySize(r.Body, wr), m.cfg.BodyLimit)
	appFit := m.appFit(wr.w, role, name, after, u.known)

	var refused []Outcome
	base := wr.w
	ok := true
	if userFit != fits {
		ok = ok && userFit == maybe
		refused = append(refused, m.refuse(base, ErrUserTooLarge, m.cfg.UserLimit, "UA-LIMIT-005")...)
	}
	if bodyFit != fits {
		ok = ok && bodyFit == maybe
		refused = append(refused, m.knob(base, profile.BodyLimitStatus, func(w world, alt string) []Outcome {
			if alt == "413" {
				return m.refuse(w, ErrBodyTooLarge413, nil)
			}
			return m.refuse(w, ErrBodyTooLarge, nil)
		})...)
	}
	if appFit != fits {
		ok = ok && appFit == maybe
		refused = append(refused, m.refuse(base, ErrAppTooLarge, ac.Quota)...)
	}
	for i := range refused {
		refused[i].refusal = true
		refused[i].next = m.untouched(refused[i].next, role, name, []write{wr}, "UA-LIMIT-006")
	}

	var out []Outcome
	success := func(w world) []Outcome {
		return m.stored(w, wr, r, u, after, ctx, userFit, bodyFit, appFit)
	}
	switch long := overlong(wr.pairs); {
	case !ok:
	case long == fits:
		out = success(wr.w)
	default:
		ctx = append(slices.Clone(ctx), "UA-PUT-011")
		out = m.knob(wr.w, profile.EnforceFieldLengths, func(w world, alt string) []Outcome {
			var out []Outcome
			if alt == "on" {
				out = refusals(m.refuse(w, ErrFieldTooLong, nil))
				for i := range out {
					out[i].next = m.untouched(out[i].next, role, name, []write{wr}, "UA-LIMIT-006")
				}
			}
			if alt == "off" || long == maybe {
				out = append(out, success(w)...)
			}
			return out
		})
	}
	return append(out, refused...)
}

// overlong judges the standard fields of a write against the client
// conventions: over when a value is longer in characters, maybe when only
// in bytes.
func overlong(pairs map[string]string) fit {
	out := fits
	for k, v := range pairs {
		limit, ok := fieldLengths[k]
		switch {
		case !ok:
		case utf8.RuneCountInString(v) > limit:
			return over
		case len(v) > limit:
			out = maybe
		}
	}
	return out
}

// stored lists the successes of a write: 200 with the request's pairs or
// the user's whole map in data (put_response_data, UA-PUT-005).
func (m *Model) stored(w world, wr write, r Request, u user, after map[string]string, ctx []string, userFit, bodyFit, appFit fit) []Outcome {
	role, name := r.App, r.User
	ids := appendNew(slices.Clone(wr.ids), principalIDs(r)...)
	ids = appendNew(ids, ctx...)
	if near(m.cfg.SizeMetric, after, m.cfg.UserLimit) || userFit == maybe {
		ids = appendNew(ids, "UA-LIMIT-001", "UA-LIMIT-005")
	}
	if bodyFit == maybe || int64(len(r.Body)) >= MarginBelow(m.cfg.BodyLimit) {
		ids = appendNew(ids, "UA-LIMIT-002")
	}
	if appFit == maybe || m.cfg.Apps[role].Quota < DefaultAppBytes {
		ids = appendNew(ids, "UA-LIMIT-003")
	}
	also := []string{"UA-PUT-004", "UA-PUT-005", "UA-PUT-006", "UA-PUT-010"}
	keysFold := map[string]int{}
	for k := range after {
		keysFold[strings.ToLower(k)]++
	}
	next := u
	next.exists = true
	next.attrs = after
	next.why = maps.Clone(u.why)
	if next.why == nil {
		next.why = map[string][]string{}
	}
	merged := false
	for k := range u.attrs {
		if _, written := wr.pairs[k]; !written {
			next.why[k] = appendNew(slices.Clone(next.why[k]), "UA-PUT-004")
			merged = true
		}
	}
	for k, why := range wr.why {
		why = appendNew(slices.Clone(why), ctx...)
		if keysFold[strings.ToLower(k)] > 1 {
			why = appendNew(why, "UA-GEN-008")
		}
		if r.Principal.Kind == KindUser {
			why = appendNew(why, "UA-AUTH-004")
		}
		next.why[k] = why
	}
	nw := w.withUser(role, name, next).changed(role, "UA-CAP-004")
	if merged {
		nw = nw.changed(role, "UA-PUT-004")
	}
	return m.knob(nw, profile.PutResponseData, func(w world, alt string) []Outcome {
		rule := attrsRule{why: next.why, ids: []string{"UA-PUT-005"}, nullOK: true}
		var learn func(world, json.RawMessage) world
		switch {
		case alt == "full" && u.known:
			rule.candidates = []map[string]string{after}
		case alt == "full":
			rule.any = true
			learn = learnAttrs(role, name)
		case len(wr.pairs)+len(wr.removed) == 0:
			// An empty PUT answers the user's attributes, or {} (UA-PUT-008).
			rule.candidates = []map[string]string{{}}
			if u.known {
				rule.candidates = append(rule.candidates, after)
			} else {
				rule.any = true
			}
		default:
			rule.candidates = []map[string]string{wr.pairs}
			if len(wr.removed) > 0 {
				with := maps.Clone(wr.pairs)
				for k := range wr.removed {
					with[k] = ""
				}
				rule.candidates = append(rule.candidates, with)
			}
		}
		return []Outcome{{Status: http.StatusOK, Data: rule, IDs: ids, also: also, next: w, learn: learn}}
	})
}

// near reports whether attrs are close enough to the limit that a
// success says something about it.
func near(metric string, attrs map[string]string, limit int64) bool {
	return UserSize(metric, attrs).Max >= MarginBelow(limit)
}

// provenance lists the requirements behind a user's keys, sorted.
func provenance(why map[string][]string) []string {
	var out []string
	for _, ids := range why {
		out = appendNew(out, ids...)
	}
	slices.Sort(out)
	return out
}

// principalIDs are the requirements a success for r's principal keeps.
func principalIDs(r Request) []string {
	if r.Principal.Kind == KindAdmin {
		return []string{"UA-AUTH-003"}
	}
	switch r.Op {
	case Put:
		return []string{"UA-AUTH-004"}
	case Get:
		return []string{"UA-AUTH-008"}
	case Batch:
		return []string{"UA-AUTH-007"}
	case Delete:
		return []string{"UA-AUTH-009", "UA-DEL-004"}
	}
	return []string{"UA-AUTH-006", "UA-CAP-002"}
}

// bodySize is the size of a PUT body under the body metric: the raw
// bytes, the JSON object of its pairs, or, undeclared, both.
func (m *Model) bodySize(body []byte, wr write) Size {
	raw := Size{int64(len(body)), int64(len(body))}
	pairs := maps.Clone(wr.pairs)
	for k := range wr.removed {
		pairs[k] = ""
	}
	js := JSON(pairs)
	switch m.cfg.BodyMetric {
	case target.BodyRaw:
		return raw
	case target.BodyJSON:
		return js
	}
	return Size{min(raw.Min, js.Min), max(raw.Max, js.Max)}
}

// appFit judges the app's total after a write against its quota
// (UA-LIMIT-003). The default quota (10 GiB) is out of any test's reach.
func (m *Model) appFit(w world, role, name string, after map[string]string, known bool) fit {
	ac := m.cfg.Apps[role]
	if ac.Quota >= DefaultAppBytes {
		return fits
	}
	a := w.apps[role]
	users := maps.Clone(a.users)
	if users == nil {
		users = map[string]user{}
	}
	users[target.FoldName(name)] = user{exists: true, known: known, attrs: after}
	a.users = users
	total := a.size(m.cfg.SizeMetric)
	if !known || !a.allKnown() || !a.capacity.baseKnown || !m.cfg.Exclusive {
		// The base (data of users the model does not follow) is unknown,
		// so only the data it follows can prove the quota is exceeded.
		if judgeSize(m.cfg.SizeMetric != "", total, ac.Quota) == over {
			return over
		}
		return maybe
	}
	total = total.add(Size{a.capacity.base, a.capacity.base})
	return judgeSize(m.cfg.SizeMetric != "", total, ac.Quota)
}

// get lists the answers to a GET of one user.
func (m *Model) get(w world, r Request) []Outcome {
	if r.Principal.Kind == KindUser && !self(r) {
		return m.knob(w, profile.UserTokenGetOtherUser, func(w world, alt string) []Outcome {
			if alt == "401" {
				return m.refuse(w, ErrOtherUserRead, nil)
			}
			return m.read(w, r)
		})
	}
	return m.read(w, r)
}

// read lists the answers to a GET allowed to read the user.
func (m *Model) read(w world, r Request) []Outcome {
	role, name := r.App, r.User
	ids, out := m.named(w, r, "UA-GET-001")
	also := []string{"UA-GET-004", "UA-GET-005"}
	u := w.user(role, name)
	if !target.ValidUsername(name) {
		u = user{known: true}
	}
	switch {
	case u.exists && u.known:
		rule := attrsRule{candidates: []map[string]string{u.attrs}, why: u.why, ids: []string{"UA-GET-001"}, nullOK: true}
		if len(u.attrs) == 0 {
			rule.ids = append(rule.ids, "UA-GET-002")
		}
		// Reading the state back keeps the rules that made it.
		out = append(out, Outcome{Status: http.StatusOK, Data: rule, IDs: ids, also: appendNew(slices.Clone(also), provenance(u.why)...), next: w})
	case u.exists:
		rule := attrsRule{any: true, ids: []string{"UA-GET-001"}, nullOK: true}
		out = append(out, Outcome{Status: http.StatusOK, Data: rule, IDs: ids, also: also, next: w, learn: learnAttrs(role, name)})
	default:
		ids = appendNew(ids, "UA-GET-003")
		out = append(out, m.knob(w, profile.GetUnknownUser, func(w world, alt string) []Outcome {
			if alt == "404" {
				return []Outcome{{Status: http.StatusNotFound, Data: notFound, IDs: ids, also: also, next: w}}
			}
			rule := attrsRule{candidates: []map[string]string{{}}, ids: []string{"UA-GET-003"}, nullOK: true}
			return []Outcome{{Status: http.StatusOK, Data: rule, IDs: ids, also: also, next: w}}
		})...)
	}
	return out
}

// named is what an answer to r, reading or deleting one user, rests on:
// the rule's requirement id, the principal's and, for an invalid name,
// its own, with the 400 such a name may get (UA-NAME-005).
func (m *Model) named(w world, r Request, id string) ([]string, []Outcome) {
	ids := appendNew([]string{id}, principalIDs(r)...)
	if target.ValidUsername(r.User) {
		return ids, nil
	}
	return appendNew(ids, nameIDs(r.User)...), m.refuse(w, ErrInvalidName, nil, nameIDs(r.User)...)
}

// delete lists the answers to a DELETE.
func (m *Model) delete(w world, r Request) []Outcome {
	role, name := r.App, r.User
	switch u := w.user(role, name); {
	case r.Principal.Kind == KindUser && !self(r):
		// Another user's attributes are never a user token's to delete; a
		// name without an account has none, so 200 changes nothing.
		out := m.refuse(w, ErrOtherUserDelete, nil)
		if !u.exists {
			out = append(out, m.deleted(w, r)...)
		}
		return out
	case r.Principal.Kind == KindUser:
		return m.knob(w, profile.UserTokenDeleteSelf, func(w world, alt string) []Outcome {
			if alt == "deny" {
				return m.refuse(w, ErrSelfDeleteDenied, nil)
			}
			return m.deleted(w, r)
		})
	}
	return m.deleted(w, r)
}

// deleted lists the answers of a DELETE allowed to delete: 200 true, the
// user's attributes gone (UA-DEL-001, -002, -003).
func (m *Model) deleted(w world, r Request) []Outcome {
	role, name := r.App, r.User
	ids, out := m.named(w, r, "UA-DEL-001")
	u := w.user(role, name)
	if !u.exists || (u.known && len(u.attrs) == 0) {
		ids = appendNew(ids, "UA-DEL-002")
	}
	next := w
	if u.exists {
		why := map[string][]string{}
		for k := range u.attrs {
			why[k] = []string{"UA-DEL-001", "UA-GET-006"}
		}
		next = w.withUser(role, name, user{exists: true, known: true, attrs: map[string]string{}, why: why})
		if !u.known || len(u.attrs) > 0 {
			next = next.changed(role, "UA-CAP-004", "UA-DEL-001")
		}
	}
	rule := trueRule{ids: []string{"UA-DEL-001"}}
	if slices.Contains(ids, "UA-DEL-002") {
		rule.ids = append(rule.ids, "UA-DEL-002")
	}
	return append(out, Outcome{Status: http.StatusOK, Data: rule, IDs: ids, also: []string{"UA-DEL-003"}, next: next})
}

// capacity lists the answers to a capacity read.
func (m *Model) capacity(w world, r Request) []Outcome {
	if r.Principal.Kind == KindUser {
		return m.knob(w, profile.CapacityUserToken, func(w world, alt string) []Outcome {
			if alt == "401" {
				return m.refuse(w, ErrCapacityUser, nil)
			}
			return m.total(w, r)
		})
	}
	return m.total(w, r)
}

// total lists the answer of a capacity read allowed to read it: an
// integer (UA-CAP-001), the sum of the users' sizes (UA-CAP-003), as it
// changed with writes and deletes (UA-CAP-004).
func (m *Model) total(w world, r Request) []Outcome {
	role := r.App
	a := w.apps[role]
	c := a.capacity
	ids := appendNew([]string{"UA-CAP-001"}, principalIDs(r)...)
	rule := capacityRule{min: 0, max: maxCapacity, ids: appendNew([]string{"UA-CAP-003"}, c.why...)}
	var learn func(world, json.RawMessage) world
	declared := m.cfg.SizeMetric != ""
	if a.allKnown() {
		s := a.size(m.cfg.SizeMetric)
		switch {
		case !declared:
			rule.min = 0
		case c.baseKnown && m.cfg.Exclusive:
			rule.min, rule.max = c.base+s.Min, c.base+s.Max
		default:
			rule.min = s.Min
		}
		if m.cfg.Exclusive {
			snapshot := a.fingerprint()
			if v, ok := c.seen[snapshot]; ok && !declared {
				rule.min, rule.max = v, v
			}
			learn = func(w world, raw json.RawMessage) world {
				var v int64
				if json.Unmarshal(raw, &v) != nil {
					return w
				}
				c := w.apps[role].capacity
				c.seen = maps.Clone(c.seen)
				if c.seen == nil {
					c.seen = map[string]int64{}
				}
				if len(c.seen) < MaxWorlds {
					c.seen[snapshot] = v
				}
				if declared && s.Exact() && !c.baseKnown {
					c.baseKnown, c.base = true, v-s.Min
				}
				c.why = nil
				return w.withCapacity(role, c)
			}
		}
	}
	var also []string
	if a.allKnown() {
		also = appendNew([]string{"UA-CAP-003", "UA-CAP-004"}, c.why...)
	}
	return []Outcome{{Status: http.StatusOK, Data: rule, IDs: ids, also: also, next: w, learn: learn}}
}

// batch lists the answers to a batch read.
func (m *Model) batch(w world, r Request) []Outcome {
	ids := appendNew([]string{"UA-BATCH-001"}, principalIDs(r)...)
	switch mediaType(r.ContentType) {
	case jsonType:
	case formType:
		ids = []string{"UA-BATCH-011"} // the body is the same; the type is what is judged
		ids = appendNew(ids, principalIDs(r)...)
	default:
		notJSON := ErrorKind{Name: "batch body not sent as JSON", Status: http.StatusUnsupportedMediaType, IDs: []string{"UA-BATCH-001"}}
		bad := notJSON
		bad.Status = http.StatusBadRequest
		return refusals(append(m.refuse(w, notJSON, nil), m.refuse(w, bad, nil)...))
	}
	bb := DecodeBatch(r.Body)
	var out []Outcome
	if bb.Problem != "" {
		out = append(out, refusals(m.refuse(w, ErrBatchBody, nil))...)
	}
	limit := m.cfg.BatchLimit
	if bb.Count > limit {
		out = append(out, refusals(m.knob(w, profile.BatchOverLimitStatus, func(w world, alt string) []Outcome {
			return withStatus(m.refuse(w, ErrBatchSize, limit), StatusOf(alt))
		}))...)
	}
	if bb.Problem != "" || bb.Count > limit {
		return out
	}
	ids = append(ids, "UA-BATCH-005")
	if !bb.NoProperties {
		return append(out, m.found(w, r, bb, ids)...)
	}
	return append(out, m.knob(w, profile.BatchPropertiesRequired, func(w world, alt string) []Outcome {
		if alt == "required" {
			return refusals(m.refuse(w, ErrBatchProperties, nil))
		}
		return m.found(w, r, bb, append(slices.Clone(ids), "UA-BATCH-004"))
	})...)
}

// found lists the successes of a batch read: data keyed by target (as
// sent or lower-cased, UA-BATCH-010), each with the requested properties
// the user has (UA-BATCH-002, -003); targets without any are left out or
// map to {} (UA-BATCH-007); a target sent twice is one entry (UA-BATCH-009).
func (m *Model) found(w world, r Request, bb BatchBody, ids []string) []Outcome {
	role := r.App
	also := []string{"UA-BATCH-002"}
	if !bb.NoProperties {
		also = append(also, "UA-BATCH-003")
	}
	mixed := false
	anyMiss := false
	seen := map[string]bool{}
	entries := map[string]batchEntry{} // by target as sent
	var unknown []string               // targets whose attributes a read of every property teaches
	for _, t := range bb.Targets {
		if seen[t] {
			also = appendNew(also, "UA-BATCH-009")
		}
		seen[t] = true
		if t != strings.ToLower(t) {
			mixed = true
		}
		u := user{known: true}
		if target.ValidUsername(t) {
			u = w.user(role, t)
		} else {
			also = appendNew(also, "UA-NAME-005")
		}
		e := batchEntry{attrs: u.attrs, why: u.why, loose: !u.known, want: map[string]string{}}
		if !bb.NoProperties {
			e.props = bb.Properties
		}
		for k, v := range u.attrs {
			if bb.NoProperties || slices.Contains(bb.Properties, k) {
				e.want[k] = v
			}
		}
		e.miss = len(e.want) == 0
		anyMiss = anyMiss || (e.miss && !e.loose)
		if e.loose && bb.NoProperties {
			unknown = append(unknown, t)
		}
		if e.props == nil || !e.miss {
			also = appendNew(also, provenance(u.why)...)
		}
		entries[t] = e
	}
	if anyMiss {
		also = appendNew(also, "UA-BATCH-007")
	}
	build := func(w world, lower bool, miss string) []Outcome {
		rule := batchRule{entries: map[string]batchEntry{}, variants: map[string]string{}}
		for t, e := range entries {
			key, other := t, strings.ToLower(t)
			if lower {
				key, other = other, t
			}
			e.present = !e.miss || miss == "empty"
			rule.entries[key] = e
			if other != key {
				rule.variants[other] = key
			}
		}
		return []Outcome{{Status: http.StatusOK, Data: rule, IDs: ids, also: also, next: w, learn: learnBatch(role, unknown, lower)}}
	}
	withMiss := func(w world, lower bool) []Outcome {
		if !anyMiss {
			return build(w, lower, "")
		}
		return m.knob(w, profile.BatchMiss, func(w world, alt string) []Outcome { return build(w, lower, alt) })
	}
	if !mixed {
		return withMiss(w, false)
	}
	also = appendNew(also, "UA-BATCH-010", "UA-NAME-003")
	return m.knob(w, profile.BatchKeyCase, func(w world, alt string) []Outcome { return withMiss(w, alt == "lowercase") })
}
