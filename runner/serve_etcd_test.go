package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/attrconform/attrconform/bundled"
)

// startServeEtcd starts `runner serve --store etcd` and returns its base URL.
func startServeEtcd(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(runnerBin, append([]string{"serve", "--listen", "127.0.0.1:0", "--store", "etcd"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	lines := bufio.NewScanner(out)
	found := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if l := lines.Text(); strings.HasPrefix(l, "http://") {
				found <- l
			}
		}
	}()
	select {
	case url := <-found:
		return url
	case <-time.After(20 * time.Second):
		t.Fatal("runner serve --store etcd printed no URL")
		return ""
	}
}

// Three `runner serve --store etcd` processes over one cluster are one
// server: a write through one is read through the others. Another prefix
// is another tenant. Wrong flags are configuration errors (exit 2).
func TestServeOnEtcd(t *testing.T) {
	t.Parallel()
	endpoints := strings.Join(clusterEtcd(t).Endpoints(), ",")
	prefix := "/serve-test-" + time.Now().Format("150405.000000") + "/"
	var nodes []string
	for range 3 {
		nodes = append(nodes, startServeEtcd(t, "--etcd-endpoints", endpoints, "--etcd-prefix", prefix))
	}
	other := startServeEtcd(t, "--etcd-endpoints", endpoints, "--etcd-prefix", prefix+"other/")
	tg, _ := bundled.Target()
	call := func(method, base, body string) string {
		req, _ := http.NewRequest(method, base+"/acme/chat/metadata/user/alice", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tg.AdminToken)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := call(http.MethodPut, nodes[0], "nickname=through-node-0"); !strings.Contains(got, "through-node-0") {
		t.Fatalf("PUT on node 0: %s", got)
	}
	for _, n := range nodes[1:] {
		if got := call(http.MethodGet, n, ""); !strings.Contains(got, "through-node-0") {
			t.Errorf("GET on %s: %s, want the write made through node 0", n, got)
		}
	}
	if got := call(http.MethodGet, other, ""); strings.Contains(got, "through-node-0") {
		t.Errorf("another prefix reads %s", got)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--store", "etcd"}, "--store etcd needs --etcd-endpoints"},
		{[]string{"serve", "--etcd-endpoints", endpoints}, "--etcd-endpoints applies to --store etcd"},
		{[]string{"serve", "--store", "etcd", "--etcd-endpoints", "127.0.0.1:2379"}, `"127.0.0.1:2379" is not an etcd client URL`},
		{[]string{"serve", "--store", "etcd", "--etcd-endpoints", endpoints, "--data", "x.db"}, "--data is the file of --store bolt"},
		{[]string{"serve", "--store", "etcd", "--etcd-endpoints", "http://127.0.0.1:1", "--etcd-timeout", "300ms"}, "no etcd member at http://127.0.0.1:1 answered"},
	} {
		res := runRunner(t, c.args...)
		if res.code != 2 || !strings.Contains(res.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, res.code, res.stderr, c.want)
		}
	}
}

// Preflight checks every node: a target listing a node that does not
// answer stops before any spec, naming the node.
func TestPreflightChecksEveryNode(t *testing.T) {
	t.Parallel()
	tg, err := bundled.Target()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := bundled.Start(tg, bundled.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tg.BaseURL = ""
	tg.Nodes = []string{srv.URL, "http://127.0.0.1:1"}
	data, _ := yaml.Marshal(tg)
	file := filepath.Join(t.TempDir(), "target.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	res := runRunner(t, "--target", file)
	if res.code != 2 || !strings.Contains(res.stderr, "preflight: nodes[1] http://127.0.0.1:1 does not answer") {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
}
