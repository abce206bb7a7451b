package store

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/attrconform/attrconform/internal/etcdtest"
)

// stores runs f against every Store: in memory, bolt and etcd (a
// three-member cluster in this process, a fresh prefix per test). They
// keep the same guarantees, so they pass the same table.
func stores(t *testing.T, f func(t *testing.T, s Store)) {
	t.Run("memory", func(t *testing.T) { f(t, NewMemory()) })
	t.Run("bolt", func(t *testing.T) {
		b, err := OpenBolt(filepath.Join(t.TempDir(), "db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		f(t, b)
	})
	t.Run("etcd", func(t *testing.T) { f(t, openTestEtcd(t)) })
}

var (
	sharedEtcd     *etcdtest.Cluster
	sharedEtcdErr  error
	sharedEtcdOnce sync.Once
	prefixes       atomic.Int64
)

// openTestEtcd opens an etcd store on the package's shared cluster under
// a prefix of its own.
func openTestEtcd(t *testing.T) *Etcd {
	t.Helper()
	sharedEtcdOnce.Do(func() { sharedEtcd, sharedEtcdErr = etcdtest.Start(etcdtest.Options{}) })
	if sharedEtcdErr != nil {
		t.Fatal(sharedEtcdErr)
	}
	s, err := OpenEtcd(EtcdOptions{Endpoints: sharedEtcd.Endpoints(), Prefix: fmt.Sprintf("/test-%d-%d/", os.Getpid(), prefixes.Add(1))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedEtcd != nil {
		sharedEtcd.Close()
	}
	os.Exit(code)
}
