package reference

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/attrconform/attrconform/internal/etcdtest"
	"github.com/attrconform/attrconform/reference/store"
	"github.com/attrconform/attrconform/reference/store/etcdstore"
)

// Two servers over one etcd prefix are one server: what one writes or
// registers, or the token one issues, the other serves.
func TestServersOverEtcdShareEverything(t *testing.T) {
	c := etcdtest.New(t, etcdtest.Options{})
	prefix := fmt.Sprintf("/shared-%d/", time.Now().UnixNano())
	var servers [2]*Server
	for i := range servers {
		st, err := etcdstore.Open(etcdstore.Options{Endpoints: c.Endpoints(), Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		servers[i] = newServer(t, withAccounts, func(cfg *Config) { cfg.Store = st })
		t.Cleanup(func() { servers[i].Close() })
	}
	a, b := servers[0], servers[1]
	if r := put(t, a, "alice", adminToken, "k=v"); r.status != 200 {
		t.Fatalf("PUT on a: %d %s", r.status, r.raw)
	}
	if got := attrs(t, b, "alice"); got["k"] != "v" {
		t.Fatalf("b reads %v after a wrote k=v", got)
	}
	// b read version 1 too: a write on b at the old version conflicts.
	if r := put(t, b, "alice", adminToken, "m=w"); r.status != 200 {
		t.Fatalf("PUT on b: %d %s", r.status, r.raw)
	}
	if got := attrs(t, a, "alice"); got["k"] != "v" || got["m"] != "w" {
		t.Fatalf("a reads %v after both wrote", got)
	}
	if r := do(t, b, "GET", "/acme/chat/metadata/user/capacity", adminToken, "", ""); r.body["data"] != float64(len(`{"k":"v","m":"w"}`)) {
		t.Fatalf("capacity on b: %s", r.raw)
	}

	// Registered on a: known to b, and taken there.
	if r := postJSON(t, a, "/acme/chat/users", adminToken, `{"username":"zed","password":"zed-pass"}`); r.status != 200 {
		t.Fatalf("registering on a: %d %s", r.status, r.raw)
	}
	if r := put(t, b, "zed", adminToken, "k=v"); r.status != 200 {
		t.Fatalf("admin PUT on b for a user registered on a: %d %s", r.status, r.raw)
	}
	if r := postJSON(t, b, "/acme/chat/users", adminToken, `{"username":"ZED","password":"other"}`); r.status != 400 || r.body["error"] != kindDuplicate {
		t.Fatalf("registering the name again on b: %d %s", r.status, r.raw)
	}
	// A token issued by a works on b; a password login on b works too.
	tok, _ := tokenOf(t, a, `{"grant_type":"password","username":"zed","password":"zed-pass"}`)
	if r := put(t, b, "zed", tok, "own=1"); r.status != 200 {
		t.Fatalf("zed's token from a on b: %d %s", r.status, r.raw)
	}
	tokenOf(t, b, `{"grant_type":"password","username":"zed","password":"zed-pass"}`)
	if r := put(t, b, "zed", "YWMt-never-issued-anywhere", "own=1"); r.status != 401 {
		t.Fatalf("an unknown token on b: %d %s", r.status, r.raw)
	}
}

// unavailable is a store that cannot reach its data.
type unavailable struct{ store.Store }

var errGone = fmt.Errorf("%w: no quorum", store.ErrUnavailable)

func (unavailable) Load(string, string) (store.Entry, error) { return store.Entry{}, errGone }
func (unavailable) Commit(string, string, store.Write) error { return errGone }
func (unavailable) Delete(string, string) error              { return errGone }
func (unavailable) Usage(string) (int64, error)              { return 0, errGone }
func (u unavailable) failing(err error) store.Store          { return broken{u.Store, err} }
func (b broken) Load(string, string) (store.Entry, error)    { return store.Entry{}, b.err }
func (b broken) Usage(string) (int64, error)                 { return 0, b.err }

type broken struct {
	store.Store
	err error
}

// A store that cannot reach its data answers 503 with a Retry-After on
// every operation that needs it; any other store error stays a 500.
func TestUnavailableStoreAnswers503(t *testing.T) {
	s := newServer(t, func(c *Config) { c.Store = unavailable{store.NewMemory()} })
	for _, r := range []answer{
		put(t, s, "alice", adminToken, "k=v"),
		do(t, s, "GET", "/acme/chat/metadata/user/alice", adminToken, "", ""),
		do(t, s, "DELETE", "/acme/chat/metadata/user/alice", adminToken, "", ""),
		do(t, s, "GET", "/acme/chat/metadata/user/capacity", adminToken, "", ""),
		postJSON(t, s, "/acme/chat/metadata/user/get", adminToken, `{"targets":["alice"]}`),
	} {
		if r.status != 503 || r.header.Get("Retry-After") != "1" || r.body["error"] != "service_unavailable" {
			t.Errorf("%d %v %s, want 503 with Retry-After 1", r.status, r.header, r.raw)
		}
	}
	s = newServer(t, func(c *Config) { c.Store = unavailable{store.NewMemory()}.failing(errors.New("damaged")) })
	if r := do(t, s, "GET", "/acme/chat/metadata/user/alice", adminToken, "", ""); r.status != 500 {
		t.Errorf("a damaged store: %d %s, want 500", r.status, r.raw)
	}
}
