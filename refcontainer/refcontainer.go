// Package refcontainer runs the bundled reference server in a Docker
// container with testcontainers-go, in the style of a testcontainers-go
// module:
//
//	c, err := refcontainer.Run(ctx, refcontainer.WithProfile("legacy"))
//	if err != nil { ... }
//	defer c.Terminate(context.Background())
//	tgt := c.Target() // the fixture tenant, BaseURL = c.URL()
//
// The image is built locally FROM scratch around the statically linked
// reference server (reference/cmd/reference) and nothing else; nothing is ever pulled, not even testcontainers'
// reaper (Ryuk), so every container must be terminated by its starter. A
// run that was killed leaves its container behind: RemoveLeftovers (and
// `go run ./tools/clean`) removes those.
//
// All traffic stays on loopback: the container port is published on
// 127.0.0.1 only, and Run refuses, before any connection to the container
// is made, when testcontainers-go would reach the container through a
// host that is not loopback.
package refcontainer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/wait"
	"sigs.k8s.io/yaml"

	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/target"
)

// The settings ApplyLocalDefaults gives testcontainers-go.
const (
	EnvRyukDisabled = "TESTCONTAINERS_RYUK_DISABLED"
	EnvHostOverride = "TESTCONTAINERS_HOST_OVERRIDE"
)

// fixturePath is where a fixture given with WithFixture or WithLimits is
// copied inside the container.
const fixturePath = "/fixture.yaml"

// StartupTimeout bounds how long Run waits for the reference to answer.
const StartupTimeout = 30 * time.Second

// ApplyLocalDefaults sets the two settings testcontainers-go needs on a
// machine whose Docker engine is local: TESTCONTAINERS_RYUK_DISABLED=true
// (the reaper image cannot be pulled; this package terminates its own
// containers) and TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 (otherwise, on a
// machine that looks like a container, testcontainers-go reaches published
// ports through the default gateway instead of loopback). It sets each
// only when the variable is not set at all, so a user's own value, even an
// empty one, is kept, and only when DOCKER_HOST is unset or a unix socket:
// a user with a remote engine needs neither. It returns the names it set.
//
// testcontainers-go reads its configuration once per process, so this must
// run before any other use of it; every entry point of this package calls
// it first.
func ApplyLocalDefaults() []string {
	quietOnce.Do(func() {
		if tclog.Default() == tcDefaultLogger {
			tclog.SetDefault(tclog.NewNoopLogger())
		}
	})
	if h := os.Getenv("DOCKER_HOST"); h != "" && !strings.HasPrefix(h, "unix://") {
		return nil
	}
	var set []string
	for _, kv := range [][2]string{{EnvRyukDisabled, "true"}, {EnvHostOverride, "127.0.0.1"}} {
		if _, ok := os.LookupEnv(kv[0]); !ok {
			os.Setenv(kv[0], kv[1])
			set = append(set, kv[0])
		}
	}
	return set
}

// testcontainers-go prints a banner through its package-level logger when
// it first connects to the engine. The runner's output is its own, so the
// first call of ApplyLocalDefaults discards those messages, unless the
// program installed a logger of its own before (tclog.SetDefault).
// Messages of Run go to WithLogger's logger either way.
var (
	tcDefaultLogger = tclog.Default()
	quietOnce       sync.Once
)

// IsLoopbackHost reports whether host names this machine's loopback:
// localhost, or an address in 127.0.0.0/8 or ::1.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && a.Unmap().IsLoopback()
}

// Available reports whether a Docker engine answers, within two seconds
// at most (sooner if ctx says so). The runner uses it to choose between
// the container and the in-process reference. A DOCKER_HOST that is set
// must answer itself: testcontainers-go would otherwise fall back to the
// default socket, an engine the user did not name.
func Available(ctx context.Context) error {
	ApplyLocalDefaults()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ping(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("no Docker engine answers: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("no Docker engine answers: %w", ctx.Err())
	}
}

func ping(ctx context.Context) error {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		cli, err := client.New(client.FromEnv)
		if err != nil {
			return fmt.Errorf("DOCKER_HOST=%s: %w", h, err)
		}
		defer cli.Close()
		if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
			return fmt.Errorf("DOCKER_HOST=%s: %w", h, err)
		}
	}
	p, err := testcontainers.NewDockerProvider(testcontainers.WithLogger(tclog.NewNoopLogger()))
	if err != nil {
		return err
	}
	defer p.Close()
	// Ping, not Info: testcontainers-go caches Info for the process.
	_, err = p.Client().Ping(ctx, client.PingOptions{})
	return err
}

// Container is a running reference container.
type Container struct {
	ctr     *testcontainers.DockerContainer
	url     string
	fixture []byte // the tenant it serves, in target-file form
	tgt     *target.Target
}

// Run builds the reference image if needed, starts a container from it and
// waits until the reference answers on its published loopback port.
func Run(ctx context.Context, opts ...Option) (*Container, error) {
	ApplyLocalDefaults()
	o := options{logger: tclog.NewNoopLogger()}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	tgt, fixture, err := o.tenant()
	if err != nil {
		return nil, err
	}

	if err := Available(ctx); err != nil {
		return nil, fmt.Errorf("reference container: %w", err)
	}
	p, err := testcontainers.NewDockerProvider(testcontainers.WithLogger(o.logger))
	if err != nil {
		return nil, fmt.Errorf("reference container: no Docker engine: %w", err)
	}
	defer p.Close()
	// Refuse before anything is built or started when testcontainers-go
	// would reach containers through a host that is not loopback.
	if precheckDaemonHost {
		host, err := p.DaemonHost(ctx)
		if err != nil {
			return nil, fmt.Errorf("reference container: resolving the host of published ports: %w", err)
		}
		if err := checkLoopback(host); err != nil {
			return nil, err
		}
	}

	image := o.image
	if image != "" {
		err = imagePresent(ctx, p, image)
	} else {
		image, err = ensureImage(ctx, p)
	}
	if err != nil {
		return nil, err
	}

	var cmd []string
	if o.fixture != "" || o.limits != nil {
		cmd = append(cmd, "--fixture", fixturePath)
	}
	if o.profile != "" {
		cmd = append(cmd, "--profile", o.profile)
	}
	ready := wait.ForHTTP(fmt.Sprintf("/%s/%s/metadata/user/capacity", tgt.Org, tgt.App.Name)).
		WithPort(containerPort).
		WithStatusCodeMatcher(func(status int) bool { return status == http.StatusUnauthorized }).
		WithForcedIPv4LocalHost().
		WithPollInterval(50 * time.Millisecond).
		WithStartupTimeout(StartupTimeout)
	customizers := []testcontainers.ContainerCustomizer{
		testcontainers.WithLogger(o.logger),
		testcontainers.WithEntrypoint(entrypoint...),
		testcontainers.WithCmd(cmd...),
		testcontainers.WithExposedPorts(containerPort),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{
				network.MustParsePort(containerPort): {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "0"}},
			}
		}),
		testcontainers.WithLabels(map[string]string{Label: "true", labelOwner: owner()}),
		testcontainers.WithWaitStrategy(loopbackFirst{ready}),
	}
	if o.fixture != "" || o.limits != nil {
		customizers = append(customizers, testcontainers.WithFiles(testcontainers.ContainerFile{
			Reader:            bytes.NewReader(fixture),
			ContainerFilePath: fixturePath,
			FileMode:          0o644,
		}))
	}
	ctr, err := testcontainers.Run(ctx, image, customizers...)
	c := &Container{ctr: ctr, fixture: fixture, tgt: tgt}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("reference container: %w", err), c.terminateQuietly())
	}
	if err := c.resolveURL(ctx); err != nil {
		return nil, errors.Join(err, c.terminateQuietly())
	}
	return c, nil
}

// precheckDaemonHost is switched off by a test only, to show that the
// readiness check itself refuses a host that is not loopback.
var precheckDaemonHost = true

// resolveURL checks, after start, that the host testcontainers-go resolved
// is loopback and that every binding of the port is on 127.0.0.1, and
// builds the base URL from that binding.
func (c *Container) resolveURL(ctx context.Context) error {
	host, err := c.ctr.Host(ctx)
	if err != nil {
		return fmt.Errorf("reference container: host: %w", err)
	}
	if err := checkLoopback(host); err != nil {
		return err
	}
	info, err := c.ctr.Inspect(ctx)
	if err != nil {
		return fmt.Errorf("reference container: inspect: %w", err)
	}
	var port string
	for p, bindings := range info.NetworkSettings.Ports {
		for _, b := range bindings {
			if !b.HostIP.IsLoopback() {
				return fmt.Errorf("reference container: port %s is published on %s, not loopback; refusing", p, b.HostIP)
			}
			if p.String() == containerPort && b.HostIP == netip.MustParseAddr("127.0.0.1") && port == "" {
				port = b.HostPort
			}
		}
	}
	if port == "" {
		return fmt.Errorf("reference container: port %s is not published on 127.0.0.1", containerPort)
	}
	c.url = "http://" + net.JoinHostPort("127.0.0.1", port)
	return nil
}

func checkLoopback(host string) error {
	if IsLoopbackHost(host) {
		return nil
	}
	return fmt.Errorf("reference container: testcontainers-go would reach the container at %q, which is not loopback; refusing (set %s=127.0.0.1 for a local Docker engine)", host, EnvHostOverride)
}

// loopbackFirst is the readiness check: it refuses a host that is not
// loopback before its strategy makes any connection.
type loopbackFirst struct{ next wait.Strategy }

func (l loopbackFirst) WaitUntilReady(ctx context.Context, t wait.StrategyTarget) error {
	host, err := t.Host(ctx)
	if err != nil {
		return err
	}
	if err := checkLoopback(host); err != nil {
		return err
	}
	return l.next.WaitUntilReady(ctx, t)
}

func (l loopbackFirst) String() string {
	if s, ok := l.next.(fmt.Stringer); ok {
		return "loopback host, then " + s.String()
	}
	return "loopback host"
}

// URL is the reference's base URL, e.g. http://127.0.0.1:49153.
func (c *Container) URL() string { return c.url }

// ID is the Docker container ID.
func (c *Container) ID() string { return c.ctr.GetContainerID() }

// Target is the tenant the container serves, as a target with BaseURL set
// to URL. Each call returns a fresh copy the caller may change.
func (c *Container) Target() *target.Target {
	t, err := target.Parse(c.fixture, noEnv)
	if err != nil { // cannot happen: Run checked that it parses
		cp := *c.tgt
		t = &cp
	}
	t.BaseURL = c.url
	return t
}

// Docker is the testcontainers-go container, for inspection.
func (c *Container) Docker() *testcontainers.DockerContainer { return c.ctr }

// Terminate stops and removes the container. It is safe to call more than
// once and on a nil Container.
func (c *Container) Terminate(ctx context.Context) error {
	if c == nil || c.ctr == nil {
		return nil
	}
	err := c.ctr.Terminate(ctx)
	if err != nil && strings.Contains(strings.ToLower(err.Error()), "no such container") {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("reference container %s: terminate: %w", shortID(c.ctr.GetContainerID()), err)
	}
	c.ctr = nil
	return nil
}

func (c *Container) terminateQuietly() error {
	if c.ctr == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.Terminate(ctx)
}

// tenant loads the fixture, applies the profile and limits, and returns it
// with its target-file form (checked to read back as the same target).
func (o *options) tenant() (*target.Target, []byte, error) {
	var t *target.Target
	var err error
	if o.fixture == "" {
		t, err = reference.BundledTarget()
	} else {
		t, err = target.Load(o.fixture)
	}
	if err != nil {
		return nil, nil, err
	}
	t.BaseURL = ""
	if o.profile != "" {
		t.Profile = o.profile
	}
	if l := o.limits; l != nil {
		if l.userBytes != 0 {
			t.Limits.UserBytes = l.userBytes
		}
		if l.bodyBytes != 0 {
			t.Limits.BodyBytes = l.bodyBytes
		}
		if l.batchTargets != 0 {
			t.Limits.BatchTargets = l.batchTargets
		}
	}
	if err := t.Validate(); err != nil {
		return nil, nil, err
	}
	data, err := yaml.Marshal(t)
	if err != nil {
		return nil, nil, fmt.Errorf("writing the fixture: %w", err)
	}
	// The container reads the file without this process's environment:
	// it must read back as the same target.
	back, err := target.Parse(data, noEnv)
	if err != nil {
		return nil, nil, fmt.Errorf("the fixture cannot be copied into the container (a value containing ${...}?): %w", err)
	}
	if again, err := yaml.Marshal(back); err != nil || !bytes.Equal(again, data) {
		return nil, nil, fmt.Errorf("the fixture does not read back the same once written (%v)", err)
	}
	return t, data, nil
}

func noEnv(string) (string, bool) { return "", false }

// owner identifies this process, so that RemoveLeftovers leaves the
// containers of live runs alone.
func owner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// ownerAlive reports whether the owner label names a process that still
// runs on this machine. Containers of other machines count as alive.
func ownerAlive(label string) bool {
	i := strings.LastIndexByte(label, ':')
	if i < 0 {
		return false
	}
	var pid int
	if _, err := fmt.Sscanf(label[i+1:], "%d", &pid); err != nil || pid <= 0 {
		return false
	}
	if host, _ := os.Hostname(); label[:i] != host {
		return true
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

// RemoveLeftovers removes the reference containers that no running process
// owns any more: those of runs that were killed before they could
// terminate them (there is no reaper). Containers owned by a process still
// running on this machine, such as a test run in progress, are left alone;
// containers without an owner label are removed. It returns how many it
// removed.
func RemoveLeftovers(ctx context.Context) (int, error) {
	ApplyLocalDefaults()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return 0, fmt.Errorf("no Docker engine: %w", err)
	}
	defer cli.Close()
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: client.Filters{}.Add("label", Label+"=true"),
	})
	if err != nil {
		return 0, fmt.Errorf("listing reference containers: %w", err)
	}
	n := 0
	var errs []error
	for _, s := range list.Items {
		if o, ok := s.Labels[labelOwner]; ok && ownerAlive(o) {
			continue
		}
		if _, err := cli.ContainerRemove(ctx, s.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			errs = append(errs, fmt.Errorf("removing %s: %w", shortID(s.ID), err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
