package main

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attrconform/attrconform/internal/etcdtest"
	"github.com/attrconform/attrconform/reference"
)

var referenceBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "reference-test")
	if err != nil {
		panic(err)
	}
	referenceBin = filepath.Join(dir, "reference")
	if out, err := exec.Command("go", "build", "-o", referenceBin, ".").CombinedOutput(); err != nil {
		panic("building the reference: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runReference runs the reference to its end and returns its exit status
// and standard error.
func runReference(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(referenceBin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}

// startServeEtcd starts the reference with --store etcd and returns its
// base URL.
func startServeEtcd(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(referenceBin, append([]string{"--listen", "127.0.0.1:0", "--store", "etcd"}, args...)...)
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
		t.Fatal("the reference with --store etcd printed no URL")
		return ""
	}
}

// Three reference processes with --store etcd over one cluster are one
// server: a write through one is read through the others. Another prefix
// is another tenant. Wrong flags are configuration errors (exit 2).
func TestServeOnEtcd(t *testing.T) {
	cluster, err := etcdtest.Start(etcdtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	endpoints := strings.Join(cluster.Endpoints(), ",")
	prefix := "/serve-test-" + time.Now().Format("150405.000000") + "/"
	var nodes []string
	for range 3 {
		nodes = append(nodes, startServeEtcd(t, "--etcd-endpoints", endpoints, "--etcd-prefix", prefix))
	}
	other := startServeEtcd(t, "--etcd-endpoints", endpoints, "--etcd-prefix", prefix+"other/")
	tg, _ := reference.BundledTarget()
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
		{[]string{"--store", "etcd"}, "--store etcd needs --etcd-endpoints"},
		{[]string{"--etcd-endpoints", endpoints}, "--etcd-endpoints applies to --store etcd"},
		{[]string{"--store", "etcd", "--etcd-endpoints", "127.0.0.1:2379"}, `"127.0.0.1:2379" is not an etcd client URL`},
		{[]string{"--store", "etcd", "--etcd-endpoints", endpoints, "--data", "x.db"}, "--data is the file of --store bolt"},
		{[]string{"--store", "etcd", "--etcd-endpoints", "http://127.0.0.1:1", "--etcd-timeout", "300ms"}, "no etcd member at http://127.0.0.1:1 answered"},
	} {
		if code, stderr := runReference(t, c.args...); code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}
