package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/internal/bundled/cluster"
	"github.com/attrconform/attrconform/internal/etcdtest"
	"github.com/attrconform/attrconform/internal/mutant"
	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/report"
)

// The suite against a deployment of several nodes: reference servers in
// this process, each with its own handler and store client, over one etcd
// cluster started in this process with etcd's own server (embed), all on
// 127.0.0.1. The runner runs as a subprocess with a target file that lists
// every node.

var (
	sharedEtcd     *etcdtest.Cluster
	sharedEtcdErr  error
	sharedEtcdOnce sync.Once
)

// clusterEtcd is the etcd cluster the tests that lose no member share;
// each deployment on it has a prefix of its own.
func clusterEtcd(t *testing.T) *etcdtest.Cluster {
	t.Helper()
	sharedEtcdOnce.Do(func() { sharedEtcd, sharedEtcdErr = etcdtest.Start(etcdtest.Options{}) })
	if sharedEtcdErr != nil {
		t.Fatal(sharedEtcdErr)
	}
	return sharedEtcd
}

func closeClusterEtcd() {
	if sharedEtcd != nil {
		sharedEtcd.Close()
	}
}

// startCluster serves the bundled tenant on n nodes over etcd and writes
// a target file that lists them.
func startCluster(t *testing.T, endpoints []string, o cluster.Options) string {
	t.Helper()
	tg, err := reference.BundledTarget()
	if err != nil {
		t.Fatal(err)
	}
	o.Endpoints = endpoints
	c, err := cluster.Start(tg, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	data, err := yaml.Marshal(c.Target(tg))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// needNodes counts the specs of a run that skipped because the target
// lists one node.
// expectedSkips counts the skips a faithful run may have: specs needing
// several nodes, on one, and what a loaded machine could not provoke
// (NOT OBSERVED: a pace it could not keep), which it logs.
func expectedSkips(t *testing.T, path string, nodes bool) int {
	t.Helper()
	n := 0
	for _, sp := range readSummary(t, path).Specs {
		switch {
		case sp.Verdict != report.Skip:
		case nodes && strings.Contains(sp.Reason, "needs a target of at least 2 nodes"):
			n++
		case strings.HasPrefix(sp.Reason, framework.NotObservedPrefix):
			t.Logf("%s: %s", sp.Name, sp.Reason)
			n++
		}
	}
	return n
}

// The whole suite passes against three faithful nodes, with nothing
// skipped: the specs of several nodes run, and the race specs spread
// their writers over the nodes.
func TestSuiteAgainstThreeNodes(t *testing.T) {
	t.Parallel()
	file := startCluster(t, clusterEtcd(t).Endpoints(), cluster.Options{Nodes: 3})
	dir := t.TempDir()
	start := time.Now()
	res := runRunner(t, "--target", file, "--report-dir", dir)
	t.Logf("the suite against three nodes over etcd took %s", time.Since(start).Round(100*time.Millisecond))
	m := closing.FindStringSubmatch(lastLine(res.stdout))
	if res.code != 0 || m == nil || m[2] != "0" || m[3] != fmt.Sprint(expectedSkips(t, filepath.Join(dir, "requirements.json"), false)) {
		t.Fatalf("exit %d, last line %q: want every spec passed, none skipped but what could not be observed\n%s%s", res.code, lastLine(res.stdout), res.stdout, res.stderr)
	}
	s := readSummary(t, filepath.Join(dir, "requirements.json"))
	var staleness []string
	for _, sp := range s.Specs {
		for _, n := range sp.Notes {
			if strings.HasPrefix(n, "staleness: ") {
				staleness = append(staleness, n)
			}
		}
	}
	if len(staleness) < 3 {
		t.Errorf("want a staleness note from the race spec and both specs of several nodes, got %v", staleness)
	}
	t.Logf("%s", strings.Join(staleness, "\n"))
}

// Each mutant of a deployment of several nodes is killed by a spec of a
// requirement it breaks when the suite judges three nodes, and survives
// the same specs against one node over the same store.
func TestClusterMutantsKilledOnThreeNodesSurviveOne(t *testing.T) {
	names := mutant.ClusterNames()
	if len(names) < 3 {
		t.Fatalf("cluster mutants %v, want at least node-lock, node-read-cache and node-capacity", names)
	}
	endpoints := clusterEtcd(t).Endpoints()
	for _, name := range names {
		m, _ := mutant.Lookup(name)
		defect, err := mutant.Defect(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, nodes := range []int{3, 1} {
			t.Run(name+"/"+map[int]string{3: "three nodes", 1: "one node"}[nodes], func(t *testing.T) {
				t.Parallel()
				file := startCluster(t, endpoints, cluster.Options{Nodes: nodes, Defect: defect})
				dir := t.TempDir()
				res := runRunner(t, "--target", file, "--label-filter", "race || cluster || capacity", "--report-dir", dir)
				failed := failedRequirements(t, filepath.Join(dir, "requirements.json"))
				if nodes == 1 {
					if res.code != 0 || len(failed) > 0 {
						t.Fatalf("one node: exit %d, failed %v; a single server with %s conforms\n%s", res.code, failed, name, res.stdout)
					}
					return
				}
				if res.code != 1 || !slices.ContainsFunc(m.Breaks, func(id string) bool { return slices.Contains(failed, id) }) {
					t.Fatalf("three nodes: exit %d, failed %v: want a FAIL of one of %v\n%s", res.code, failed, m.Breaks, res.stdout)
				}
				t.Logf("killed on three nodes: FAIL %v", failed)
			})
		}
	}
}

// runUntil runs the runner and calls act once, when a line of its output
// contains marker; it returns what the run printed and its exit status.
func runUntil(t *testing.T, marker string, act func(), args ...string) runResult {
	t.Helper()
	cmd := exec.Command(runnerBin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	acted := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		stdout.WriteString(sc.Text() + "\n")
		if !acted && strings.Contains(sc.Text(), marker) {
			acted = true
			act()
		}
	}
	err = cmd.Wait()
	res := runResult{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	if !acted {
		t.Fatalf("the run never printed %q\n%s%s", marker, res.stdout, res.stderr)
	}
	return res
}

// Losing one etcd member (the leader) in the middle of a run keeps the
// suite passing: the nodes' store retries, and answers 503 only if the
// cluster stays without a leader past its timeout.
func TestSuiteKeepsPassingWhenAMemberIsLost(t *testing.T) {
	t.Parallel()
	c := etcdtest.New(t, etcdtest.Options{})
	file := startCluster(t, c.Endpoints(), cluster.Options{Nodes: 3})
	stopped := -1
	res := runUntil(t, "progress: ", func() {
		stopped = max(c.Leader(), 0)
		c.Stop(stopped)
	}, "--target", file, "--label-filter", "race || cluster || capacity || write || read || delete")
	m := closing.FindStringSubmatch(lastLine(res.stdout))
	if res.code != 0 || m == nil || m[2] != "0" {
		t.Fatalf("member %d stopped mid-run: exit %d, last line %q\n%s%s", stopped, res.code, lastLine(res.stdout), res.stdout, res.stderr)
	}
	t.Logf("member %d (the leader) stopped mid-run: %s", stopped, lastLine(res.stdout))
}

// Losing the quorum in the middle of a run turns the specs that run after
// it into ERRORs (the nodes answer 503, the client retries, then gives up:
// a harness error), never into FAILs, and the run exits 2.
func TestQuorumLossIsAnErrorNotAFailure(t *testing.T) {
	t.Parallel()
	c := etcdtest.New(t, etcdtest.Options{})
	file := startCluster(t, c.Endpoints(), cluster.Options{Nodes: 3, Timeout: 300 * time.Millisecond})
	dir := t.TempDir()
	res := runUntil(t, "progress: ", func() {
		c.Stop(1)
		c.Stop(2)
	}, "--target", file, "--label-filter", "UA-PUT-004 || UA-CAP-001 || ratelimit", "--report-dir", dir)
	if res.code != 2 {
		t.Fatalf("exit %d, want 2 (harness errors)\n%s%s", res.code, res.stdout, res.stderr)
	}
	s := readSummary(t, filepath.Join(dir, "requirements.json"))
	errored := 0
	for _, sp := range s.Specs {
		switch sp.Verdict {
		case report.Fail:
			t.Errorf("FAIL without a quorum: %s: %s", sp.Name, sp.Reason)
		case report.Error:
			errored++
		}
	}
	if errored == 0 {
		t.Errorf("no spec ended as ERROR after the quorum was lost\n%s", res.stdout)
	}
	t.Logf("%d specs ERROR, none FAIL; %s", errored, lastLine(res.stdout))
}

// A dry run of a target with nodes sends nothing to any node.
func TestDryRunSendsNothingToTheNodes(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	hits := 0
	count := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		w.WriteHeader(http.StatusTeapot)
	})
	a, b := httptest.NewServer(count), httptest.NewServer(count)
	defer a.Close()
	defer b.Close()
	tg, err := reference.BundledTarget()
	if err != nil {
		t.Fatal(err)
	}
	tg.Nodes = []string{a.URL, b.URL}
	data, _ := yaml.Marshal(tg)
	file := filepath.Join(t.TempDir(), "target.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	res := runRunner(t, "--target", file, "--dry-run", "--label-filter", "race || cluster")
	mu.Lock()
	defer mu.Unlock()
	if res.code != 0 || hits != 0 || !strings.Contains(res.stdout, "nothing was sent") {
		t.Fatalf("exit %d, %d requests reached the nodes\n%s%s", res.code, hits, res.stdout, res.stderr)
	}
}

// runner explore against three nodes over one etcd cluster, as a live
// target (--target with nodes:, --exclusive): the model agrees with every
// answer, and every concurrent history, its clients spread over the
// nodes, is linearizable.
func TestExploreAgreesWithThreeNodesOverEtcd(t *testing.T) {
	t.Parallel()
	c := etcdtest.New(t, etcdtest.Options{})
	file := startCluster(t, c.Endpoints(), cluster.Options{Nodes: 3})
	res := runRunner(t, "explore", "--target", file, "--exclusive", "--steps", "300", "--time", "30s", "--clients", "4", "--history-time", "5s")
	m := histories.FindStringSubmatch(res.stdout)
	if res.code != 0 || m == nil || m[1] == "0" || m[2] != "0" || m[3] != "0" {
		t.Fatalf("exit %d, histories %v: want exit 0 and every history linearizable\n%s\n%s", res.code, m, res.stdout, res.stderr)
	}
	t.Log(m[0])
}
