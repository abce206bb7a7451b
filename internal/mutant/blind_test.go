package mutant

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/attrconform/attrconform/reference/store"
)

// Each blind mutant shows the bug its Doc describes, over HTTP or on the
// store, where the faithful reference does not.
func TestBlindHandlerMutants(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	hundredAndOne := []string{"u1", "u2"}
	for i := range 98 {
		hundredAndOne = append(hundredAndOne, "x"+string(rune('a'+i/26))+string(rune('a'+i%26)))
	}
	hundredAndOne = append(hundredAndOne, "u1")
	overCap, _ := json.Marshal(map[string][]string{"targets": hundredAndOne})
	checkSteps(t, []stepCase{
		{"form-split-last-equals", []step{
			{"PUT", "u1", adminToken, "url=http://x/a.png?s=2&b=1", 200, 200, ""},
			{"GET", "u1", adminToken, "", 200, 200, `"url=http://x/a.png?s":"2"`},
		}},
		{"put-echoes-raw-value", []step{
			{"PUT", "u1", adminToken, "a=x+y&b=p%26q&c=plain", 200, 200, `"data":{"a":"x+y","b":"p%26q","c":"plain"}`},
			{"GET", "u1", adminToken, "", 200, 200, `"data":{"a":"x y","b":"p\u0026q","c":"plain"}`},
		}},
		{"empty-value-new-key-refused", []step{
			{"PUT", "u1", adminToken, "a=1", 200, 200, ""},
			{"PUT", "u1", adminToken, "a=", 200, 200, ""},
			{"PUT", "u1", u1Token, "b=", 200, 400, ""},
			{"PUT", "u1", "", "b=", 401, 401, ""},
			{"PUT", "u2", u1Token, "b=", 401, 401, ""},
		}},
		{"limit-overwrite-counts-old", []step{
			{"PUT", "u1", adminToken, "a=" + x(1500), 200, 200, ""},
			{"PUT", "u1", adminToken, "a=" + x(1501), 200, 403, ""},
			{"PUT", "u2", adminToken, "b=" + x(1000), 200, 200, ""},
			{"PUT", "u2", adminToken, "c=" + x(1030), 200, 200, ""},
			{"PUT", "u2", adminToken, "d=" + x(10), 403, 403, ""},
		}},
		{"batch-case-duplicate-dropped", []step{
			{"PUT", "u1", adminToken, "a=1", 200, 200, ""},
			{"POST", "get", adminToken, `{"targets":["U1","u1"]}`, 200, 200, `"data":{"U1":{"a":"1"}}`},
		}},
		{"batch-properties-fold-case", []step{
			{"PUT", "u1", adminToken, "Nick=N&nick=n&other=o", 200, 200, ""},
			{"POST", "get", adminToken, `{"targets":["u1"],"properties":["nick"]}`, 200, 200, `"data":{"u1":{"Nick":"N","nick":"n"}}`},
			{"POST", "get", adminToken, `{"targets":["u1"]}`, 200, 200, `"other":"o"`},
		}},
		{"batch-cap-counts-distinct", []step{
			{"POST", "get", adminToken, string(overCap), 400, 200, ""},
			{"POST", "get", adminToken, strings.Replace(string(overCap), `"u1"]`, `"u3"]`, 1), 400, 400, ""},
		}},
		{"batch-stale-after-delete", []step{
			{"PUT", "u1", adminToken, "a=1&b=2", 200, 200, ""},
			{"DELETE", "u1", adminToken, "", 200, 200, ""},
			{"GET", "u1", adminToken, "", 200, 200, `"data":{}`},
			{"POST", "get", adminToken, `{"targets":["u1"],"properties":["a"]}`, 200, 200, `"data":{"u1":{"a":"1"}}`},
			{"PUT", "u1", adminToken, "c=3", 200, 200, ""},
			{"POST", "get", adminToken, `{"targets":["u1"]}`, 200, 200, `"data":{"u1":{"c":"3"}}`},
		}},
		{"read-cache-raw-name", []step{
			{"GET", "u1", adminToken, "", 200, 200, `"data":{}`},
			{"PUT", "U1", adminToken, "a=1", 200, 200, ""},
			{"GET", "u1", adminToken, "", 200, 200, `"data":{}`},
			{"GET", "U1", adminToken, "", 200, 200, `"data":{"a":"1"}`},
			{"PUT", "u1", adminToken, "b=2", 200, 200, ""},
			{"GET", "u1", adminToken, "", 200, 200, `"data":{"a":"1","b":"2"}`},
		}},
		{"self-check-case-sensitive", []step{
			{"PUT", "U1", u1Token, "a=1", 200, 401, "auth error"},
			{"PUT", "u1", u1Token, "a=1", 200, 200, ""},
			{"GET", "U1", u1Token, "", 200, 401, ""},
			{"PUT", "U1", adminToken, "a=1", 200, 200, ""},
		}},
		{"user-put-unknown-404", []step{
			{"PUT", "nobody", u1Token, "a=1", 401, 404, ""},
			{"PUT", "u2", u1Token, "a=1", 401, 401, ""},
			{"PUT", "nobody", adminToken, "a=1", 404, 404, ""},
		}},
		{"capacity-pairs-metric", []step{
			{"PUT", "u1", adminToken, "ab=cd", 200, 200, ""},
			{"GET", "capacity", adminToken, "", 200, 200, `"data":4`},
			{"DELETE", "u1", adminToken, "", 200, 200, ""},
			{"GET", "capacity", adminToken, "", 200, 200, `"data":0`},
		}},
	})
}

// A JSON body holds no key= pair: it is refused for its media type.
func TestEmptyValueNewKeyReadsFormsOnly(t *testing.T) {
	send := serve(t, "empty-value-new-key-refused")
	if status, body := send("PUT", "u1", adminToken, `{"nickname":"Ann"}`, "application/json"); status != http.StatusUnsupportedMediaType {
		t.Fatalf("a JSON body: %d %s, want 415", status, body)
	}
}

func TestDurationMicroseconds(t *testing.T) {
	slow := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(3 * time.Millisecond)
		writeData(w, true)
	})
	rec := httptest.NewRecorder()
	durationMicros(slow).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/o/a/metadata/user/u1", nil))
	var body struct{ Duration int64 }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Duration < 3000 {
		t.Fatalf("a 3 ms answer: %s, want a duration of at least 3000 (microseconds)", rec.Body)
	}
}

func TestBlindStoreMutants(t *testing.T) {
	big := int64(1 << 40)
	commit := func(s store.Store, user string, e store.Entry, attrs map[string]string, quota int64) error {
		return s.Commit("app", user, store.Write{Version: e.Version, Attrs: attrs, Size: jsonSize(attrs), AppQuota: quota})
	}

	t.Run("app-quota-checked-before-write", func(t *testing.T) {
		s := quotaBeforeWrite{store.NewMemory()}
		e, _ := s.Load("app", "u1")
		if err := commit(s, "u1", e, map[string]string{"a": strings.Repeat("x", 80)}, 100); err != nil {
			t.Fatal(err)
		}
		e, _ = s.Load("app", "u2")
		if err := commit(s, "u2", e, map[string]string{"b": strings.Repeat("x", 80)}, 100); err != nil {
			t.Fatalf("a write past the quota of an app under it: %v, want it accepted", err)
		}
		e, _ = s.Load("app", "u3")
		if err := commit(s, "u3", e, map[string]string{"c": "1"}, 100); !errors.Is(err, store.ErrQuota) {
			t.Fatalf("a write to an app over its quota: %v, want ErrQuota", err)
		}
	})

	t.Run("overwrite-unversioned loses an overwrite", func(t *testing.T) {
		s := &overwriteBlind{Store: store.NewMemory(), read: map[string]map[uint64][]string{}}
		e, _ := s.Load("app", "u")
		commit(s, "u", e, map[string]string{"a": "0", "b": "0"}, big)
		stale, _ := s.Load("app", "u")
		if err := commit(s, "u", stale, map[string]string{"a": "1", "b": "0"}, big); err != nil {
			t.Fatal(err)
		}
		if err := commit(s, "u", stale, map[string]string{"a": "0", "b": "2"}, big); err != nil {
			t.Fatalf("a racing overwrite: %v, want it committed blindly", err)
		}
		if e, _ := s.Load("app", "u"); e.Attrs["a"] != "0" || e.Attrs["b"] != "2" {
			t.Fatalf("stored %v, want the first overwrite lost", e.Attrs)
		}
		if err := commit(s, "u", stale, map[string]string{"a": "0", "b": "0", "c": "3"}, big); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a racing write that adds a key: %v, want a conflict", err)
		}
	})

	t.Run("put-resurrects-deleted", func(t *testing.T) {
		s := resurrecting{store.NewMemory()}
		e, _ := s.Load("app", "u")
		commit(s, "u", e, map[string]string{"old": "1"}, big)
		stale, _ := s.Load("app", "u")
		s.Delete("app", "u")
		if err := commit(s, "u", stale, map[string]string{"old": "1", "new": "2"}, big); err != nil {
			t.Fatalf("a write racing a delete: %v, want it committed", err)
		}
		if e, _ := s.Load("app", "u"); e.Attrs["old"] != "1" {
			t.Fatalf("stored %v, want the deleted attribute back", e.Attrs)
		}
		other, _ := s.Load("app", "u")
		commit(s, "u", other, map[string]string{"x": "1"}, big)
		if err := commit(s, "u", other, map[string]string{"y": "1"}, big); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a write racing a write: %v, want a conflict", err)
		}
	})
}
