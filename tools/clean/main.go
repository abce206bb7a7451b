// Command clean removes the reference containers that killed runs left
// behind (package refcontainer starts them without a reaper). Containers
// of runs still in progress are left alone. Without a Docker engine there
// is nothing to clean, and it says so and succeeds.
//
//	go run ./tools/clean
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/attrconform/attrconform/refcontainer"
)

func main() {
	refcontainer.ApplyLocalDefaults() // before any use of testcontainers-go

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := refcontainer.Available(ctx); err != nil {
		fmt.Printf("clean: %v; no reference containers to remove\n", err)
		return
	}
	n, err := refcontainer.RemoveLeftovers(ctx)
	fmt.Printf("clean: removed %d leftover reference container(s) (label %s=true)\n", n, refcontainer.Label)
	if err != nil {
		fmt.Fprintf(os.Stderr, "clean: %v\n", err)
		os.Exit(1)
	}
}
