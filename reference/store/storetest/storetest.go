// Package storetest holds the guarantees every store.Store keeps, as a
// table that each store's tests run against it: the stores differ in
// where the data lives, never in what a caller can observe.
package storetest

import (
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/attrconform/attrconform/reference/store"
)

// Run runs the table against stores that open returns, a fresh (empty)
// one per test.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("contract", func(t *testing.T) { contract(t, open(t)) })
	t.Run("compare-and-swap", func(t *testing.T) { compareAndSwap(t, open(t)) })
}

// MustLoad loads a user or fails the test.
func MustLoad(t *testing.T, s store.Store, app, user string) store.Entry {
	t.Helper()
	e, err := s.Load(app, user)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// MustUsage reads an app's total or fails the test.
func MustUsage(t *testing.T, s store.Store, app string) int64 {
	t.Helper()
	n, err := s.Usage(app)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// contract: versions, deletes, quotas, copies, apps kept apart.
func contract(t *testing.T, s store.Store) {
	if e := MustLoad(t, s, "o/a", "u"); e.Version != 0 || e.Attrs == nil || len(e.Attrs) != 0 {
		t.Fatalf("a user never written: %+v, want version 0 and an empty map", e)
	}
	if err := s.Delete("o/a", "u"); err != nil {
		t.Fatalf("deleting nothing: %v", err)
	}
	if e := MustLoad(t, s, "o/a", "u"); e.Version != 0 {
		t.Fatalf("deleting a user never written changed its version to %d", e.Version)
	}
	if err := s.Commit("o/a", "u", store.Write{Version: 0, Attrs: map[string]string{"k": "v"}, Size: 9, AppQuota: 100}); err != nil {
		t.Fatal(err)
	}
	e := MustLoad(t, s, "o/a", "u")
	if e.Version != 1 || e.Size != 9 || e.Attrs["k"] != "v" {
		t.Fatalf("after the first commit: %+v", e)
	}
	e.Attrs["k"] = "changed by the caller"
	if MustLoad(t, s, "o/a", "u").Attrs["k"] != "v" {
		t.Fatal("a loaded map aliases the stored one")
	}
	if err := s.Commit("o/a", "u", store.Write{Version: 0, Attrs: map[string]string{"x": "y"}, Size: 9, AppQuota: 100}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a stale version: %v, want ErrConflict", err)
	}
	if err := s.Commit("o/a", "v", store.Write{Version: 0, Attrs: map[string]string{"big": "y"}, Size: 92, AppQuota: 100}); !errors.Is(err, store.ErrQuota) {
		t.Fatalf("over the app quota: %v, want ErrQuota", err)
	}
	if e := MustLoad(t, s, "o/a", "v"); e.Version != 0 || len(e.Attrs) != 0 {
		t.Fatalf("a refused write left %+v", e)
	}
	if n := MustUsage(t, s, "o/a"); n != 9 {
		t.Fatalf("usage %d, want 9", n)
	}
	// Shrinking is allowed even over the quota (the quota may have been lowered).
	if err := s.Commit("o/a", "u", store.Write{Version: 1, Attrs: map[string]string{"k": ""}, Size: 8, AppQuota: 1}); err != nil {
		t.Fatalf("a shrinking write over the quota: %v", err)
	}
	if err := s.Commit("o/b", "u", store.Write{Version: 0, Attrs: map[string]string{"z": "1"}, Size: 9, AppQuota: 100}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("o/a", "u"); err != nil {
		t.Fatal(err)
	}
	if e := MustLoad(t, s, "o/a", "u"); e.Version != 3 || len(e.Attrs) != 0 || e.Size != 0 {
		t.Fatalf("after delete: %+v, want version 3 and nothing else", e)
	}
	if err := s.Commit("o/a", "u", store.Write{Version: 2, Attrs: map[string]string{"late": "1"}, Size: 12, AppQuota: 100}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a write that read before the delete: %v, want ErrConflict", err)
	}
	if a, b := MustUsage(t, s, "o/a"), MustUsage(t, s, "o/b"); a != 0 || b != 9 {
		t.Fatalf("usage o/a=%d o/b=%d, want 0 and 9 (apps are separate)", a, b)
	}
}

// compareAndSwap races writers on one user: exactly the commits that
// returned nil are in the final state, and the version counts them.
func compareAndSwap(t *testing.T, s store.Store) {
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
	e := MustLoad(t, s, "o/a", "u")
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
}
