package main

import (
	"bufio"
	"context"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/attrconform/attrconform/refcontainer"
)

func requireDocker(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := refcontainer.Available(ctx); err != nil {
		t.Skipf("skipping: needs a Docker engine (%v); start one with .ci/docker.sh", err)
	}
}

func containerExists(t *testing.T, id string) bool {
	out, err := exec.Command("docker", "ps", "-aq", "--no-trunc", "--filter", "id="+id).Output()
	if err != nil {
		t.Fatalf("docker ps: %v", err)
	}
	return strings.TrimSpace(string(out)) != ""
}

var started = regexp.MustCompile(`reference: container ([0-9a-f]{12}) started`)

// The suite passes against the reference in a container, which is removed
// at the end of the run.
func TestSuitePassesAgainstTheReferenceContainer(t *testing.T) {
	requireDocker(t)
	res := runRunner(t, "--reference", "container")
	m := started.FindStringSubmatch(res.stdout)
	if res.code != 0 || m == nil || !strings.Contains(res.stdout, "reference: container "+m[1]+" removed") {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if containerExists(t, m[1]) {
		t.Fatalf("container %s is still there after the run", m[1])
	}
}

// Ctrl-C in the middle of a run removes the container too.
func TestInterruptedRunRemovesItsContainer(t *testing.T) {
	requireDocker(t)
	cmd := exec.Command(runnerBin, "--reference", "container", "--label-filter", "race || ratelimit")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	id := ""
	scanner := bufio.NewScanner(stdout)
	for scanner.Scan() {
		if m := started.FindStringSubmatch(scanner.Text()); m != nil {
			id = m[1]
			break
		}
	}
	if id == "" {
		cmd.Process.Kill()
		t.Fatal("the runner never reported its container")
	}
	cmd.Process.Signal(syscall.SIGINT)
	go func() {
		for scanner.Scan() {
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the runner did not stop within 60s of Ctrl-C")
	}
	if containerExists(t, id) {
		t.Fatalf("container %s survived the interrupted run", id)
	}
}
