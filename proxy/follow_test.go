package proxy

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/attrconform/attrconform/judge"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/report"
	"github.com/attrconform/attrconform/target"
)

// rig drives a follower of the bundled tenant with exchanges made up
// here, begun and ended in any order.
type rig struct {
	t   testing.TB
	f   *follower
	tg  *target.Target
	seq int
}

func newRig(t testing.TB, exclusive bool) *rig {
	t.Helper()
	tg, err := reference.BundledTarget()
	if err != nil {
		t.Fatal(err)
	}
	tg.BaseURL = "http://127.0.0.1:1"
	f, err := newFollower(tg, exclusive, func(s string) string { return s }, func(r *http.Request) string { return r.URL.RequestURI() })
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, f: f, tg: tg}
}

// inFlight is an exchange begun and not yet ended.
type inFlight struct {
	seq  int
	req  *http.Request
	body string
	sent time.Time
}

// begin starts a request of token (the admin's when "admin") to path
// below /acme/chat/metadata/user/.
func (r *rig) begin(method, path, token, body string) inFlight {
	r.t.Helper()
	if token == "admin" {
		token = r.tg.AdminToken
	}
	req, err := http.NewRequest(method, r.tg.BaseURL+"/acme/chat/metadata/user/"+path, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	switch method {
	case http.MethodPut:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case http.MethodPost:
		req.Header.Set("Content-Type", "application/json")
	}
	r.seq++
	r.f.begin(r.seq, req)
	return inFlight{r.seq, req, body, time.Now()}
}

// end answers x with status and, for 200, data (else an error body of
// text), and returns the requirements the state found violated.
func (r *rig) end(x inFlight, status int, data string) []string {
	r.t.Helper()
	ms := time.Now().UnixMilli()
	body := fmt.Sprintf(`{"timestamp":%d,"duration":0,"data":%s}`, ms, data)
	if status != http.StatusOK {
		body = fmt.Sprintf(`{"error":"x","error_description":%q,"timestamp":%d,"duration":0}`, data, ms)
	}
	a := model.Answer{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body), Sent: x.sent, Received: time.Now()}
	var v judge.Verdict
	r.f.end(x.seq, x.req, []byte(x.body), a, &v)
	var ids []string
	for _, f := range v.Violations {
		ids = append(ids, f.Requirement)
		if !strings.HasPrefix(f.Problem, byState+" (") {
			r.t.Errorf("finding %q does not say it was found by state", f.Problem)
		}
	}
	return ids
}

// do is an exchange alone in time.
func (r *rig) do(method, path, token, body string, status int, data string) []string {
	r.t.Helper()
	return r.end(r.begin(method, path, token, body), status, data)
}

func (r *rig) counts() report.StateTraffic { return r.f.stats() }

func TestAUserIsJudgedByStateOnlyFromAKnownPoint(t *testing.T) {
	r := newRig(t, false)
	// alice's attributes are unknown: a PUT that keeps nothing of them and
	// a read that shows only its pairs are not held against the target.
	if found := r.do("PUT", "alice", "admin", "a=1", 200, `{"a":"1"}`); found != nil {
		t.Fatalf("an unknown user was judged by state: %v", found)
	}
	if found := r.do("POST", "get", "admin", `{"targets":["alice"],"properties":["a"]}`, 200, `{"alice":{"a":"1"}}`); found != nil {
		t.Fatalf("a batch read with a property filter is a known point: %v", found)
	}
	if c := r.counts(); c.Known != 0 || c.Judged != 0 {
		t.Fatalf("counts %+v before any known point", c)
	}
	// A whole read is a known point; the PUT after it must merge.
	r.do("GET", "alice", "admin", "", 200, `{"a":"1","b":"2"}`)
	r.do("PUT", "alice", "admin", "c=3", 200, `{"c":"3"}`)
	found := r.do("GET", "alice", "admin", "", 200, `{"c":"3"}`)
	if !slices.Contains(found, "UA-PUT-004") {
		t.Fatalf("a read that lost merged keys: found %v, want UA-PUT-004", found)
	}
	if c := r.counts(); c.Known != 1 || c.Judged != 2 || c.Doubtful != 0 {
		t.Fatalf("counts %+v: want alice known once, two exchanges judged by her state", c)
	}
	// A read that breaks the state changes nothing: the next is held to
	// the same state.
	if found := r.do("GET", "alice", "admin", "", 200, `{"c":"3"}`); !slices.Contains(found, "UA-PUT-004") {
		t.Fatalf("the read after: found %v, want UA-PUT-004 again", found)
	}
	// A DELETE answered true is a known point, and so is a batch read of
	// every property, which leaves users without attributes out.
	r.do("DELETE", "bob", "admin", "", 200, "true")
	r.do("POST", "get", "admin", `{"targets":["carol","bob"]}`, 200, `{"carol":{"x":"1"}}`)
	if found := r.do("GET", "bob", "admin", "", 200, `{"x":"1"}`); !slices.Contains(found, "UA-GET-001") {
		t.Fatalf("bob, emptied, read with an attribute: found %v", found)
	}
	if found := r.do("GET", "carol", "admin", "", 200, `{"x":"2"}`); !slices.Contains(found, "UA-GET-001") {
		t.Fatalf("carol, read whole in a batch, then otherwise: found %v", found)
	}
}

// A name the target file does not list may have an account or not; the
// follower holds it to either until an answer tells them apart.
func TestAnUnlistedUserMayOrMayNotHaveAnAccount(t *testing.T) {
	r := newRig(t, false)
	r.do("GET", "zed", "admin", "", 200, `{}`)
	if found := r.do("PUT", "zed", "admin", "a=1", 404, "Service resource not found"); found != nil {
		t.Fatalf("the admin's write to a name without an account may answer 404: found %v", found)
	}
	if found := r.do("PUT", "zed", "admin", "a=1", 200, `{"a":"1"}`); !slices.Contains(found, "UA-PUT-009") {
		t.Fatalf("then the same write answered 200: found %v, want UA-PUT-009", found)
	}
	r = newRig(t, false)
	r.do("GET", "zed", "admin", "", 200, `{}`)
	if found := r.do("PUT", "zed", "admin", "a=1", 200, `{"a":"1"}`); found != nil {
		t.Fatalf("or it has an account: found %v", found)
	}
	if found := r.do("GET", "zed", "admin", "", 200, `{}`); !slices.Contains(found, "UA-GET-001") {
		t.Fatalf("after its write, zed reads empty: found %v", found)
	}
}

// Requests of one user that overlap in time may have been handled in
// either order: overlapping writes forget the state, a read overlapping a
// write is not judged by it, and reads need no order among themselves.
func TestOverlappingRequestsAreNotJudgedByState(t *testing.T) {
	r := newRig(t, false)
	r.do("DELETE", "alice", "admin", "", 200, "true")

	put := r.begin("PUT", "alice", "admin", "a=1")
	get := r.begin("GET", "alice", "admin", "")
	other := r.begin("GET", "alice", "admin", "")
	if found := r.end(get, 200, `{"a":"1"}`); found != nil {
		t.Fatalf("a read overlapping a write was judged: %v", found)
	}
	if found := r.end(put, 200, `{"a":"1"}`); found != nil {
		t.Fatalf("a write overlapped by reads only: %v", found)
	}
	if found := r.end(other, 200, `{}`); found != nil {
		t.Fatalf("a read that began before the write ended was judged: %v", found)
	}
	if found := r.do("GET", "alice", "admin", "", 200, `{}`); !slices.Contains(found, "UA-GET-001") {
		t.Fatalf("the write, alone among writes, was followed: found %v", found)
	}

	r.do("GET", "alice", "admin", "", 200, `{"a":"1"}`)
	one, two := r.begin("PUT", "alice", "admin", "b=1"), r.begin("PUT", "alice", "admin", "b=2")
	r.end(one, 200, `{"b":"1"}`)
	r.end(two, 200, `{"b":"2"}`)
	if c := r.counts(); c.Overlapping != 4 {
		t.Fatalf("counts %+v: want 4 overlapping exchanges (two reads, two writes)", c)
	}
	if found := r.do("GET", "alice", "admin", "", 200, `{"b":"7"}`); found != nil {
		t.Fatalf("the state was not forgotten after overlapping writes: %v", found)
	}
	if found := r.do("GET", "alice", "admin", "", 200, `{"b":"8"}`); !slices.Contains(found, "UA-GET-001") {
		t.Fatalf("the read after them is a known point: found %v", found)
	}
	// A batch read learns its targets only when they end: a write of one
	// of them that ended meanwhile overlapped it.
	batch := r.begin("POST", "get", "admin", `{"targets":["alice"]}`)
	r.do("PUT", "alice", "admin", "c=1", 200, `{"c":"1"}`)
	if found := r.end(batch, 200, `{"alice":{"b":"8"}}`); found != nil {
		t.Fatalf("a batch read overlapping a write was judged: %v", found)
	}
}

// An exchange without a whole answer, one the documents do not allow, a
// 429 or 5xx, or a write by a token the target file does not list leave
// the user's data in doubt: the state is forgotten until the next known
// point.
func TestDoubtfulAnswersForgetTheState(t *testing.T) {
	for _, c := range []struct {
		name  string
		doubt func(r *rig)
	}{
		{"no answer", func(r *rig) { r.f.drop(r.begin("PUT", "alice", "admin", "a=1").seq) }},
		{"a write the documents do not allow", func(r *rig) { r.do("PUT", "alice", "admin", "a=1", 200, `{"a":"2"}`) }},
		{"a failure", func(r *rig) { r.do("PUT", "alice", "admin", "a=1", 503, "busy") }},
		{"an unlisted token", func(r *rig) { r.do("PUT", "alice", "not-a-listed-token", "a=1", 200, `{"a":"1"}`) }},
		{"a write no user accounts for", func(r *rig) { r.do("PUT", "", "admin", "a=1", 200, `{}`) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, false)
			r.do("DELETE", "alice", "admin", "", 200, "true")
			c.doubt(r)
			if found := r.do("GET", "alice", "admin", "", 200, `{"z":"9"}`); found != nil {
				t.Fatalf("judged by a state in doubt: %v", found)
			}
			if n := r.counts().Doubtful; n != 1 {
				t.Fatalf("%d states forgotten in doubt, want 1", n)
			}
		})
	}
	r := newRig(t, false)
	r.do("DELETE", "alice", "admin", "", 200, "true")
	r.do("GET", "alice", "admin", "", 429, "This request has reached api limit")
	r.do("PUT", "alice", r.tg.Users[1].Token, "a=1", 401, "auth error") // bob's token
	if found := r.do("GET", "alice", "admin", "", 200, `{"z":"9"}`); !slices.Contains(found, "UA-GET-001") {
		t.Fatalf("a read refused for the rate, or a refused write, changes nothing: found %v", found)
	}
}

// Past the bound, the least recently used user is forgotten, and counted;
// a read that began before it was forgotten is no known point.
func TestFollowedUsersAreBounded(t *testing.T) {
	r := newRig(t, false)
	r.f.max = 2
	early := r.begin("GET", "alice", "admin", "")
	for _, u := range []string{"bob", "carol", "dave"} {
		r.do("DELETE", u, "admin", "", 200, "true")
	}
	if len(r.f.users) != 2 || r.counts().Evicted != 1 {
		t.Fatalf("%d users followed, %d forgotten: want 2 and 1", len(r.f.users), r.counts().Evicted)
	}
	if found := r.do("GET", "bob", "admin", "", 200, `{"z":"9"}`); found != nil {
		t.Fatalf("bob, forgotten, was judged: %v", found)
	}
	r.end(early, 200, `{}`)
	if found := r.do("GET", "alice", "admin", "", 200, `{"z":"9"}`); found != nil {
		t.Fatalf("a read that began before users were forgotten became a known point: %v", found)
	}

	// The states' footprints are bounded too.
	r = newRig(t, false)
	r.f.budget = 100 << 10
	value := strings.Repeat("v", 1500)
	for i := range 200 {
		u := fmt.Sprintf("u%d", i)
		r.do("DELETE", u, "admin", "", 200, "true")
		r.do("PUT", u, "admin", "k="+value, 200, `{"k":"`+value+`"}`)
	}
	if r.f.bytes > r.f.budget || len(r.f.users) >= 200 || r.counts().Evicted == 0 {
		t.Fatalf("%d users followed in %d bytes (%d forgotten), want at most %d bytes", len(r.f.users), r.f.bytes, r.counts().Evicted, r.f.budget)
	}
	sum := 0
	for _, e := range r.f.users {
		sum += e.bytes
	}
	if sum != r.f.bytes {
		t.Fatalf("the footprints sum to %d, counted %d", sum, r.f.bytes)
	}
}

// With exclusive, an app's capacity follows the writes of users whose
// states are known, from a capacity read on; without, it is not judged by
// state.
func TestCapacityIsJudgedByStateWhenExclusive(t *testing.T) {
	for _, exclusive := range []bool{true, false} {
		r := newRig(t, exclusive)
		r.do("DELETE", "alice", "admin", "", 200, "true")
		r.do("GET", "capacity", "admin", "", 200, "100")
		r.do("PUT", "alice", "admin", "a=1", 200, `{"a":"1"}`) // {"a":"1"}: 9 bytes
		if found := r.do("GET", "capacity", "admin", "", 200, "109"); found != nil {
			t.Fatalf("exclusive %v: the capacity that follows: %v", exclusive, found)
		}
		r.do("PUT", "alice", r.tg.Users[1].Token, "b=22", 401, "auth error") // bob's token: refused
		found := r.do("GET", "capacity", "admin", "", 200, "113")
		if exclusive != slices.Contains(found, "UA-CAP-004") {
			t.Fatalf("exclusive %v: a capacity charged for a refused write: found %v", exclusive, found)
		}
		r.do("PUT", "bob", "admin", "b=1", 200, `{"b":"1"}`) // bob's earlier attributes are unknown
		if found := r.do("GET", "capacity", "admin", "", 200, "5"); found != nil {
			t.Fatalf("exclusive %v: judged after a write of an unknown user: %v", exclusive, found)
		}
	}
}

// An exchange of a user followed by state: a PUT merged into ten
// attributes, or the read that shows them.
func BenchmarkFollowedExchange(b *testing.B) {
	r := newRig(b, false)
	r.do("DELETE", "alice", "admin", "", 200, "true")
	var data []string
	for i := range 10 {
		data = append(data, fmt.Sprintf(`"k%d":"%s"`, i, strings.Repeat("v", 40)))
		r.do("PUT", "alice", "admin", fmt.Sprintf("k%d=%s", i, strings.Repeat("v", 40)), 200, "{"+data[i]+"}")
	}
	all := "{" + strings.Join(data, ",") + "}"
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			r.do("PUT", "alice", "admin", "k0="+strings.Repeat("v", 40), 200, "{"+data[0]+"}")
		} else if found := r.do("GET", "alice", "admin", "", 200, all); found != nil {
			b.Fatal(found)
		}
	}
}
