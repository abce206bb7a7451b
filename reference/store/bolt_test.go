package store

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustLoad(t *testing.T, s Store, app, user string) Entry {
	t.Helper()
	e, err := s.Load(app, user)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func mustUsage(t *testing.T, s Store, app string) int64 {
	t.Helper()
	n, err := s.Usage(app)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStoreContract(t *testing.T) {
	stores(t, func(t *testing.T, s Store) {
		if e := mustLoad(t, s, "o/a", "u"); e.Version != 0 || e.Attrs == nil || len(e.Attrs) != 0 {
			t.Fatalf("a user never written: %+v, want version 0 and an empty map", e)
		}
		if err := s.Delete("o/a", "u"); err != nil {
			t.Fatalf("deleting nothing: %v", err)
		}
		if e := mustLoad(t, s, "o/a", "u"); e.Version != 0 {
			t.Fatalf("deleting a user never written changed its version to %d", e.Version)
		}
		if err := s.Commit("o/a", "u", Write{Version: 0, Attrs: map[string]string{"k": "v"}, Size: 9, AppQuota: 100}); err != nil {
			t.Fatal(err)
		}
		e := mustLoad(t, s, "o/a", "u")
		if e.Version != 1 || e.Size != 9 || e.Attrs["k"] != "v" {
			t.Fatalf("after the first commit: %+v", e)
		}
		e.Attrs["k"] = "changed by the caller"
		if mustLoad(t, s, "o/a", "u").Attrs["k"] != "v" {
			t.Fatal("a loaded map aliases the stored one")
		}
		if err := s.Commit("o/a", "u", Write{Version: 0, Attrs: map[string]string{"x": "y"}, Size: 9, AppQuota: 100}); !errors.Is(err, ErrConflict) {
			t.Fatalf("a stale version: %v, want ErrConflict", err)
		}
		if err := s.Commit("o/a", "v", Write{Version: 0, Attrs: map[string]string{"big": "y"}, Size: 92, AppQuota: 100}); !errors.Is(err, ErrQuota) {
			t.Fatalf("over the app quota: %v, want ErrQuota", err)
		}
		if e := mustLoad(t, s, "o/a", "v"); e.Version != 0 || len(e.Attrs) != 0 {
			t.Fatalf("a refused write left %+v", e)
		}
		if n := mustUsage(t, s, "o/a"); n != 9 {
			t.Fatalf("usage %d, want 9", n)
		}
		// Shrinking is allowed even over the quota (the quota may have been lowered).
		if err := s.Commit("o/a", "u", Write{Version: 1, Attrs: map[string]string{"k": ""}, Size: 8, AppQuota: 1}); err != nil {
			t.Fatalf("a shrinking write over the quota: %v", err)
		}
		if err := s.Commit("o/b", "u", Write{Version: 0, Attrs: map[string]string{"z": "1"}, Size: 9, AppQuota: 100}); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete("o/a", "u"); err != nil {
			t.Fatal(err)
		}
		if e := mustLoad(t, s, "o/a", "u"); e.Version != 3 || len(e.Attrs) != 0 || e.Size != 0 {
			t.Fatalf("after delete: %+v, want version 3 and nothing else", e)
		}
		if err := s.Commit("o/a", "u", Write{Version: 2, Attrs: map[string]string{"late": "1"}, Size: 12, AppQuota: 100}); !errors.Is(err, ErrConflict) {
			t.Fatalf("a write that read before the delete: %v, want ErrConflict", err)
		}
		if a, b := mustUsage(t, s, "o/a"), mustUsage(t, s, "o/b"); a != 0 || b != 9 {
			t.Fatalf("usage o/a=%d o/b=%d, want 0 and 9 (apps are separate)", a, b)
		}
	})
}

// TestStoreCompareAndSwap races writers on one user: exactly the commits
// that returned nil are in the final state, and the version counts them.
func TestStoreCompareAndSwap(t *testing.T) {
	stores(t, func(t *testing.T, s Store) {
		const writers, rounds = 4, 25
		var mu sync.Mutex
		acked := map[string]bool{}
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for r := range rounds {
					e, err := s.Load("o/a", "u")
					if err != nil {
						t.Error(err)
						return
					}
					key := string(rune('a'+w)) + strings.Repeat("x", r%3) + string(rune('0'+r%10)) + string(rune('A'+r/10))
					next := maps.Clone(e.Attrs)
					next[key] = "1"
					switch err := s.Commit("o/a", "u", Write{Version: e.Version, Attrs: next, Size: int64(len(next)), AppQuota: 1 << 20}); {
					case err == nil:
						mu.Lock()
						acked[key] = true
						mu.Unlock()
					case !errors.Is(err, ErrConflict):
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		e := mustLoad(t, s, "o/a", "u")
		if int(e.Version) != len(acked) {
			t.Errorf("version %d after %d acknowledged commits", e.Version, len(acked))
		}
		for k := range acked {
			if e.Attrs[k] != "1" {
				t.Errorf("acknowledged key %q lost", k)
			}
		}
		if len(e.Attrs) != len(acked) {
			t.Errorf("%d keys stored, %d acknowledged: a refused commit leaked", len(e.Attrs), len(acked))
		}
	})
}

func TestBoltSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	b, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Commit("o/a", "u", Write{Attrs: map[string]string{"k": "v"}, Size: 9, AppQuota: 100}); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit("o/a", "u", Write{Version: 1, Attrs: map[string]string{"k": "w"}, Size: 9, AppQuota: 100}); err != nil {
		t.Fatal(err)
	}
	if err := b.AddAccounts("o/a", []Account{{Name: "zed", Salt: []byte{1}, Hash: []byte{2}, Created: 42}}); err != nil {
		t.Fatal(err)
	}
	if err := b.AddToken(Token{Token: "YWMt-secret", App: "o/a", User: "zed", Expires: 7}); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b, err = OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if e := mustLoad(t, b, "o/a", "u"); e.Version != 2 || e.Attrs["k"] != "w" || e.Size != 9 {
		t.Fatalf("after reopening: %+v", e)
	}
	if n := mustUsage(t, b, "o/a"); n != 9 {
		t.Fatalf("usage after reopening: %d", n)
	}
	accounts, err := b.LoadAccounts("o/a")
	if err != nil || len(accounts) != 1 || accounts[0].Name != "zed" || accounts[0].Created != 42 {
		t.Fatalf("accounts after reopening: %+v, %v", accounts, err)
	}
	tokens, err := b.LoadTokens()
	if err != nil || len(tokens) != 1 || tokens[0] != (Token{Token: "YWMt-secret", App: "o/a", User: "zed", Expires: 7}) {
		t.Fatalf("tokens after reopening: %+v, %v", tokens, err)
	}
}

func TestBoltRefusesAFileInUse(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the lock timeout")
	}
	path := filepath.Join(t.TempDir(), "db")
	b, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	start := time.Now()
	if _, err := OpenBolt(path); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("opening a file in use: %v, want an error saying so", err)
	}
	if time.Since(start) > 30*time.Second {
		t.Fatal("the second open blocked instead of failing")
	}
}

func TestBoltRefusesAnotherFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "not-a-db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a bolt file\n", 512)), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := OpenBolt(path); err == nil {
		b.Close()
		t.Fatal("a file that is not a bolt database opened")
	}
}
