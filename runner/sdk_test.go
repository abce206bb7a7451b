package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/attrconform/attrconform/target"
)

// sdk is a client of the user-attributes API as the vendors' SDKs are:
// form-encoded writes, JSON batch reads with properties, answers decoded
// into maps of strings. sdkProgram is its integration test program.
type sdk struct {
	base, admin string // base URL with /{org}/{app}; the app's admin token
	client      *http.Client
}

// answer is what the SDK makes of a response: the status, the envelope's
// data, and the error text of a refusal.
type answer struct {
	status int
	data   json.RawMessage
	text   string
}

func (s sdk) call(method, path, token, contentType, body string) (answer, error) {
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return answer{}, err
	}
	var env struct {
		Data        json.RawMessage `json:"data"`
		Description string          `json:"error_description"`
	}
	a := answer{status: resp.StatusCode}
	if err := json.Unmarshal(raw, &env); err != nil {
		return a, fmt.Errorf("%s %s: %d with a body that is not JSON: %.120q", method, path, resp.StatusCode, raw)
	}
	a.data, a.text = env.Data, env.Description
	return a, nil
}

// attrs decodes data as a user's attributes; null and absent read as none.
func attrs(data json.RawMessage) (map[string]string, error) {
	out := map[string]string{}
	if len(data) == 0 || string(data) == "null" {
		return out, nil
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("data %.200s is not an object of strings: %v", data, err)
	}
	return out, nil
}

func form(pairs map[string]string) string {
	v := url.Values{}
	for k, val := range pairs {
		v.Set(k, val)
	}
	return v.Encode()
}

// Content types as SDKs send them: the server-side SDKs' bare media
// types, and a browser client's with a charset (as axios sends a form).
const (
	formType    = "application/x-www-form-urlencoded"
	webFormType = "application/x-www-form-urlencoded;charset=utf-8"
	jsonType    = "application/json; charset=utf-8"
)

// set PUTs pairs for user as token, sent as contentType, and checks the
// answer: 200, data holding every pair written (or the user's whole map,
// UA-PUT-005), a key with an empty value present with "" or absent
// (UA-PUT-007).
func (s sdk) set(user, token, contentType string, pairs, whole map[string]string) error {
	a, err := s.call(http.MethodPut, "/metadata/user/"+user, token, contentType, form(pairs))
	if err != nil {
		return err
	}
	if a.status != http.StatusOK {
		return fmt.Errorf("PUT %s: %d %s, want 200", user, a.status, a.text)
	}
	got, err := attrs(a.data)
	if err != nil {
		return fmt.Errorf("PUT %s: %w", user, err)
	}
	if !cleared(got, pairs) && !cleared(got, whole) {
		return fmt.Errorf("PUT %s answered %v, want the pairs written %v or the whole map %v", user, got, pairs, whole)
	}
	return nil
}

// cleared reports whether got is want, where a key whose value want has
// empty may be absent (UA-PUT-007).
func cleared(got, want map[string]string) bool {
	for k, v := range got {
		if w, ok := want[k]; !ok || w != v {
			return false
		}
	}
	for k, v := range want {
		if _, ok := got[k]; !ok && v != "" {
			return false
		}
	}
	return true
}

// get reads user as token and checks it holds want.
func (s sdk) get(user, token string, want map[string]string) error {
	a, err := s.call(http.MethodGet, "/metadata/user/"+user, token, "", "")
	if err != nil {
		return err
	}
	if a.status != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s, want 200", user, a.status, a.text)
	}
	got, err := attrs(a.data)
	if err != nil {
		return fmt.Errorf("GET %s: %w", user, err)
	}
	if !cleared(got, want) {
		return fmt.Errorf("GET %s read %v, want %v", user, got, want)
	}
	return nil
}

// remove deletes user's attributes as the admin: 200 true.
func (s sdk) remove(user string) error {
	a, err := s.call(http.MethodDelete, "/metadata/user/"+user, s.admin, "", "")
	if err != nil {
		return err
	}
	if a.status != http.StatusOK || string(a.data) != "true" {
		return fmt.Errorf("DELETE %s: %d %s %s, want 200 true", user, a.status, a.data, a.text)
	}
	return nil
}

// batch reads targets' properties as token and checks each target with
// attributes among them holds exactly those (a target with none is left
// out or {}: UA-BATCH-007).
func (s sdk) batch(token string, targets, properties []string, users map[string]map[string]string) error {
	body, _ := json.Marshal(map[string][]string{"targets": targets, "properties": properties})
	a, err := s.call(http.MethodPost, "/metadata/user/get", token, jsonType, string(body))
	if err != nil {
		return err
	}
	if a.status != http.StatusOK {
		return fmt.Errorf("batch read %v: %d %s, want 200", targets, a.status, a.text)
	}
	var got map[string]map[string]string
	if err := json.Unmarshal(a.data, &got); err != nil {
		return fmt.Errorf("batch read %v: data %.200s is not an object of users: %v", targets, a.data, err)
	}
	for name, entry := range got {
		if !slices.Contains(targets, name) {
			return fmt.Errorf("batch read %v answered %q, which is not a target", targets, name)
		}
		if len(entry) == 0 {
			delete(got, name)
		}
	}
	want := map[string]map[string]string{}
	for _, t := range targets {
		entry := map[string]string{}
		for _, p := range properties {
			if v, ok := users[t][p]; ok && v != "" {
				entry[p] = v
			}
		}
		if len(entry) > 0 {
			want[t] = entry
		}
	}
	if !maps.EqualFunc(got, want, maps.Equal) {
		return fmt.Errorf("batch read %v of %v answered %v, want %v", targets, properties, got, want)
	}
	return nil
}

// capacity reads the app's capacity as the admin: 200, a JSON integer.
func (s sdk) capacity() (int64, error) {
	a, err := s.call(http.MethodGet, "/metadata/user/capacity", s.admin, "", "")
	if err != nil {
		return 0, err
	}
	var n int64
	if a.status != http.StatusOK || json.Unmarshal(a.data, &n) != nil {
		return 0, fmt.Errorf("capacity: %d %s %s, want 200 with an integer", a.status, a.data, a.text)
	}
	return n, nil
}

// sdkProgram is an SDK's integration test program, after the vendors'
// (the Java SDK's MetadataIT, the web SDK's user-info flows): set a
// user's attributes and read them back, update one as the user, read
// contacts' profiles with a batch read, refuse a write to another user,
// delete and read again, and follow the app's capacity through it all.
// Each test case stops at its first failed assertion, as JUnit's do; the
// program returns one line per failed case, none when it passed. It
// expects only what every document allows (the lenient profile): the
// capacity's exact bytes only when the target declares its size metric,
// and, being the only client in these tests, that nothing else writes.
func sdkProgram(base string, tg *target.Target) []string {
	var users []target.User
	for _, u := range tg.Users {
		if u.Token != "" && len(users) < 3 {
			users = append(users, u)
		}
	}
	if len(users) < 3 {
		return []string{"the target lists fewer than three users with tokens"}
	}
	a, b, c := users[0], users[1], users[2]
	s := sdk{base: base + "/" + tg.Org + "/" + tg.App.Name, admin: tg.AdminToken, client: &http.Client{Timeout: 10 * time.Second}}
	alice := map[string]string{"nickname": "Alice", "avatarurl": "https://example.com/a.png?size=64&fmt=png", "sign": "Hello, world & friends", "gender": "1", "birth": "1990-01-01"}
	updated := maps.Clone(alice)
	updated["nickname"] = "Alicia 🌸"
	updated["birth"] = "" // cleared
	bob := map[string]string{"nickname": "Bob", "mail": "bob@example.com", "phone": "+1 555 0100"}
	empty := map[string]string{}
	cases := []struct {
		name string
		run  func() error
	}{
		{"set and get", func() error {
			return first(
				func() error { return s.remove(a.Name) },
				func() error { return s.set(a.Name, s.admin, formType, alice, alice) },
				func() error { return s.get(a.Name, s.admin, alice) },
				func() error {
					return s.set(a.Name, a.Token, webFormType, map[string]string{"nickname": updated["nickname"], "birth": ""}, updated)
				},
				func() error { return s.get(a.Name, a.Token, updated) },
			)
		}},
		{"fetch user info", func() error {
			return first(
				func() error { return errors.Join(s.remove(b.Name), s.remove(c.Name)) },
				func() error { return s.set(b.Name, b.Token, webFormType, bob, bob) },
				func() error { return s.get(c.Name, s.admin, empty) },
				func() error {
					return s.batch(a.Token, []string{b.Name, a.Name, c.Name}, []string{"nickname", "mail", "phone"},
						map[string]map[string]string{a.Name: updated, b.Name: bob})
				},
				func() error {
					return s.batch(s.admin, []string{b.Name}, []string{"nickname", "avatarurl", "mail", "phone", "sign", "gender", "birth"},
						map[string]map[string]string{b.Name: bob})
				},
				func() error {
					// Another user's profile with a user token: refused, or read
					// whole, by the server's profile (UA-AUTH-008).
					got, err := s.call(http.MethodGet, "/metadata/user/"+b.Name, a.Token, "", "")
					if err != nil || got.status == http.StatusUnauthorized {
						return err
					}
					return s.get(b.Name, a.Token, bob)
				},
			)
		}},
		{"update rights", func() error {
			return first(
				func() error {
					got, err := s.call(http.MethodPut, "/metadata/user/"+a.Name, c.Token, webFormType, "nickname=Mallory")
					if err == nil && got.status != http.StatusUnauthorized {
						err = fmt.Errorf("PUT %s with %s's token: %d, want 401", a.Name, c.Name, got.status)
					}
					return err
				},
				func() error {
					got, err := s.call(http.MethodGet, "/metadata/user/"+a.Name, "", "", "")
					if err == nil && got.status != http.StatusUnauthorized {
						err = fmt.Errorf("GET %s without a token: %d, want 401", a.Name, got.status)
					}
					return err
				},
				func() error { return s.get(a.Name, s.admin, updated) },
			)
		}},
		{"delete", func() error {
			return first(
				func() error { return s.remove(a.Name) },
				func() error { return s.get(a.Name, s.admin, empty) },
				func() error {
					return s.batch(s.admin, []string{a.Name, b.Name}, []string{"nickname"}, map[string]map[string]string{b.Name: bob})
				},
			)
		}},
		{"capacity", func() error {
			var before int64
			mine := map[string]string{"nickname": "Cap", "sign": "xyz"}
			grown := map[string]string{"nickname": "Capacity", "sign": "xyz"}
			return first(
				func() error { return errors.Join(s.remove(a.Name), s.remove(b.Name), s.remove(c.Name)) },
				func() (err error) { before, err = s.capacity(); return err },
				func() error { return s.set(a.Name, s.admin, formType, mine, mine) },
				func() error { return s.capacityIs(tg, before, mine) },
				func() error {
					return s.set(a.Name, s.admin, formType, map[string]string{"nickname": grown["nickname"]}, grown)
				},
				func() error { return s.capacityIs(tg, before, grown) },
				func() error {
					// Over the per-user limit under any metric: refused, nothing stored.
					got, err := s.call(http.MethodPut, "/metadata/user/"+a.Name, s.admin, formType, form(map[string]string{"ext": strings.Repeat("x", 2200)}))
					if err == nil && got.status != http.StatusForbidden && got.status != http.StatusRequestEntityTooLarge {
						err = fmt.Errorf("PUT of 2200 bytes for %s: %d, want 403 or 413", a.Name, got.status)
					}
					return err
				},
				func() error { return s.capacityIs(tg, before, grown) },
				func() error { return s.remove(a.Name) },
				func() error { return s.capacityIs(tg, before, nil) },
			)
		}},
	}
	var failed []string
	for _, tc := range cases {
		if err := tc.run(); err != nil {
			failed = append(failed, tc.name+": "+err.Error())
		}
	}
	return failed
}

// capacityIs checks the capacity against the one read before the test
// case wrote attrs to an empty user: back to it without attributes, more
// by their size under a declared metric (UA-CAP-003, -004); undeclared,
// only grown.
func (s sdk) capacityIs(tg *target.Target, before int64, attrs map[string]string) error {
	got, err := s.capacity()
	if err != nil {
		return err
	}
	switch {
	case len(attrs) == 0 && got != before:
		return fmt.Errorf("capacity %d once the data is deleted, want %d as before", got, before)
	case len(attrs) > 0 && tg.SizeMetric == "" && got <= before:
		return fmt.Errorf("capacity %d after a write, want more than %d", got, before)
	case len(attrs) > 0 && tg.SizeMetric != "" && got != before+size(tg.SizeMetric, attrs):
		return fmt.Errorf("capacity %d with %v stored, want %d + %d", got, attrs, before, size(tg.SizeMetric, attrs))
	}
	return nil
}

// first runs steps until one fails.
func first(steps ...func() error) error {
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// size is what attrs count under a declared size metric: the bytes of
// their compact JSON object (none for no attributes), or of their keys
// and values.
func size(metric string, attrs map[string]string) int64 {
	if metric == target.MetricPairs {
		var n int
		for k, v := range attrs {
			n += len(k) + len(v)
		}
		return int64(n)
	}
	if len(attrs) == 0 {
		return 0
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(attrs)
	return int64(len(bytes.TrimSpace(b.Bytes())))
}
