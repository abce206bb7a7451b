package refcontainer_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"

	attrconform "github.com/attrconform/attrconform"
	"github.com/attrconform/attrconform/refcontainer"
)

// envLeaveBehind, set to an image tag, makes the test binary a run that
// starts a reference container of it and is killed before it can
// terminate it (see TestMain).
const envLeaveBehind = "REFCONTAINER_TEST_LEAVE_BEHIND"

func TestMain(m *testing.M) {
	refcontainer.ApplyLocalDefaults()
	if img := os.Getenv(envLeaveBehind); img != "" {
		leaveContainerBehind(img)
		return
	}
	os.Exit(m.Run())
}

// leaveContainerBehind starts a container of img, prints its ID and kills
// itself.
func leaveContainerBehind(img string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := refcontainer.Run(ctx, img)
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println("CONTAINER", c.GetContainerID())
	os.Stdout.Sync()
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

var docker struct {
	once sync.Once
	err  error
}

// requireDocker skips the test when no Docker engine answers.
func requireDocker(t *testing.T) {
	t.Helper()
	docker.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		docker.err = refcontainer.Available(ctx)
	})
	if docker.err != nil {
		t.Skipf("skipping: the reference container tests need a Docker engine (%v); start one with .ci/docker.sh", docker.err)
	}
}

var built struct {
	once sync.Once
	tag  string
	err  error
}

// image builds the reference image once for the test binary.
func image(t *testing.T) string {
	t.Helper()
	built.once.Do(func() { // may compile the server from scratch on a cold cache
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		built.tag, built.err = refcontainer.Build(ctx)
	})
	if built.err != nil {
		t.Fatalf("Build: %v", built.err)
	}
	return built.tag
}

// run starts a container of the built image with the test's logger and
// opts, and terminates it at the end of the test.
func run(t *testing.T, opts ...testcontainers.ContainerCustomizer) *refcontainer.Container {
	t.Helper()
	img := image(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	c, err := refcontainer.Run(ctx, img, append([]testcontainers.ContainerCustomizer{testcontainers.WithLogger(tclog.TestLogger(t))}, opts...)...)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("container %.12s ready at %s in %v", c.GetContainerID(), c.URL(), time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := testcontainers.TerminateContainer(c); err != nil {
			t.Errorf("Terminate: %v", err)
		}
	})
	return c
}

func dockerClient(t *testing.T) *testcontainers.DockerClient {
	t.Helper()
	cli, err := testcontainers.NewDockerClientWithOpts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRunServesTheBundledFixture(t *testing.T) {
	requireDocker(t)
	ctx := context.Background()
	// A testcontainers-go customizer mixes with the module's own.
	c := run(t, testcontainers.WithLabels(map[string]string{"example.caller": "yes"}))

	if !strings.HasPrefix(c.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %s is not on 127.0.0.1", c.URL())
	}
	tgt := c.Target()
	if tgt.BaseURL != c.URL() || tgt.Org != "acme" || tgt.App.Name != "chat" {
		t.Fatalf("Target: base %s org %s app %s", tgt.BaseURL, tgt.Org, tgt.App.Name)
	}
	capacity := c.URL() + "/acme/chat/metadata/user/capacity"
	if status, body := call(t, http.MethodGet, capacity, tgt.AdminToken, ""); status != http.StatusOK {
		t.Errorf("GET capacity with the admin token: %d %s", status, body)
	}
	if status, _ := call(t, http.MethodGet, capacity, "", ""); status != http.StatusUnauthorized {
		t.Errorf("GET capacity without a token: %d, want 401", status)
	}

	host, err := c.Host(ctx)
	if err != nil || !refcontainer.IsLoopbackHost(host) {
		t.Errorf("resolved host %q (%v) is not loopback", host, err)
	}
	info, err := c.Inspect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Labels[refcontainer.Label] != "true" || info.Config.Labels["example.caller"] != "yes" {
		t.Errorf("container labels %v lack %s=true or the caller's example.caller=yes", info.Config.Labels, refcontainer.Label)
	}
	if len(info.NetworkSettings.Ports) == 0 {
		t.Error("no published ports")
	}
	for port, bindings := range info.NetworkSettings.Ports {
		if len(bindings) == 0 {
			t.Errorf("port %s not published", port)
		}
		for _, b := range bindings {
			if b.HostIP != netip.MustParseAddr("127.0.0.1") {
				t.Errorf("port %s published on %v, want 127.0.0.1", port, b.HostIP)
			}
		}
	}
	tag := image(t)
	img, err := dockerClient(t).ImageInspect(ctx, tag)
	if err != nil || img.Config == nil || img.Config.Labels[refcontainer.Label] != "true" {
		t.Errorf("image %s lacks the label %s=true (%v)", tag, refcontainer.Label, err)
	} else if sum := img.Config.Labels["attrconform.reference.binary"]; tag != refcontainer.ImageRepo+":"+sum[:min(12, len(sum))] {
		t.Errorf("image %s holds the server binary %q: the tag does not name it", tag, sum)
	}

	id := c.GetContainerID()
	if err := c.Terminate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := dockerClient(t).ContainerInspect(ctx, id, client.ContainerInspectOptions{}); !errdefs.IsNotFound(err) {
		t.Errorf("container %.12s still there after Terminate (inspect: %v)", id, err)
	}
	if err := testcontainers.TerminateContainer(c); err != nil {
		t.Errorf("second Terminate: %v", err)
	}
}

func TestRunWithFixtureProfileAndLimits(t *testing.T) {
	requireDocker(t)
	fixture := filepath.Join(t.TempDir(), "beta.yaml")
	src := strings.Replace(string(attrconform.ReferenceTarget), "org: acme", "org: beta", 1)
	if err := os.WriteFile(fixture, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	c := run(t, refcontainer.WithFixture(fixture), refcontainer.WithProfile("legacy"), refcontainer.WithLimits(0, 0, 10))

	tgt := c.Target()
	if tgt.Org != "beta" || tgt.Profile != "legacy" || tgt.Limits.BatchTargets != 10 || tgt.Limits.UserBytes != 2048 {
		t.Errorf("Target: org %s profile %s limits %+v", tgt.Org, tgt.Profile, tgt.Limits)
	}
	if status, body := call(t, http.MethodGet, c.URL()+"/beta/chat/metadata/user/capacity", tgt.AdminToken, ""); status != http.StatusOK {
		t.Errorf("the container does not serve the fixture's org: %d %s", status, body)
	}
	if status, _ := call(t, http.MethodGet, c.URL()+"/acme/chat/metadata/user/capacity", tgt.AdminToken, ""); status == http.StatusOK {
		t.Error("the container still serves the bundled org acme")
	}
	batch := func(n int) (int, string) {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf(`"u%d"`, i)
		}
		return call(t, http.MethodPost, c.URL()+"/beta/chat/metadata/user/get", tgt.AdminToken,
			`{"targets":[`+strings.Join(names, ",")+`],"properties":["a"]}`)
	}
	if status, body := batch(10); status != http.StatusOK {
		t.Errorf("batch of 10 targets (limit 10): %d %s", status, body)
	}
	if status, body := batch(11); status < 400 || status > 499 {
		t.Errorf("batch of 11 targets (limit 10): %d %s, want a refusal", status, body)
	}
}

// Build finds the image up to date the second time, and Run starts
// nothing but an image the engine has: it never pulls.
func TestBuildThenRunNeverPulls(t *testing.T) {
	requireDocker(t)
	img := image(t)
	if again, err := refcontainer.Build(context.Background()); err != nil || again != img {
		t.Errorf("second Build: %s, %v", again, err)
	}

	start := time.Now()
	_, err := refcontainer.Run(context.Background(), refcontainer.ImageRepo+":no-such-tag")
	if err == nil || !strings.Contains(err.Error(), "never pulled") {
		t.Errorf("missing image: err = %v, want a refusal that says images are never pulled", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("missing image took %v to refuse", d)
	}
}

// A caller's customizer that publishes the port on every interface, or
// exposes another, is overridden: everything is published on 127.0.0.1.
func TestCallersCustomizersPublishOnLoopbackOnly(t *testing.T) {
	requireDocker(t)
	c := run(t,
		testcontainers.WithExposedPorts("9090/tcp"),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{network.MustParsePort("8080/tcp"): {{HostIP: netip.MustParseAddr("0.0.0.0")}}}
		}))
	info, err := c.Inspect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(info.NetworkSettings.Ports) != 2 {
		t.Errorf("published ports %v, want 8080 and 9090", info.NetworkSettings.Ports)
	}
	for port, bindings := range info.NetworkSettings.Ports {
		for _, b := range bindings {
			if b.HostIP != netip.MustParseAddr("127.0.0.1") {
				t.Errorf("port %s published on %v, want 127.0.0.1", port, b.HostIP)
			}
		}
	}
}

// ownContainers counts this process's reference containers.
func ownContainers(t *testing.T) int {
	t.Helper()
	list, err := dockerClient(t).ContainerList(context.Background(), client.ContainerListOptions{
		All: true, Filters: client.Filters{}.Add("label", refcontainer.Label+"=true"),
	})
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	n := 0
	for _, s := range list.Items {
		if s.Labels["attrconform.reference.owner"] == fmt.Sprintf("%s:%d", host, os.Getpid()) {
			n++
		}
	}
	return n
}

// A host that is not loopback is refused before anything is started.
func TestRunRefusesHostThatIsNotLoopback(t *testing.T) {
	requireDocker(t)
	img := image(t)
	t.Setenv(refcontainer.EnvHostOverride, "192.0.2.1") // TEST-NET-1: never dialled
	before := ownContainers(t)
	_, err := refcontainer.Run(context.Background(), img)
	if err == nil || !strings.Contains(err.Error(), "not loopback") {
		t.Fatalf("Run with host 192.0.2.1: err = %v, want a refusal", err)
	}
	if after := ownContainers(t); after != before {
		t.Errorf("%d reference containers of this process after the refusal, %d before", after, before)
	}
}

// A run killed before it terminated its container leaves it running;
// RemoveLeftovers removes it, and leaves the containers of live runs alone.
func TestRemoveLeftovers(t *testing.T) {
	requireDocker(t)
	ctx := context.Background()
	live := run(t)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envLeaveBehind+"="+image(t))
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var id string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "CONTAINER" {
			id = f[1]
		} else {
			t.Log("killed run:", sc.Text())
		}
	}
	err := cmd.Wait()
	if id == "" {
		t.Fatalf("the killed run started no container (%v)", err)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Errorf("the run was not killed: %v", err)
	}
	cli := dockerClient(t)
	info, err := cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil || info.Container.State == nil || !info.Container.State.Running {
		t.Fatalf("the killed run's container %.12s is not running: %v", id, err)
	}

	n, err := refcontainer.RemoveLeftovers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n < 1 {
		t.Errorf("RemoveLeftovers removed %d containers, want at least the killed run's", n)
	}
	if _, err := cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{}); !errdefs.IsNotFound(err) {
		t.Errorf("the killed run's container %.12s is still there (%v)", id, err)
	}
	if info, err := cli.ContainerInspect(ctx, live.GetContainerID(), client.ContainerInspectOptions{}); err != nil || !info.Container.State.Running {
		t.Errorf("RemoveLeftovers removed the container of this live run (%v)", err)
	}
}
