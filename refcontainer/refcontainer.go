// Package refcontainer runs the bundled reference server in a Docker
// container with testcontainers-go, as a testcontainers-go module does:
//
//	refcontainer.ApplyLocalDefaults() // once, at the start of the program
//	img, err := refcontainer.Build(ctx)
//	if err != nil { ... }
//	c, err := refcontainer.Run(ctx, img, refcontainer.WithProfile("legacy"))
//	if err != nil { ... }
//	defer testcontainers.TerminateContainer(c)
//	tgt := c.Target() // the fixture tenant, BaseURL = c.URL()
//
// The image is built locally FROM scratch around the statically linked
// reference server (reference/cmd/reference) and nothing else; nothing is
// ever pulled, not even testcontainers' reaper (Ryuk), so every container
// must be terminated by its starter. A run that was killed leaves its
// container behind: RemoveLeftovers (and `go run ./tools/clean`) removes
// those.
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
	"slices"
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
// (the reaper image cannot be pulled; this package's callers terminate
// their own containers) and TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
// (otherwise, on a machine that looks like a container, testcontainers-go
// reaches published ports through the default gateway instead of
// loopback). It sets each only when the variable is not set at all, so a
// user's own value, even an empty one, is kept, and only when DOCKER_HOST
// is unset or a unix socket: a user with a remote engine needs neither.
// It also quiets testcontainers-go's package-level logger (see below). It
// returns the names it set.
//
// These are process-wide settings, which testcontainers-go reads once per
// process, so a program (not a library) calls this once, at its start,
// before any other use of testcontainers-go, this package's Available,
// Build, Run and RemoveLeftovers included. Run refuses a local engine
// without them; nothing in this package sets them itself.
func ApplyLocalDefaults() []string {
	quietOnce.Do(func() {
		if tclog.Default() == tcDefaultLogger {
			tclog.SetDefault(tclog.NewNoopLogger())
		}
	})
	if !localEngine() {
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

// localEngine reports whether testcontainers-go uses a local Docker
// engine: DOCKER_HOST unset or a unix socket.
func localEngine() bool {
	h := os.Getenv("DOCKER_HOST")
	return h == "" || strings.HasPrefix(h, "unix://")
}

// testcontainers-go prints a banner through its package-level logger when
// it first connects to the engine, and sends a container's progress there
// unless given testcontainers.WithLogger. The runner's output is its own,
// so the first call of ApplyLocalDefaults discards those messages, unless
// the program installed a logger of its own before (tclog.SetDefault).
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

// Container is a running reference container: the testcontainers-go
// container, with the reference's base URL and the tenant it serves.
// Terminate it when done (testcontainers.TerminateContainer may be called
// more than once); nothing else will.
type Container struct {
	testcontainers.Container
	url     string
	fixture []byte // the tenant it serves, in target-file form
	tgt     *target.Target
}

// Run starts a container of img, the tag Build returns (it is never
// pulled: the engine must have it), and waits until the reference answers
// on its published loopback port. opts mixes this package's options
// (WithProfile, WithFixture, WithLimits) with testcontainers-go's
// customizers (testcontainers.WithLogger, WithLabels, ...), applied in
// order after the module's defaults. Whatever they say, every exposed port
// is published on 127.0.0.1 only, the container carries Label, and the
// readiness check refuses a host that is not loopback before it dials.
// When Run fails, it has terminated any container it started.
//
// With a local engine, the program must have set TESTCONTAINERS_RYUK_DISABLED
// and TESTCONTAINERS_HOST_OVERRIDE (ApplyLocalDefaults); Run refuses otherwise.
func Run(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	if err := checkSettings(); err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		if opt, ok := opt.(Option); ok {
			if err := opt(&o); err != nil {
				return nil, err
			}
		}
	}
	tgt, fixture, err := o.tenant()
	if err != nil {
		return nil, err
	}
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{Image: img},
		Started:          true,
	}
	for _, opt := range slices.Concat(o.defaults(tgt, fixture), opts, []testcontainers.ContainerCustomizer{loopbackOnly}) {
		if err := opt.Customize(&req); err != nil {
			return nil, fmt.Errorf("reference container: %w", err)
		}
	}

	if err := Available(ctx); err != nil {
		return nil, fmt.Errorf("reference container: %w", err)
	}
	p, err := testcontainers.NewDockerProvider(testcontainers.WithLogger(tclog.NewNoopLogger()))
	if err != nil {
		return nil, fmt.Errorf("reference container: no Docker engine: %w", err)
	}
	defer p.Close()
	// Refuse before anything is started when testcontainers-go would reach
	// containers through a host that is not loopback.
	if precheckDaemonHost {
		host, err := p.DaemonHost(ctx)
		if err != nil {
			return nil, fmt.Errorf("reference container: resolving the host of published ports: %w", err)
		}
		if err := checkLoopback(host); err != nil {
			return nil, err
		}
	}
	if err := refusePull(ctx, p, &req); err != nil {
		return nil, err
	}

	ctr, err := testcontainers.GenericContainer(ctx, req)
	c := &Container{Container: ctr, fixture: fixture, tgt: tgt}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("reference container: %w", err), c.terminate())
	}
	if err := c.resolveURL(ctx); err != nil {
		return nil, errors.Join(err, c.terminate())
	}
	return c, nil
}

// checkSettings refuses a local engine when the program has not set the
// two settings testcontainers-go needs for it (see ApplyLocalDefaults):
// without them it would pull its reaper and dial the default gateway.
func checkSettings() error {
	if !localEngine() {
		return nil
	}
	var missing []string
	for _, name := range []string{EnvRyukDisabled, EnvHostOverride} {
		if _, ok := os.LookupEnv(name); !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("reference container: %s not set: with a local Docker engine testcontainers-go needs %s=true and %s=127.0.0.1; call refcontainer.ApplyLocalDefaults() once at the start of the program, before any other use of testcontainers-go, or set them in the environment",
		strings.Join(missing, " and "), EnvRyukDisabled, EnvHostOverride)
}

// defaults are the module's customizers, applied before the caller's: the
// reference's command line and tenant file, its port, and the readiness
// check on its own capacity route (401 without a token).
func (o *options) defaults(tgt *target.Target, fixture []byte) []testcontainers.ContainerCustomizer {
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
	cs := []testcontainers.ContainerCustomizer{
		testcontainers.WithEntrypoint(entrypoint...),
		testcontainers.WithCmd(cmd...),
		testcontainers.WithExposedPorts(containerPort),
		testcontainers.WithWaitStrategy(ready),
	}
	if o.fixture != "" || o.limits != nil {
		cs = append(cs, testcontainers.WithFiles(testcontainers.ContainerFile{
			Reader:            bytes.NewReader(fixture),
			ContainerFilePath: fixturePath,
			FileMode:          0o644,
		}))
	}
	return cs
}

// loopbackOnly comes after the caller's customizers, so that none of them
// can undo the guarantees: every exposed port is published on 127.0.0.1
// only (after any host config modifier of the caller's), the container
// carries the labels RemoveLeftovers looks for, and the readiness check,
// whichever it is, first refuses a host that is not loopback.
var loopbackOnly testcontainers.CustomizeRequestOption = func(req *testcontainers.GenericContainerRequest) error {
	bindings := network.PortMap{}
	for _, spec := range req.ExposedPorts {
		ports, err := network.ParsePortRange(spec)
		if err != nil {
			return fmt.Errorf("exposed port %q: %w", spec, err)
		}
		for p := range ports.All() {
			bindings[p] = []network.PortBinding{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "0"}}
		}
	}
	modify := req.HostConfigModifier
	req.HostConfigModifier = func(hc *container.HostConfig) {
		if modify != nil {
			modify(hc)
		}
		hc.PortBindings = bindings
	}
	if err := testcontainers.WithLabels(map[string]string{Label: "true", labelOwner: owner()})(req); err != nil {
		return err
	}
	req.WaitingFor = loopbackFirst{req.WaitingFor}
	return nil
}

// precheckDaemonHost is switched off by a test only, to show that the
// readiness check itself refuses a host that is not loopback.
var precheckDaemonHost = true

// resolveURL checks, after start, that the host testcontainers-go resolved
// is loopback and that every binding of the port is on 127.0.0.1, and
// builds the base URL from that binding.
func (c *Container) resolveURL(ctx context.Context) error {
	host, err := c.Host(ctx)
	if err != nil {
		return fmt.Errorf("reference container: host: %w", err)
	}
	if err := checkLoopback(host); err != nil {
		return err
	}
	info, err := c.Inspect(ctx)
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
	if l.next == nil { // a customizer of the caller's removed every strategy
		return nil
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

// terminate removes a container Run cannot hand over.
func (c *Container) terminate() error {
	if c.Container == nil {
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
