package refcontainer

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// With the early check off, a host that is not loopback is still refused
// by the readiness check before it dials, and the container it started is
// terminated.
func TestReadinessRefusesHostThatIsNotLoopback(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := Available(ctx); err != nil {
		t.Skipf("skipping: needs a Docker engine (%v); start one with .ci/docker.sh", err)
	}
	// Building may compile the server from scratch on a cold cache.
	bctx, bcancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer bcancel()
	img, err := Build(bctx)
	if err != nil {
		t.Fatal(err)
	}
	precheckDaemonHost = false
	t.Cleanup(func() { precheckDaemonHost = true })
	t.Setenv(EnvHostOverride, "192.0.2.1") // TEST-NET-1: never dialled

	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	mine := func() int {
		list, err := cli.ContainerList(ctx, client.ContainerListOptions{
			All: true, Filters: client.Filters{}.Add("label", labelOwner+"="+owner()),
		})
		if err != nil {
			t.Fatal(err)
		}
		return len(list.Items)
	}
	before := mine()
	start := time.Now()
	_, err = Run(ctx, img)
	if err == nil || !strings.Contains(err.Error(), "not loopback") {
		t.Fatalf("Run with host 192.0.2.1: err = %v, want a refusal", err)
	}
	if d := time.Since(start); d > StartupTimeout/2 {
		t.Errorf("refusal took %v: the readiness check waited instead of refusing", d)
	}
	if after := mine(); after != before {
		t.Errorf("%d containers of this process after the refusal, %d before: the refused one was not terminated", after, before)
	}
}
