package cluster

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attrconform/attrconform/internal/etcdtest"
	"github.com/attrconform/attrconform/reference"
)

// Three reference nodes over one etcd cluster, written to through every
// node while the cluster loses a member, and then its quorum: every write
// a node acknowledged with 200 is read back from every node once the
// members are back. Refusals on the way (409 between writers of one user,
// 429 for rate, 503 without a quorum) are allowed; nothing else is.
func TestClusterKeepsEveryAcknowledgedWrite(t *testing.T) {
	c := etcdtest.New(t, etcdtest.Options{})
	tg, err := reference.BundledTarget()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := Start(tg, Options{Nodes: 3, Endpoints: c.Endpoints(), Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(method, base, user, body string) (int, map[string]string, error) {
		req, _ := http.NewRequest(method, base+"/"+tg.Org+"/"+tg.App.Name+"/metadata/user/"+user, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tg.AdminToken)
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var env struct {
			Data map[string]string `json:"data"`
		}
		json.Unmarshal(raw, &env)
		return resp.StatusCode, env.Data, nil
	}
	users := []string{"alice", "bob", "carol"}
	var mu sync.Mutex
	acked := map[string][]string{} // user -> keys acknowledged
	statuses := map[int]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 6 {
		base, user := cl.URLs[w%3], users[w%len(users)]
		wg.Go(func() {
			for n := 0; n < 400; n++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d_%d", w, n)
				status, _, err := send(http.MethodPut, base, user, key+"=1")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				statuses[status]++
				if status == http.StatusOK {
					acked[user] = append(acked[user], key)
				}
				mu.Unlock()
				switch status {
				case http.StatusOK, http.StatusConflict, http.StatusTooManyRequests, http.StatusServiceUnavailable:
				default:
					t.Errorf("PUT %s on %s: %d", key, base, status)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	time.Sleep(400 * time.Millisecond)
	leader := max(c.Leader(), 0)
	c.Stop(leader) // one member lost: the others elect a leader and go on
	time.Sleep(600 * time.Millisecond)
	c.Stop((leader + 1) % 3) // the quorum lost: writes answer 503
	time.Sleep(1200 * time.Millisecond)
	close(stop)
	wg.Wait()
	for i := range 3 {
		if err := c.Restart(i); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("statuses %v", statuses)
	if statuses[http.StatusOK] == 0 || statuses[http.StatusServiceUnavailable] == 0 {
		t.Fatalf("want writes acknowledged before the quorum was lost and 503s after: %v", statuses)
	}
	for _, base := range cl.URLs {
		for _, user := range users {
			status, got, err := send(http.MethodGet, base, user, "")
			if err != nil || status != http.StatusOK {
				t.Fatalf("GET %s on %s: %d %v", user, base, status, err)
			}
			for _, key := range acked[user] {
				if got[key] != "1" {
					t.Errorf("%s on %s: %s was acknowledged with 200 but is gone", user, base, key)
				}
			}
		}
	}
}
