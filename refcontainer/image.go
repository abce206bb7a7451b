package refcontainer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

const (
	// ImageRepo is the repository of the reference images Build builds. Each
	// is tagged with the first 12 hex digits of its server binary's SHA-256,
	// so that checkouts of different versions sharing one engine never
	// replace the image another is about to run.
	ImageRepo = "attrconform-reference"

	// Label marks every container and image of the reference, so that
	// leftovers can be found: docker ps -a --filter label=attrconform.reference=true
	Label = "attrconform.reference"
	// labelBinary records the SHA-256 of the server binary inside an image.
	labelBinary = "attrconform.reference.binary"
	// labelSource records the module directory the server was built from:
	// a new build replaces the images of its own source only.
	labelSource = "attrconform.reference.source"
	// labelOwner records host:pid of the process that started a container.
	labelOwner = "attrconform.reference.owner"

	modulePath = "github.com/attrconform/attrconform"
	// containerPort is where the reference listens inside the container.
	containerPort = "8080/tcp"
)

// entrypoint is the reference command inside the container: it listens on
// all the container's interfaces, because Docker forwards the published
// port to the container's own address; the host side of the port is
// published on 127.0.0.1 only.
var entrypoint = []string{"/reference", "--listen", ":8080"}

// dockerfile has no base image: nothing is pulled to build it.
const dockerfile = `FROM scratch
COPY reference /reference
EXPOSE 8080
USER 65534:65534
ENTRYPOINT ["/reference", "--listen", ":8080"]
`

// built memoises the image this process built or found up to date, so that
// several Builds in one process build the server once.
var built struct {
	sync.Mutex
	tag string
}

// Build builds the reference image FROM scratch around the statically
// linked reference server, unless the engine already has it for the same
// server binary, and returns its tag (ImageRepo:<binary hash>) to pass to
// Run. It needs the go command and the source of this module (a checkout,
// or the module cache when this module is a dependency). Nothing is
// pulled.
func Build(ctx context.Context) (string, error) {
	p, err := testcontainers.NewDockerProvider(testcontainers.WithLogger(tclog.NewNoopLogger()))
	if err != nil {
		return "", fmt.Errorf("building the reference image: no Docker engine: %w", err)
	}
	defer p.Close()
	return ensureImage(ctx, p)
}

// ensureImage returns the tag of the image of the current server binary,
// building the image first unless the engine already has it.
func ensureImage(ctx context.Context, p *testcontainers.DockerProvider) (string, error) {
	built.Lock()
	defer built.Unlock()
	if built.tag != "" {
		if _, err := p.Client().ImageInspect(ctx, built.tag); err == nil {
			return built.tag, nil
		}
	}

	src, err := moduleDir(ctx)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "attrconform-image-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "reference")
	if err := buildReference(ctx, src, bin); err != nil {
		return "", err
	}
	sum, err := fileSHA256(bin)
	if err != nil {
		return "", err
	}
	tag := ImageRepo + ":" + sum[:12]

	have, err := p.Client().ImageInspect(ctx, tag)
	switch {
	case err == nil && have.Config != nil && have.Config.Labels[labelBinary] == sum:
		built.tag = tag // up to date: no build
		return tag, nil
	case err != nil && !errdefs.IsNotFound(err):
		return "", fmt.Errorf("inspecting image %s: %w", tag, err)
	}

	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return "", err
	}
	var buildLog bytes.Buffer
	req := &testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
		Context:        dir,
		Dockerfile:     "Dockerfile",
		Repo:           ImageRepo,
		Tag:            sum[:12],
		KeepImage:      true,
		BuildLogWriter: &buildLog,
		BuildOptionsModifier: func(o *client.ImageBuildOptions) {
			o.Labels = map[string]string{Label: "true", labelBinary: sum, labelSource: src}
			o.PullParent = false
		},
	}}
	if _, err := p.BuildImage(ctx, req); err != nil {
		return "", fmt.Errorf("building image %s: %w\n%s", tag, err, lastLines(buildLog.String(), 20))
	}
	removeReplaced(ctx, p, src, tag)
	built.tag = tag
	return tag, nil
}

// removeReplaced removes the images built before from the same source,
// which the image tag replaces, unless a container still uses one (then
// the engine refuses, which is fine). Images of other checkouts are left
// alone: another run may be about to start one.
func removeReplaced(ctx context.Context, p *testcontainers.DockerProvider, src, tag string) {
	now, err := p.Client().ImageInspect(ctx, tag)
	if err != nil {
		return
	}
	list, err := p.Client().ImageList(ctx, client.ImageListOptions{Filters: client.Filters{}.Add("label", labelSource+"="+src)})
	if err != nil {
		return
	}
	for _, img := range list.Items {
		if img.ID != now.ID {
			_, _ = p.Client().ImageRemove(ctx, img.ID, client.ImageRemoveOptions{})
		}
	}
}

// refusePull checks that starting req pulls nothing: the engine must have
// its image, and neither WithAlwaysPull nor a Dockerfile build (whose base
// image could be pulled) may be asked for.
func refusePull(ctx context.Context, p *testcontainers.DockerProvider, req *testcontainers.GenericContainerRequest) error {
	switch {
	case req.AlwaysPullImage:
		return errors.New("reference container: images are never pulled: leave out WithAlwaysPull")
	case req.ShouldBuildImage():
		return errors.New("reference container: pass Run the tag refcontainer.Build returns instead of a Dockerfile")
	case req.Image == "":
		return errors.New("reference container: no image: pass Run the tag refcontainer.Build returns")
	}
	_, err := p.Client().ImageInspect(ctx, req.Image)
	if errdefs.IsNotFound(err) {
		return fmt.Errorf("reference container: image %s is not in the Docker engine, and images are never pulled: build it with refcontainer.Build (or make image)", req.Image)
	}
	if err != nil {
		return fmt.Errorf("reference container: inspecting image %s: %w", req.Image, err)
	}
	return nil
}

// buildReference builds the statically linked reference server
// (reference/cmd/reference) of the module in dir for Linux on the host's
// architecture (the engine is local) into out.
func buildReference(ctx context.Context, dir, out string) error {
	gobin, err := goTool()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, gobin, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w",
		"-o", out, modulePath+"/reference/cmd/reference")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building the reference server for its image (go build in %s): %w\n%s", dir, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	return "", errors.New("the go command is needed to build the reference image and is not on PATH")
}

// moduleDir finds the source of this module to build the server from.
//
// First the directory this package was compiled from (runtime.Caller):
// in a checkout (go test, go run ./runner) that is the exact source of the
// running code, whatever the current directory. Builds with -trimpath have
// no such path; then `go list -m` from the current directory, which names
// the checkout when run inside it, or the module cache copy when this
// module is a dependency. Either way the directory must hold a go.mod
// declaring this module.
func moduleDir(ctx context.Context) (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dir := filepath.Dir(filepath.Dir(file))
		if isModuleRoot(dir) {
			return dir, nil
		}
	}
	if gobin, err := goTool(); err == nil {
		cmd := exec.CommandContext(ctx, gobin, "list", "-m", "-f", "{{.Dir}}", modulePath)
		if out, err := cmd.Output(); err == nil {
			dir := strings.TrimSpace(string(out))
			if dir != "" && isModuleRoot(dir) {
				return dir, nil
			}
		}
	}
	return "", fmt.Errorf("cannot find the source of %s to build the reference image: run from a checkout of it", modulePath)
}

func isModuleRoot(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" && strings.Trim(f[1], `"`) == modulePath {
			return true
		}
	}
	return false
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
