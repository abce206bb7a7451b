// Command image builds the reference image (refcontainer.Build: FROM
// scratch around the statically linked reference server; nothing is
// pulled) and prints its tag, its size as the engine reports it and its
// layers: one, the server.
//
//	go run ./tools/image    # make image
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/attrconform/attrconform/refcontainer"
)

func main() {
	refcontainer.ApplyLocalDefaults() // before any use of testcontainers-go

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := refcontainer.Available(ctx); err != nil {
		fail("%v; start one with bash .ci/docker.sh", err)
	}
	tag, err := refcontainer.Build(ctx)
	if err != nil {
		fail("%v", err)
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		fail("%v", err)
	}
	defer cli.Close()
	img, err := cli.ImageInspect(ctx, tag)
	if err != nil {
		fail("inspecting %s: %v", tag, err)
	}
	fmt.Printf("image %s: %.2f MB (%d bytes), %d layer(s)\n", tag, float64(img.Size)/1e6, img.Size, len(img.RootFS.Layers))
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "image: "+format+"\n", args...)
	os.Exit(1)
}
