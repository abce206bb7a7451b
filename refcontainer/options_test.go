package refcontainer

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/exec"
	"github.com/testcontainers/testcontainers-go/wait"

	attrconform "github.com/attrconform/attrconform"
	"github.com/attrconform/attrconform/target"
)

// unsetEnv unsets name for the test and restores it afterwards.
func unsetEnv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // registers the restore
	os.Unsetenv(name)
}

func TestApplyLocalDefaults(t *testing.T) {
	for _, tc := range []struct {
		name       string
		dockerHost *string
		user       map[string]string // values the user set
		wantSet    []string
		want       map[string]string // final values; "-" means unset
	}{
		{
			name:    "local engine, nothing set: both set",
			wantSet: []string{EnvRyukDisabled, EnvHostOverride},
			want:    map[string]string{EnvRyukDisabled: "true", EnvHostOverride: "127.0.0.1"},
		},
		{
			name:       "unix DOCKER_HOST: both set",
			dockerHost: ptr("unix:///var/run/docker.sock"),
			wantSet:    []string{EnvRyukDisabled, EnvHostOverride},
			want:       map[string]string{EnvRyukDisabled: "true", EnvHostOverride: "127.0.0.1"},
		},
		{
			name:    "user values are kept",
			user:    map[string]string{EnvRyukDisabled: "false", EnvHostOverride: "::1"},
			wantSet: nil,
			want:    map[string]string{EnvRyukDisabled: "false", EnvHostOverride: "::1"},
		},
		{
			name:    "a user value set empty is kept",
			user:    map[string]string{EnvHostOverride: ""},
			wantSet: []string{EnvRyukDisabled},
			want:    map[string]string{EnvRyukDisabled: "true", EnvHostOverride: ""},
		},
		{
			name:       "remote DOCKER_HOST: nothing set",
			dockerHost: ptr("tcp://docker.example:2376"),
			wantSet:    nil,
			want:       map[string]string{EnvRyukDisabled: "-", EnvHostOverride: "-"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			unsetEnv(t, "DOCKER_HOST")
			unsetEnv(t, EnvRyukDisabled)
			unsetEnv(t, EnvHostOverride)
			if tc.dockerHost != nil {
				t.Setenv("DOCKER_HOST", *tc.dockerHost)
			}
			for k, v := range tc.user {
				t.Setenv(k, v)
			}
			got := ApplyLocalDefaults()
			if strings.Join(got, ",") != strings.Join(tc.wantSet, ",") {
				t.Errorf("set %v, want %v", got, tc.wantSet)
			}
			for k, want := range tc.want {
				v, ok := os.LookupEnv(k)
				if want == "-" {
					if ok {
						t.Errorf("%s=%q, want unset", k, v)
					}
					continue
				}
				if !ok || v != want {
					t.Errorf("%s=%q (set %v), want %q", k, v, ok, want)
				}
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.1.2.3": true, "::1": true, "[::1]": true, "localhost": true, "LOCALHOST": true,
		"172.17.0.1": false, "10.0.0.1": false, "192.168.1.1": false, "192.0.2.1": false, "0.0.0.0": false,
		"::": false, "host.docker.internal": false, "": false, "example.com": false,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// fakeTarget answers Host with a fixed value; every other method fails the
// test, since the guard must not touch the container before checking.
type fakeTarget struct {
	t    *testing.T
	host string
}

func (f fakeTarget) Host(context.Context) (string, error) { return f.host, nil }
func (f fakeTarget) Inspect(context.Context) (*container.InspectResponse, error) {
	f.t.Error("Inspect called")
	return nil, errors.New("no")
}
func (f fakeTarget) Ports(context.Context) (network.PortMap, error) {
	f.t.Error("Ports called")
	return nil, errors.New("no")
}
func (f fakeTarget) MappedPort(context.Context, string) (network.Port, error) {
	f.t.Error("MappedPort called")
	return network.Port{}, errors.New("no")
}
func (f fakeTarget) Logs(context.Context) (io.ReadCloser, error) { return nil, errors.New("no") }
func (f fakeTarget) Exec(context.Context, []string, ...exec.ProcessOption) (int, io.Reader, error) {
	f.t.Error("Exec called")
	return 0, nil, errors.New("no")
}
func (f fakeTarget) State(context.Context) (*container.State, error) { return nil, errors.New("no") }
func (f fakeTarget) CopyFileFromContainer(context.Context, string) (io.ReadCloser, error) {
	return nil, errors.New("no")
}

type recordStrategy struct{ called *bool }

func (r recordStrategy) WaitUntilReady(context.Context, wait.StrategyTarget) error {
	*r.called = true
	return nil
}

// The readiness check refuses a host that is not loopback before its HTTP
// strategy runs, so nothing is ever dialled there.
func TestLoopbackFirstRefusesBeforeDialling(t *testing.T) {
	for _, host := range []string{"172.17.0.1", "192.0.2.1", "example.com"} {
		called := false
		err := loopbackFirst{recordStrategy{&called}}.WaitUntilReady(context.Background(), fakeTarget{t, host})
		if err == nil || !strings.Contains(err.Error(), "not loopback") {
			t.Errorf("host %s: err = %v, want a refusal", host, err)
		}
		if called {
			t.Errorf("host %s: the HTTP strategy ran", host)
		}
	}
	for _, host := range []string{"127.0.0.1", "localhost", "::1"} {
		called := false
		if err := (loopbackFirst{recordStrategy{&called}}).WaitUntilReady(context.Background(), fakeTarget{t, host}); err != nil || !called {
			t.Errorf("host %s: err = %v, called = %v; want the strategy to run", host, err, called)
		}
	}
}

func TestOptionsRefuseBadValues(t *testing.T) {
	for name, opt := range map[string]Option{
		"unknown profile": WithProfile("sloppy"),
		"negative limit":  WithLimits(-1, 0, 0),
		"empty fixture":   WithFixture(""),
	} {
		if err := opt(&options{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Run refuses a local engine without the two settings, naming them, before
// it does anything else.
func TestRunRefusesLocalEngineWithoutSettings(t *testing.T) {
	unsetEnv(t, "DOCKER_HOST")
	unsetEnv(t, EnvRyukDisabled)
	t.Setenv(EnvHostOverride, "127.0.0.1")
	_, err := Run(context.Background(), ImageRepo+":any")
	if err == nil || !strings.Contains(err.Error(), EnvRyukDisabled+" not set") || !strings.Contains(err.Error(), EnvHostOverride) || !strings.Contains(err.Error(), "ApplyLocalDefaults") {
		t.Errorf("err = %v, want a refusal naming %s and %s and ApplyLocalDefaults", err, EnvRyukDisabled, EnvHostOverride)
	}
}

// The module's options are customizers that change nothing in the request:
// Run reads them.
func TestOptionsAreNoOpCustomizers(t *testing.T) {
	var req testcontainers.GenericContainerRequest
	for _, opt := range []testcontainers.ContainerCustomizer{WithProfile("legacy"), WithFixture("x.yaml"), WithLimits(1, 2, 3)} {
		if err := opt.Customize(&req); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(req, testcontainers.GenericContainerRequest{}) {
		t.Errorf("an option changed the request: %+v", req)
	}
}

// Whatever the caller's customizers say, loopbackOnly publishes every
// exposed port on 127.0.0.1 only (after the caller's host config
// modifier), keeps the labels, and puts the loopback check before the
// caller's readiness check.
func TestLoopbackOnlyOverridesTheCallersCustomizers(t *testing.T) {
	tgt, fixture, err := (&options{}).tenant()
	if err != nil {
		t.Fatal(err)
	}
	called := false
	callers := []testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts("9090/tcp", "7000-7001"),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.Privileged = true
			hc.PortBindings = network.PortMap{network.MustParsePort(containerPort): {{HostPort: "8080"}}}
		}),
		testcontainers.WithLabels(map[string]string{Label: "false", "mine": "yes"}),
		testcontainers.WithWaitStrategy(recordStrategy{&called}),
	}
	var req testcontainers.GenericContainerRequest
	for _, opt := range slices.Concat((&options{}).defaults(tgt, fixture), callers, []testcontainers.ContainerCustomizer{loopbackOnly}) {
		if err := opt.Customize(&req); err != nil {
			t.Fatal(err)
		}
	}
	var hc container.HostConfig
	req.HostConfigModifier(&hc)
	if !hc.Privileged {
		t.Error("the caller's host config modifier did not run")
	}
	want := []string{"7000/tcp", "7001/tcp", "8080/tcp", "9090/tcp"}
	var got []string
	for p, bindings := range hc.PortBindings {
		got = append(got, p.String())
		if len(bindings) != 1 || bindings[0].HostIP != netip.MustParseAddr("127.0.0.1") || bindings[0].HostPort != "0" {
			t.Errorf("port %s bound to %+v, want 127.0.0.1:0 only", p, bindings)
		}
	}
	if slices.Sort(got); !slices.Equal(got, want) {
		t.Errorf("published ports %v, want %v", got, want)
	}
	if req.Labels[Label] != "true" || req.Labels[labelOwner] != owner() || req.Labels["mine"] != "yes" {
		t.Errorf("labels %v", req.Labels)
	}
	if err := req.WaitingFor.WaitUntilReady(context.Background(), fakeTarget{t, "192.0.2.1"}); err == nil || called {
		t.Errorf("readiness with host 192.0.2.1: err = %v, caller's strategy ran: %v; want a refusal first", err, called)
	}
}

// Nothing a customizer asks for makes Run pull: these are refused before
// the engine is asked anything.
func TestRefusePull(t *testing.T) {
	for name, opt := range map[string]testcontainers.ContainerCustomizer{
		"always pull": testcontainers.WithAlwaysPull(),
		"dockerfile":  testcontainers.WithDockerfile(testcontainers.FromDockerfile{Context: "."}),
		"no image":    testcontainers.WithImage(""),
	} {
		req := testcontainers.GenericContainerRequest{ContainerRequest: testcontainers.ContainerRequest{Image: ImageRepo + ":any"}}
		if err := opt.Customize(&req); err != nil {
			t.Fatal(err)
		}
		if err := refusePull(context.Background(), nil, &req); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The tenant the container serves, as written for it, reads back as the
// target Container.Target reports: profile and limits applied, the
// fixture's other limits kept.
func TestTenantAppliesProfileAndLimits(t *testing.T) {
	o := options{}
	for _, opt := range []Option{WithProfile("legacy"), WithLimits(1000, 0, 7)} {
		if err := opt(&o); err != nil {
			t.Fatal(err)
		}
	}
	tgt, data, err := o.tenant()
	if err != nil {
		t.Fatal(err)
	}
	back, err := target.Parse(data, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []*target.Target{tgt, back} {
		if got.Profile != "legacy" || got.Limits.UserBytes != 1000 || got.Limits.BodyBytes != 4096 || got.Limits.BatchTargets != 7 {
			t.Errorf("profile %q limits %+v; want legacy {1000 4096 7}", got.Profile, got.Limits)
		}
		if got.Org != "acme" || got.App.Name != "chat" || got.ExtraApps.RateLimited == nil || got.BaseURL != "" {
			t.Errorf("tenant not the bundled one: %+v", got)
		}
	}
}

// A fixture file's ${VAR} references are expanded on the host, so that the
// container, which has no such environment, serves the same tokens.
func TestTenantExpandsEnvironmentOnTheHost(t *testing.T) {
	t.Setenv("REFCONTAINER_TEST_TOKEN", "YWMtFromEnv-0123456789")
	src := strings.Replace(string(attrconform.ReferenceTarget), "YWMtChatAdmin-3f9c2a71d8e54b6a", "${REFCONTAINER_TEST_TOKEN}", 1)
	path := filepath.Join(t.TempDir(), "tenant.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	o := options{}
	if err := WithFixture(path)(&o); err != nil {
		t.Fatal(err)
	}
	_, data, err := o.tenant()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "YWMtFromEnv-0123456789") || strings.Contains(string(data), "${") {
		t.Errorf("fixture for the container not expanded:\n%s", data)
	}
}

func TestOwnerAlive(t *testing.T) {
	if !ownerAlive(owner()) {
		t.Errorf("this process (%s) counted as gone", owner())
	}
	host, _ := os.Hostname()
	for _, label := range []string{host + ":999999999", "nonsense", host + ":x"} {
		if ownerAlive(label) {
			t.Errorf("owner %q counted as alive", label)
		}
	}
	if !ownerAlive("some-other-machine:1") {
		t.Error("a container of another machine counted as a leftover")
	}
}

func TestModuleDirFindsThisModule(t *testing.T) {
	dir, err := moduleDir(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !isModuleRoot(dir) {
		t.Errorf("%s is not the module root", dir)
	}
}
