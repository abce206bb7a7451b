package model_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/attrconform/attrconform/catalog"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/target"
)

// tenant is a small target: three users, two with tokens, an app with a
// quota of its own.
func tenant(t *testing.T, profile string, edit func(*target.Target)) *model.Model {
	t.Helper()
	tgt, err := target.Parse([]byte(`
base_url: http://127.0.0.1:1
org: acme
app: chat
admin_token: admin-token
users: [{name: alice, token: alice-token}, {name: bob, token: bob-token}, {name: carol}]
size_metric: json
body_metric: raw
extra_apps:
  small_quota: {app: tiny, admin_token: tiny-token, app_bytes: 300, users: [{name: erin}]}
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	tgt.Profile = profile
	if edit != nil {
		edit(tgt)
	}
	cfg, err := model.ConfigOf(tgt, true)
	if err != nil {
		t.Fatal(err)
	}
	return model.New(cfg)
}

var (
	admin = model.Principal{Kind: model.KindAdmin, App: target.MainApp}
	alice = model.Principal{Kind: model.KindUser, App: target.MainApp, User: "alice"}
)

func put(p model.Principal, user, body string) model.Request {
	return model.Request{Principal: p, App: target.MainApp, Op: model.Put, User: user, Body: []byte(body), ContentType: "application/x-www-form-urlencoded"}
}

func get(p model.Principal, user string) model.Request {
	return model.Request{Principal: p, App: target.MainApp, Op: model.Get, User: user}
}

func del(p model.Principal, user string) model.Request {
	return model.Request{Principal: p, App: target.MainApp, Op: model.Delete, User: user}
}

func batch(body string) model.Request {
	return model.Request{Principal: admin, App: target.MainApp, Op: model.Batch, Body: []byte(body), ContentType: "application/json"}
}

func capacity(p model.Principal) model.Request {
	return model.Request{Principal: p, App: target.MainApp, Op: model.Capacity}
}

// answer is a JSON answer of now, taking 2 ms.
func answer(status int, body map[string]any) model.Answer {
	now := time.Now()
	if _, ok := body["timestamp"]; !ok {
		body["timestamp"] = now.UnixMilli()
	}
	if _, ok := body["duration"]; !ok {
		body["duration"] = 1
	}
	b, _ := json.Marshal(body)
	return model.Answer{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: b, Sent: now.Add(-2 * time.Millisecond), Received: now}
}

func ok(data any) model.Answer { return answer(200, map[string]any{"data": data}) }

func fail(status int, text string) model.Answer {
	return answer(status, map[string]any{"error": "e", "error_description": text})
}

// step is one request, its answer, and whether the documents allow it
// (with the requirement a refusal must name).
type step struct {
	req     model.Request
	ans     model.Answer
	allowed bool
	names   string // a requirement a disagreement must name
}

func run(t *testing.T, m *model.Model, s model.State, steps ...step) model.State {
	t.Helper()
	for i, st := range steps {
		next, v := m.Observe(s, st.req, st.ans)
		if v.OK() != st.allowed {
			t.Fatalf("step %d (%s -> %d %s): allowed %v, want %v; problems %v; allowed answers %v", i+1, st.req, st.ans.Status, st.ans.Body, v.OK(), st.allowed, v.Problems, v.Allowed)
		}
		if !st.allowed && st.names != "" && !slices.Contains(v.Broken(), st.names) {
			t.Fatalf("step %d: the disagreement names %v, not %s", i+1, v.Broken(), st.names)
		}
		if v.OK() {
			s = next
		}
	}
	return s
}

func attrs(kv ...string) map[string]string {
	out := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestPutMergesAndAReadShowsTheMerge(t *testing.T) {
	m := tenant(t, "lenient", nil)
	run(t, m, m.Empty(),
		step{put(admin, "alice", "a=1&b=2"), ok(attrs("a", "1", "b", "2")), true, ""},
		step{put(admin, "alice", "b=3&c=4"), ok(attrs("b", "3", "c", "4")), true, ""},
		// The whole map after the merge is the other documented answer, but
		// this target showed the request's pairs.
		step{put(admin, "alice", "d=5"), ok(attrs("a", "1", "b", "3", "c", "4", "d", "5")), false, "UA-PUT-005"},
		step{put(admin, "alice", "d=5"), ok(attrs("d", "5")), true, ""},
		step{get(admin, "ALICE"), ok(attrs("b", "3", "c", "4", "d", "5")), false, "UA-PUT-004"},
		step{get(admin, "ALICE"), ok(attrs("a", "1", "b", "3", "c", "4", "d", "5")), true, ""},
	)
}

func TestAShownAlternativeIsHeld(t *testing.T) {
	m := tenant(t, "lenient", nil)
	s := run(t, m, m.Empty(),
		step{put(admin, "alice", "a=1&b=2"), ok(attrs("a", "1", "b", "2")), true, ""},
		step{put(admin, "alice", "a="), ok(attrs("a", "")), true, ""},
		step{get(admin, "alice"), ok(attrs("b", "2")), true, ""}, // empty_value=removed
	)
	if c := s.Choices(); !slices.Contains(c, model.Alternative{Choice: "empty_value", Alternative: "removed"}) {
		t.Fatalf("choices %v, want empty_value=removed among them", c)
	}
	run(t, m, s,
		step{put(admin, "bob", "x="), ok(attrs("x", "")), true, ""},
		step{get(admin, "bob"), ok(attrs("x", "")), false, "UA-PUT-007"},
	)
}

func TestAPinnedProfileAllowsOneAlternative(t *testing.T) {
	current, legacy := tenant(t, "current", nil), tenant(t, "legacy", nil)
	ghost := "zz-conform-ghost"
	run(t, current, current.Empty(), step{get(admin, ghost), answer(404, map[string]any{"data": map[string]any{}}), false, "UA-GET-003"})
	run(t, legacy, legacy.Empty(), step{get(admin, ghost), answer(404, map[string]any{"data": map[string]any{}}), true, ""})
	run(t, legacy, legacy.Empty(), step{get(admin, ghost), ok(map[string]any{}), false, "UA-GET-003"})
}

func TestARefusedPutChangesNothing(t *testing.T) {
	m := tenant(t, "lenient", nil)
	big := strings.Repeat("v", 2100)
	run(t, m, m.Empty(),
		step{put(admin, "alice", "a=1"), ok(attrs("a", "1")), true, ""},
		step{put(admin, "alice", "a=2&k="+big), ok(attrs("a", "2", "k", big)), false, "UA-LIMIT-001"},
		step{put(admin, "alice", "a=2&k="+big), fail(403, "size of metadata for this single user exceeds the user defined limit, 2048Bytes"), true, ""},
		step{get(admin, "alice"), ok(attrs("a", "2")), false, "UA-LIMIT-006"},
	)
}

func TestTheUserLimitIsExactUnderADeclaredMetric(t *testing.T) {
	m := tenant(t, "lenient", nil)
	// {"k":"…"} is 8 bytes around the value.
	at, over := strings.Repeat("v", 2040), strings.Repeat("v", 2041)
	run(t, m, m.Empty(),
		step{put(admin, "alice", "k="+over), ok(attrs("k", over)), false, "UA-LIMIT-001"},
		step{put(admin, "alice", "k="+at), fail(403, "user metadata length exceed the limit"), false, "UA-LIMIT-001"},
		step{put(admin, "alice", "k="+at), ok(attrs("k", at)), true, ""},
	)
}

func TestMarginsWhenTheMetricIsUndeclared(t *testing.T) {
	m := tenant(t, "lenient", func(t *target.Target) { t.SizeMetric = "" })
	refused := fail(403, "size of metadata for this single user exceeds the user defined limit, 2048Bytes")
	for _, c := range []struct {
		n        int
		pass, no bool
	}{{1400, true, false}, {1800, true, true}, {2100, false, true}} {
		v := strings.Repeat("v", c.n-1) // key k: n bytes of key and value
		_, passed := m.Observe(m.Empty(), put(admin, "alice", "k="+v), ok(attrs("k", v)))
		_, refusedOK := m.Observe(m.Empty(), put(admin, "alice", "k="+v), refused)
		if passed.OK() != c.pass || refusedOK.OK() != c.no {
			t.Errorf("%d bytes: 200 allowed %v (want %v), 403 allowed %v (want %v)", c.n, passed.OK(), c.pass, refusedOK.OK(), c.no)
		}
	}
}

func TestFormDecoding(t *testing.T) {
	f := model.DecodeForm([]byte("display+name=A%20B&city=%E6%B7%B1%E5%9C%B3&raw=a:b/c@d&&empty=&k%zz=1"))
	got := map[string]string{}
	for _, p := range f.Pairs {
		got[p.Key] = p.Value
	}
	want := attrs("display name", "A B", "city", "深圳", "raw", "a:b/c@d", "empty", "", "k%zz", "1")
	if fmt.Sprint(got) != fmt.Sprint(want) || !f.Lenient {
		t.Fatalf("decoded %v (lenient %v), want %v (lenient)", got, f.Lenient, want)
	}
}

func TestBatchReads(t *testing.T) {
	m := tenant(t, "lenient", nil)
	s := run(t, m, m.Empty(),
		step{put(admin, "alice", "nickname=Ann&mail=a"), ok(attrs("nickname", "Ann", "mail", "a")), true, ""},
	)
	run(t, m, s,
		step{batch(`{"targets":["alice","zz-conform-x"],"properties":["nickname","phone"]}`), ok(map[string]any{"alice": attrs("nickname", "Ann")}), true, ""},
		step{batch(`{"targets":["alice"],"properties":["nickname"]}`), ok(map[string]any{"alice": attrs("nickname", "Ann", "mail", "a")}), false, "UA-BATCH-003"},
		step{batch(`{"targets":["ALICE"],"properties":["nickname"]}`), ok(map[string]any{"ALICE": attrs("nickname", "Ann")}), true, ""},
		step{batch(`{"targets":["Alice"],"properties":["nickname"]}`), ok(map[string]any{"alice": attrs("nickname", "Ann")}), false, "UA-BATCH-010"},
		step{batch(`{"targets":"alice"}`), fail(400, "targets must be an array"), true, ""},
		step{batch(`{"targets":"alice"}`), ok(map[string]any{}), false, "UA-BATCH-008"},
		step{batch(`{"targets":[` + strings.Repeat(`"zz-conform-x",`, 100) + `"alice"]}`), fail(400, "exceed allowed batch size 100"), true, ""},
		step{batch(`{"targets":[` + strings.Repeat(`"zz-conform-x",`, 100) + `"alice"]}`), fail(400, "exceed allowed batch size 1000"), false, "UA-BATCH-006"},
	)
}

func TestAuthorisationByPrincipal(t *testing.T) {
	m := tenant(t, "current", nil)
	none := model.Principal{Kind: model.KindNone}
	run(t, m, m.Empty(),
		step{put(alice, "alice", "a=1"), ok(attrs("a", "1")), true, ""},
		step{put(alice, "bob", "a=1"), ok(attrs("a", "1")), false, "UA-AUTH-004"},
		step{put(alice, "bob", "a=1"), fail(401, "auth error"), true, ""},
		step{put(alice, "zz-conform-x", "a=1"), fail(404, "Service resource not found"), false, "UA-AUTH-005"},
		step{get(none, "alice"), ok(attrs("a", "1")), false, "UA-AUTH-001"},
		step{capacity(alice), ok(2), false, "UA-AUTH-006"},
		step{del(alice, "bob"), ok(true), false, "UA-AUTH-009"},
	)
}

func TestCapacityIsTheSumOfSizes(t *testing.T) {
	m := tenant(t, "lenient", nil)
	run(t, m, m.Empty(),
		step{capacity(admin), ok(0), true, ""},
		step{put(admin, "alice", "a=1"), ok(attrs("a", "1")), true, ""},
		step{capacity(admin), ok(10), false, "UA-CAP-003"},
		step{capacity(admin), ok(9), true, ""}, // {"a":"1"}
		step{del(admin, "alice"), ok(true), true, ""},
		step{capacity(admin), ok(9), false, "UA-CAP-004"},
		step{capacity(admin), answer(200, map[string]any{"data": json.RawMessage("0.0")}), false, "UA-CAP-001"},
	)
}

func TestEnvelopeUnits(t *testing.T) {
	m := tenant(t, "lenient", nil)
	now := time.Now()
	for _, c := range []struct {
		name     string
		ts, d    any
		elapsed  time.Duration
		allowed  bool
		breaking string
	}{
		{"milliseconds", now.UnixMilli(), 3, 5 * time.Millisecond, true, ""},
		{"a timestamp in seconds", now.Unix(), 3, 5 * time.Millisecond, false, "UA-GEN-003"},
		{"a timestamp in microseconds", now.UnixMicro(), 3, 5 * time.Millisecond, false, "UA-GEN-003"},
		{"a duration in microseconds", now.UnixMilli(), 1500, time.Millisecond, false, "UA-GEN-003"},
		{"a fractional duration", now.UnixMilli(), json.RawMessage("1.5"), 5 * time.Millisecond, false, "UA-GEN-003"},
	} {
		a := answer(200, map[string]any{"data": map[string]any{}, "timestamp": c.ts, "duration": c.d})
		a.Sent, a.Received = now.Add(-c.elapsed), now
		_, v := m.Observe(m.Empty(), get(admin, "alice"), a)
		if v.OK() != c.allowed || (!c.allowed && !slices.Contains(v.Broken(), c.breaking)) {
			t.Errorf("%s: allowed %v, problems %v", c.name, v.OK(), v.Problems)
		}
	}
	withError := answer(200, map[string]any{"data": map[string]any{}, "error": ""})
	if _, v := m.Observe(m.Empty(), get(admin, "alice"), withError); !slices.Contains(v.Broken(), "UA-GEN-005") {
		t.Errorf("a success with an error member: problems %v", v.Problems)
	}
}

func TestAConflictIsAllowedOnlyWhenRequestsOverlap(t *testing.T) {
	conflict := fail(409, "Failed to update userMetadata. Concurrent updates not allowed")
	sequential := tenant(t, "lenient", nil)
	run(t, sequential, sequential.Empty(), step{put(admin, "alice", "a=1"), conflict, false, ""})
	tgt := tenant(t, "lenient", nil).Config()
	tgt.Concurrent = true
	concurrent := model.New(tgt)
	run(t, concurrent, concurrent.Empty(),
		step{put(admin, "alice", "a=1"), conflict, true, ""},
		step{get(admin, "alice"), ok(attrs("a", "1")), false, "UA-CONC-003"},
		step{put(admin, "alice", "a=1"), fail(409, "conflict"), false, "UA-CONC-002"},
	)
}

func TestOneUserSteppedOnItsOwn(t *testing.T) {
	m := tenant(t, "lenient", nil)
	s := m.UserState(target.MainApp, "alice", map[string]string{})
	s = run(t, m, s,
		step{put(alice, "alice", "a=1"), ok(attrs("a", "1")), true, ""},
		step{batch(`{"targets":["alice"]}`), ok(map[string]any{"alice": attrs("a", "1")}), true, ""},
	)
	if got, known := s.Attributes(target.MainApp, "alice"); !known || got["a"] != "1" {
		t.Fatalf("attributes %v (known %v)", got, known)
	}
}

// The list of requirements the model decides names exactly the IDs its
// rules carry (those of documented facts no rule decides aside), all of
// them in the catalogue.
func TestRequirementsListsTheRulesIDs(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("*.go")
	named := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range regexp.MustCompile(`"(UA-[A-Z]+-\d{3})"`).FindAllStringSubmatch(string(src), -1) {
			named[id[1]] = true
		}
	}
	factsOnly := []string{"UA-CONC-001", "UA-CONC-002", "UA-CONC-003", "UA-RATE-002", "UA-RATE-003"}
	for id := range named {
		if !slices.Contains(model.Requirements, id) && !slices.Contains(factsOnly, id) {
			t.Errorf("%s is named by a rule but not in model.Requirements", id)
		}
	}
	for _, id := range model.Requirements {
		if !named[id] {
			t.Errorf("%s is in model.Requirements but no rule names it", id)
		}
		if r, ok := cat.Get(id); !ok || !r.Testable {
			t.Errorf("%s is not a testable requirement of the catalogue", id)
		}
	}
}
