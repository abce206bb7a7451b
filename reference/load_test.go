package reference

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attrconform/attrconform/reference/store"
	"github.com/attrconform/attrconform/reference/store/boltstore"
)

// TestConcurrentWritersLoseNothing runs a bounded burst of concurrent
// PUTs on two users over loopback, with the default 10 ms race window so
// that writers really collide, against both stores. Every PUT adds its own
// key and overwrites a shared one. Afterwards each user must hold exactly
// the keys of the acknowledged (200) PUTs: none lost, none of a refused
// (409) PUT leaked; its version must count the acknowledged PUTs; and the
// capacity must be the sum of the users' sizes (UA-CONC-001, UA-CONC-003).
func TestConcurrentWritersLoseNothing(t *testing.T) {
	for _, kind := range []string{"memory", "bolt"} {
		t.Run(kind, func(t *testing.T) {
			var st store.Store = store.NewMemory()
			if kind == "bolt" {
				b, err := boltstore.Open(filepath.Join(t.TempDir(), "db"))
				if err != nil {
					t.Fatal(err)
				}
				st = b
			}
			s := newServer(t, func(c *Config) {
				c.Store = st
				c.RaceWindow = 0 // the default window
				c.Limits.RatePerSecond = 1e9
			})
			defer s.Close()
			srv := httptest.NewServer(s)
			defer srv.Close()
			runWriters(t, srv.URL, s, st)
		})
	}
}

func runWriters(t *testing.T, base string, s *Server, st store.Store) {
	const writers, putsEach = 8, 20
	users := []string{"alice", "bob"}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 10 * time.Second}

	type outcome struct {
		user, key string
		status    int
	}
	var mu sync.Mutex
	var outcomes []outcome
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range putsEach {
				if ctx.Err() != nil {
					return
				}
				user := users[(w+i)%len(users)]
				key := fmt.Sprintf("w%d-%d", w, i)
				req, _ := http.NewRequestWithContext(ctx, "PUT", base+"/acme/chat/metadata/user/"+user, strings.NewReader(key+"=1&last="+key))
				req.Header.Set("Authorization", "Bearer "+adminToken)
				req.Header.Set("Content-Type", form)
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("PUT %s: %v", key, err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				outcomes = append(outcomes, outcome{user, key, resp.StatusCode})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("the burst did not finish in time")
	}

	acked := map[string]map[string]bool{}
	refused := map[string]map[string]bool{}
	conflicts := 0
	for _, o := range outcomes {
		switch o.status {
		case http.StatusOK:
			if acked[o.user] == nil {
				acked[o.user] = map[string]bool{}
			}
			acked[o.user][o.key] = true
		case http.StatusConflict:
			conflicts++
			if refused[o.user] == nil {
				refused[o.user] = map[string]bool{}
			}
			refused[o.user][o.key] = true
		default:
			t.Errorf("PUT %s answered %d; only 200 and 409 are expected", o.key, o.status)
		}
	}
	t.Logf("%d PUTs: %d acknowledged, %d conflicts", len(outcomes), len(outcomes)-conflicts, conflicts)
	if conflicts == 0 {
		t.Error("no writer collided: the burst did not exercise the optimistic lock")
	}

	var sum int64
	for _, user := range users {
		req, _ := http.NewRequest("GET", base+"/acme/chat/metadata/user/"+user, nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var answer struct{ Data map[string]string }
		err = json.NewDecoder(resp.Body).Decode(&answer)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v", user, resp.StatusCode, err)
		}
		stored := answer.Data
		for key := range acked[user] {
			if stored[key] != "1" {
				t.Errorf("%s: the acknowledged write %s was lost", user, key)
			}
		}
		for key := range refused[user] {
			if _, leaked := stored[key]; leaked {
				t.Errorf("%s: the refused write %s leaked into the data", user, key)
			}
		}
		if !acked[user][stored["last"]] {
			t.Errorf("%s: last=%q is not the value of an acknowledged write", user, stored["last"])
		}
		if len(stored) != len(acked[user])+1 {
			t.Errorf("%s holds %d keys for %d acknowledged writes (+ last)", user, len(stored), len(acked[user]))
		}
		e, err := st.Load("acme/chat", user)
		if err != nil {
			t.Fatal(err)
		}
		if int(e.Version) != len(acked[user]) {
			t.Errorf("%s: version %d after %d acknowledged writes", user, e.Version, len(acked[user]))
		}
		size, _ := s.cfg.SizeMetric.Measure(stored)
		if size != e.Size {
			t.Errorf("%s: %d bytes stored, %d recorded", user, size, e.Size)
		}
		sum += size
	}
	if usage, err := st.Usage("acme/chat"); err != nil || usage != sum {
		t.Errorf("capacity %d (%v), the users hold %d", usage, err, sum)
	}
}
