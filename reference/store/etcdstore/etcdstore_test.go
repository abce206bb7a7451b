package etcdstore

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/attrconform/attrconform/internal/etcdtest"
	"github.com/attrconform/attrconform/reference/store"
	"github.com/attrconform/attrconform/reference/store/storetest"
)

// openOn opens n etcd stores (as n servers would) on cluster c under one prefix.
func openOn(t *testing.T, endpoints []string, prefix string, n int, timeout time.Duration) []*Store {
	t.Helper()
	var out []*Store
	for range n {
		s, err := Open(Options{Endpoints: endpoints, Prefix: prefix, Timeout: timeout})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		out = append(out, s)
	}
	return out
}

var (
	sharedEtcd     *etcdtest.Cluster
	sharedEtcdErr  error
	sharedEtcdOnce sync.Once
	prefixes       atomic.Int64
)

// openTestEtcd opens a store on the package's shared cluster (three
// members in this process) under a prefix of its own.
func openTestEtcd(t *testing.T) *Store {
	t.Helper()
	sharedEtcdOnce.Do(func() { sharedEtcd, sharedEtcdErr = etcdtest.Start(etcdtest.Options{}) })
	if sharedEtcdErr != nil {
		t.Fatal(sharedEtcdErr)
	}
	return openOn(t, sharedEtcd.Endpoints(), testPrefix(), 1, 5*time.Second)[0]
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedEtcd != nil {
		sharedEtcd.Close()
	}
	os.Exit(code)
}

func TestEtcdKeepsTheStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTestEtcd(t) })
}

func testPrefix() string { return fmt.Sprintf("/etcd-test-%d/", prefixes.Add(1)) }

// Three servers over one prefix are one store: racing writers, each on its
// own server, keep exactly the acknowledged commits, and the app total
// across users stays within the quota whichever server wrote.
func TestEtcdServersShareOneStore(t *testing.T) {
	openTestEtcd(t) // starts the shared cluster
	servers := openOn(t, sharedEtcd.Endpoints(), testPrefix(), 3, 5*time.Second)
	const writers, rounds = 6, 15
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	for w := range writers {
		s := servers[w%len(servers)]
		wg.Go(func() {
			for r := range rounds {
				e, err := s.Load("o/a", "u")
				if err != nil {
					t.Error(err)
					return
				}
				key := fmt.Sprintf("w%d-r%d", w, r)
				next := maps.Clone(e.Attrs)
				next[key] = "1"
				switch err := s.Commit("o/a", "u", store.Write{Version: e.Version, Attrs: next, Size: int64(len(next)), AppQuota: 1 << 20}); {
				case err == nil:
					mu.Lock()
					acked[key] = true
					mu.Unlock()
				case !errors.Is(err, store.ErrConflict):
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for i, s := range servers {
		e := storetest.MustLoad(t, s, "o/a", "u")
		if int(e.Version) != len(acked) || len(e.Attrs) != len(acked) {
			t.Errorf("server %d: version %d and %d keys after %d acknowledged commits", i, e.Version, len(e.Attrs), len(acked))
		}
		for k := range acked {
			if e.Attrs[k] != "1" {
				t.Errorf("server %d: acknowledged key %q lost", i, k)
			}
		}
	}
	if len(acked) == 0 {
		t.Fatal("no commit succeeded")
	}

	// The quota holds across servers: 12 users of 10 bytes each race for
	// an app quota of 50; exactly 5 fit, whichever servers took them.
	var fitted atomic.Int64
	for u := range 12 {
		s := servers[u%len(servers)]
		wg.Go(func() {
			switch err := s.Commit("o/q", fmt.Sprint("u", u), store.Write{Attrs: map[string]string{"k": "v"}, Size: 10, AppQuota: 50}); {
			case err == nil:
				fitted.Add(1)
			case !errors.Is(err, store.ErrQuota):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if fitted.Load() != 5 {
		t.Errorf("%d writes of 10 bytes fitted an app quota of 50, want 5", fitted.Load())
	}
	for i, s := range servers {
		if n := storetest.MustUsage(t, s, "o/q"); n != 50 {
			t.Errorf("server %d reads usage %d, want 50", i, n)
		}
	}
}

// Two prefixes are two tenants: neither sees the other's data.
func TestEtcdPrefixesAreSeparate(t *testing.T) {
	openTestEtcd(t)
	a := openOn(t, sharedEtcd.Endpoints(), testPrefix(), 1, 5*time.Second)[0]
	b := openOn(t, sharedEtcd.Endpoints(), strings.TrimSuffix(testPrefix(), "/"), 1, 5*time.Second)[0]
	if !strings.HasSuffix(b.Prefix(), "/") {
		t.Errorf("prefix %q: a trailing / is added", b.Prefix())
	}
	if err := a.Commit("o/a", "u", store.Write{Attrs: map[string]string{"k": "v"}, Size: 9, AppQuota: 100}); err != nil {
		t.Fatal(err)
	}
	if err := a.AddAccounts("o/a", []store.Account{{Name: "zed"}}); err != nil {
		t.Fatal(err)
	}
	if e := storetest.MustLoad(t, b, "o/a", "u"); e.Version != 0 || len(e.Attrs) != 0 || storetest.MustUsage(t, b, "o/a") != 0 {
		t.Fatalf("another prefix sees %+v", e)
	}
	if accounts, err := b.LoadAccounts("o/a"); err != nil || len(accounts) != 0 {
		t.Fatalf("another prefix sees accounts %v (%v)", accounts, err)
	}
}

// Accounts and tokens are shared: a name registered through one server is
// taken for every other one, and what one issued another finds.
func TestEtcdAccountsAreShared(t *testing.T) {
	openTestEtcd(t)
	s := openOn(t, sharedEtcd.Endpoints(), testPrefix(), 2, 5*time.Second)
	if err := s[0].AddAccounts("o/a", []store.Account{{Name: "zed", Salt: []byte{1}, Hash: []byte{2}, Created: 42}, {Name: "amy"}}); err != nil {
		t.Fatal(err)
	}
	if err := s[1].AddAccounts("o/a", []store.Account{{Name: "new"}, {Name: "zed"}}); !errors.Is(err, store.ErrAccountExists) {
		t.Fatalf("registering a taken name on another server: %v, want ErrAccountExists", err)
	}
	if _, found, _ := s[1].LookupAccount("o/a", "new"); found {
		t.Fatal("a refused registration added one of its accounts")
	}
	if a, found, err := s[1].LookupAccount("o/a", "zed"); err != nil || !found || a.Created != 42 || string(a.Hash) != "\x02" {
		t.Fatalf("LookupAccount: %+v %v %v", a, found, err)
	}
	if accounts, err := s[1].LoadAccounts("o/a"); err != nil || len(accounts) != 2 {
		t.Fatalf("LoadAccounts: %+v %v", accounts, err)
	}
	tok := store.Token{Token: "YWMt-a/b+c=", App: "o/a", User: "zed", Expires: 7}
	if err := s[0].AddToken(tok); err != nil {
		t.Fatal(err)
	}
	if got, found, err := s[1].LookupToken(tok.Token); err != nil || !found || got != tok {
		t.Fatalf("LookupToken: %+v %v %v", got, found, err)
	}
	if tokens, err := s[1].LoadTokens(); err != nil || len(tokens) != 1 || tokens[0] != tok {
		t.Fatalf("LoadTokens: %+v %v", tokens, err)
	}
	if _, found, err := s[1].LookupToken("YWMt-unknown"); err != nil || found {
		t.Fatalf("an unknown token: found %v, %v", found, err)
	}
}

func TestEtcdBadConfiguration(t *testing.T) {
	for _, bad := range []string{"", " , ", "127.0.0.1:2379", "ftp://127.0.0.1:2379", "http://127.0.0.1", "http://127.0.0.1:2379/path", "http://u:p@127.0.0.1:2379", "http://%zz"} {
		if _, err := ParseEndpoints(bad); err == nil {
			t.Errorf("ParseEndpoints(%q) accepted it", bad)
		}
	}
	got, err := ParseEndpoints(" http://127.0.0.1:2379, http://127.0.0.1:2381/ ")
	if err != nil || len(got) != 2 || got[1] != "http://127.0.0.1:2381" {
		t.Errorf("ParseEndpoints: %v %v", got, err)
	}
	if _, err := Open(Options{}); err == nil {
		t.Error("Open without endpoints succeeded")
	}
	// Nothing listens there: a clear error once the timeout has passed.
	if _, err := Open(Options{Endpoints: []string{"http://127.0.0.1:1"}, Timeout: 300 * time.Millisecond}); err == nil || !strings.Contains(err.Error(), "no etcd member") {
		t.Errorf("Open on a closed port: %v", err)
	}
	// Data of another schema under the prefix is refused, not read.
	openTestEtcd(t)
	prefix := testPrefix()
	s := openOn(t, sharedEtcd.Endpoints(), prefix, 1, time.Second)[0]
	if _, err := s.cli.Put(t.Context(), prefix+etcdSchemaKey, "99"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Endpoints: sharedEtcd.Endpoints(), Prefix: prefix}); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Errorf("a prefix of another schema: %v", err)
	}
}

// A cluster that loses one member keeps every acknowledged write and goes
// on serving; one that loses its quorum answers store.ErrUnavailable within the
// timeout and changes nothing; restarted, it has every acknowledged write.
func TestEtcdMemberLoss(t *testing.T) {
	c := etcdtest.New(t, etcdtest.Options{})
	servers := openOn(t, c.Endpoints(), "/loss/", 3, time.Second)
	var mu sync.Mutex
	acked := map[string]string{} // user -> value acknowledged last
	var unavailable atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 6 {
		s := servers[w%3]
		user := fmt.Sprint("user", w)
		wg.Go(func() {
			for i := 0; i < 2000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				e, err := s.Load("o/a", user)
				if err != nil {
					if !errors.Is(err, store.ErrUnavailable) {
						t.Errorf("load: %v", err)
						return
					}
					unavailable.Add(1)
					continue
				}
				v := fmt.Sprint(i)
				switch err := s.Commit("o/a", user, store.Write{Version: e.Version, Attrs: map[string]string{"k": v}, Size: 9, AppQuota: 1 << 20}); {
				case err == nil:
					mu.Lock()
					acked[user] = v
					mu.Unlock()
				case errors.Is(err, store.ErrUnavailable):
					unavailable.Add(1)
				default:
					t.Errorf("commit of %s: %v (one writer per user: no conflict is possible)", user, err)
					return
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	c.Stop(leaderOr(c, 0)) // the leader, if one is known
	time.Sleep(700 * time.Millisecond)
	mu.Lock()
	afterOne := len(acked)
	mu.Unlock()
	// Stop a second member: no quorum is left.
	running := runningMembers(c)
	c.Stop(running[0])
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if afterOne == 0 {
		t.Error("no write was acknowledged before the quorum was lost")
	}
	if unavailable.Load() == 0 {
		t.Error("losing the quorum never answered ErrUnavailable")
	}
	start := time.Now()
	if _, err := servers[0].Load("o/a", "user0"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("a read without quorum: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a read without quorum took %v with a timeout of 1s", d)
	}
	for i := range c.Members() {
		if err := c.Restart(i); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range servers {
		for user, v := range acked {
			e := storetest.MustLoad(t, s, "o/a", user)
			if e.Attrs["k"] != v {
				// A later write may have been applied without its answer
				// arriving (store.ErrUnavailable); never an earlier one.
				if got, want := atoi(e.Attrs["k"]), atoi(v); got < want {
					t.Errorf("server %d: %s holds %q, but %q was acknowledged", i, user, e.Attrs["k"], v)
				}
			}
		}
	}
}

func atoi(s string) int {
	n := -1
	fmt.Sscan(s, &n)
	return n
}

func leaderOr(c *etcdtest.Cluster, fallback int) int {
	if l := c.Leader(); l >= 0 {
		return l
	}
	return fallback
}

func runningMembers(c *etcdtest.Cluster) []int {
	var out []int
	for i := range c.Members() {
		if c.Running(i) {
			out = append(out, i)
		}
	}
	return out
}
