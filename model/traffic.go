package model

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/attrconform/attrconform/contract/wire"
	"github.com/attrconform/attrconform/target"
)

// What a reader of real traffic needs (the proxy follows users' states
// with the model): requests read back from HTTP, and the state of a user
// the model knows nothing of yet.

// ReadRequest reads an HTTP request as the model does, the inverse of
// Request.Method and Request.Path: path is below the target's base URL
// (/{org}/{app}/..., a query left out), header the request's headers
// (Content-Type, the fault hook's header). It reports false for a path
// outside /{org}/{app}/metadata, which no operation of the API serves.
func (m *Model) ReadRequest(p Principal, method, path string, header http.Header, body []byte) (Request, bool) {
	path, _, _ = strings.Cut(path, "?")
	seg := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	if len(seg) < 3 || (seg[2] != "metadata" && !strings.HasPrefix(seg[2], "metadata/")) {
		return Request{}, false
	}
	r := Request{Principal: p, App: NoSuchApp, Verb: method, Route: "/" + seg[2], Body: body,
		ContentType: header.Get("Content-Type"), Fault: header.Get(wire.FaultHeader)}
	org, errOrg := url.PathUnescape(seg[0])
	app, errApp := url.PathUnescape(seg[1])
	for role, ac := range m.cfg.Apps {
		if errOrg == nil && errApp == nil && org == m.cfg.Org && ac.Name == app {
			r.App = role
		}
	}
	raw, single := strings.CutPrefix(r.Route, "/metadata/user/")
	switch {
	case method == http.MethodPost && r.Route == "/metadata/user/get":
		r.Op = Batch
	case method == http.MethodGet && r.Route == "/metadata/user/capacity":
		r.Op = Capacity
	case single && raw != "" && !strings.Contains(raw, "/") && (method == http.MethodPut || method == http.MethodGet || method == http.MethodDelete):
		name, err := url.PathUnescape(raw)
		if err != nil {
			r.Op = Other
			break
		}
		r.Op, r.User = map[string]Op{http.MethodPut: Put, http.MethodGet: Get, http.MethodDelete: Delete}[method], name
		if raw != url.PathEscape(name) {
			r.RawUser = raw
		}
	default:
		r.Op = Other
	}
	if r.Op != Other {
		r.Verb, r.Route = "", ""
	}
	return r, true
}

// Unknown is the state of one user of app role, followed on its own as in
// UserState, whose attributes the model does not know. A listed user has
// an account; for another name the model keeps both possibilities, an
// account with unknown attributes or none at all, until answers tell them
// apart: a reader of real traffic meets users the target file does not
// list.
func (m *Model) Unknown(role, name string) State {
	s := m.UserState(role, name, nil)
	if slices.ContainsFunc(m.cfg.Apps[role].Users, func(n string) bool { return target.FoldName(n) == target.FoldName(name) }) {
		return s
	}
	exists := s.worlds[0].withUser(role, name, user{exists: true})
	return State{worlds: []world{exists, s.worlds[0].withUser(role, name, user{known: true, attrs: map[string]string{}})}}
}

// Knows reports whether every world of s knows the attributes of user
// name of app role (they may differ between worlds, each holding to a
// choice the documents leave open): the state holds the user's history
// from a point where its attributes were known.
func (s State) Knows(role, name string) bool {
	for _, w := range s.worlds {
		if !w.user(role, name).known {
			return false
		}
	}
	return len(s.worlds) > 0
}

// learnBatch is the learn hook of a batch read of every property: each
// target whose attributes were unknown has those of its entry, or none
// when the answer leaves it out (UA-BATCH-002, -004, -007). lower: the
// data is keyed by lower-cased targets (UA-BATCH-010).
func learnBatch(role string, targets []string, lower bool) func(world, json.RawMessage) world {
	if len(targets) == 0 {
		return nil
	}
	return func(w world, raw json.RawMessage) world {
		var data map[string]json.RawMessage
		if json.Unmarshal(raw, &data) != nil {
			return w
		}
		for _, t := range targets {
			key := t
			if lower {
				key = strings.ToLower(t)
			}
			attrs := map[string]string{}
			if entry, ok := data[key]; ok {
				got, typed, ok := decodeStrings(entry)
				if !ok || len(typed) > 0 {
					continue
				}
				attrs = got
			}
			u := w.user(role, t)
			u.known, u.attrs = true, attrs
			w = w.withUser(role, t, u)
		}
		return w
	}
}

// Footprint is about how many bytes s holds (more, where its worlds
// share what they hold): what a holder of many states bounds them by.
func (s State) Footprint() int {
	const entry = 48 // a map entry's and a string header's overhead, about
	n := 0
	for _, w := range s.worlds {
		n += entry * (1 + len(w.choices))
		for _, a := range w.apps {
			for name, u := range a.users {
				n += entry + len(name)
				for k, v := range u.attrs {
					n += entry + len(k) + len(v)
				}
				for k, ids := range u.why {
					n += entry + len(k) + 16*len(ids)
				}
			}
		}
	}
	return n
}
