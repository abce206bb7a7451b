package boltstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attrconform/attrconform/reference/store"
	"github.com/attrconform/attrconform/reference/store/storetest"
)

func TestBoltKeepsTheStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		b, err := Open(filepath.Join(t.TempDir(), "db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	})
}

func TestBoltSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Commit("o/a", "u", store.Write{Attrs: map[string]string{"k": "v"}, Size: 9, AppQuota: 100}); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit("o/a", "u", store.Write{Version: 1, Attrs: map[string]string{"k": "w"}, Size: 9, AppQuota: 100}); err != nil {
		t.Fatal(err)
	}
	if err := b.AddAccounts("o/a", []store.Account{{Name: "zed", Salt: []byte{1}, Hash: []byte{2}, Created: 42}}); err != nil {
		t.Fatal(err)
	}
	if err := b.AddToken(store.Token{Token: "YWMt-secret", App: "o/a", User: "zed", Expires: 7}); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if e := storetest.MustLoad(t, b, "o/a", "u"); e.Version != 2 || e.Attrs["k"] != "w" || e.Size != 9 {
		t.Fatalf("after reopening: %+v", e)
	}
	if n := storetest.MustUsage(t, b, "o/a"); n != 9 {
		t.Fatalf("usage after reopening: %d", n)
	}
	accounts, err := b.LoadAccounts("o/a")
	if err != nil || len(accounts) != 1 || accounts[0].Name != "zed" || accounts[0].Created != 42 {
		t.Fatalf("accounts after reopening: %+v, %v", accounts, err)
	}
	tokens, err := b.LoadTokens()
	if err != nil || len(tokens) != 1 || tokens[0] != (store.Token{Token: "YWMt-secret", App: "o/a", User: "zed", Expires: 7}) {
		t.Fatalf("tokens after reopening: %+v, %v", tokens, err)
	}
}

func TestBoltRefusesAFileInUse(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the lock timeout")
	}
	path := filepath.Join(t.TempDir(), "db")
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	start := time.Now()
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "in use") {
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
	if b, err := Open(path); err == nil {
		b.Close()
		t.Fatal("a file that is not a bolt database opened")
	}
}
