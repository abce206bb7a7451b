package model_test

import (
	"maps"
	"net/http"
	"testing"

	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/target"
)

// ReadRequest reads back what Request.Method and Request.Path write, for
// every operation, the app by its role and names escaped as sent.
func TestReadRequestIsTheInverseOfMethodAndPath(t *testing.T) {
	m := tenant(t, "lenient", nil)
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	for _, want := range []model.Request{
		put(admin, "alice", "a=1"),
		get(alice, "Alice"),
		del(admin, "bob"),
		{Principal: admin, App: target.MainApp, Op: model.Get, User: "alice", RawUser: "%61lice"},
		{Principal: admin, App: target.MainApp, Op: model.Get, User: "a b"},
		{Principal: admin, App: "small_quota", Op: model.Put, User: "erin", Body: []byte("a=1"), ContentType: form.Get("Content-Type")},
		{Principal: admin, App: model.NoSuchApp, Op: model.Delete, User: "alice"},
		{Principal: admin, App: target.MainApp, Op: model.Batch, Body: []byte(`{"targets":["alice"]}`), ContentType: form.Get("Content-Type")},
		capacity(admin),
		{Principal: admin, App: target.MainApp, Op: model.Other, Verb: http.MethodPut, Route: "/metadata/user"},
		{Principal: admin, App: target.MainApp, Op: model.Other, Verb: http.MethodPost, Route: "/metadata/user/alice"},
		{Principal: admin, App: target.MainApp, Op: model.Other, Verb: http.MethodGet, Route: "/metadata/users"},
	} {
		app := map[string]string{target.MainApp: "chat", "small_quota": "tiny", model.NoSuchApp: "nosuch"}[want.App]
		header := http.Header{}
		if want.ContentType != "" {
			header.Set("Content-Type", want.ContentType)
		}
		got, ok := m.ReadRequest(want.Principal, want.Method(), "/acme/"+app+want.Path()+"?q=1", header, want.Body)
		if !ok || got.String() != want.String() || got.Op != want.Op || got.App != want.App || got.User != want.User || got.RawUser != want.RawUser {
			t.Errorf("%s read back as %s (%v): %+v", want, got, ok, got)
		}
	}
	if _, ok := m.ReadRequest(admin, http.MethodPost, "/acme/chat/token", nil, nil); ok {
		t.Error("the token endpoint read as a request of the API")
	}
}

// A name the target does not list may or may not have an account; its
// attributes are known once an answer shows them whole.
func TestAnUnknownUserIsKnownFromAWholeRead(t *testing.T) {
	m := tenant(t, "lenient", nil)
	s := m.Unknown(target.MainApp, "zed")
	if s.Knows(target.MainApp, "zed") || s.Worlds() != 2 {
		t.Fatalf("an unlisted name: knows %v, %d worlds; want unknown, with and without an account", s.Knows(target.MainApp, "zed"), s.Worlds())
	}
	s = run(t, m, s,
		step{get(admin, "zed"), ok(attrs()), true, ""},
		step{put(admin, "zed", "a=1"), fail(404, "Service resource not found"), true, ""},
	)
	if got, known := s.Attributes(target.MainApp, "zed"); !known || len(got) != 0 {
		t.Fatalf("after a read of {} and a 404: %v (known %v)", got, known)
	}
	listed := m.Unknown(target.MainApp, "alice")
	run(t, m, listed, step{get(admin, "alice"), answer(404, map[string]any{"data": attrs()}), false, "UA-GET-001"})
}

// A batch read without a property filter shows each target whole: a
// target left out holds nothing. With a filter it shows only a part.
func TestABatchReadOfEveryPropertyShowsItsTargetsWhole(t *testing.T) {
	m := tenant(t, "lenient", nil)
	for _, c := range []struct {
		body  string
		data  map[string]any
		known bool
		want  map[string]string
	}{
		{`{"targets":["alice"]}`, map[string]any{"alice": attrs("a", "1")}, true, attrs("a", "1")},
		{`{"targets":["Alice"],"properties":[]}`, map[string]any{"Alice": attrs("a", "1")}, true, attrs("a", "1")},
		{`{"targets":["alice"]}`, map[string]any{}, true, attrs()},
		{`{"targets":["alice"],"properties":["a"]}`, map[string]any{"alice": attrs("a", "1")}, false, nil},
	} {
		s := run(t, m, m.Unknown(target.MainApp, "alice"), step{batch(c.body), ok(c.data), true, ""})
		got, known := s.Attributes(target.MainApp, "alice")
		if known != c.known || !maps.Equal(got, c.want) {
			t.Errorf("%s answered %v: attributes %v (known %v), want %v (%v)", c.body, c.data, got, known, c.want, c.known)
		}
	}
}
