package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/attrconform/attrconform/internal/bundled"
	"github.com/attrconform/attrconform/refcontainer"
	"github.com/attrconform/attrconform/target"
)

// How the bundled reference runs.
const (
	refAuto      = "auto"
	refContainer = "container"
	refInProcess = "inprocess"
)

// startBundled starts the bundled reference for t as mode says, points t
// at it, and returns a description for the report and a stop function.
// In auto mode it runs a container when a Docker engine answers, else
// in-process, and says which in one line. fixture is the tenant file t was
// read from (--fixture), which a container is given to serve. With
// exitOnSignal, Ctrl-C or SIGTERM removes a container and exits 130; a
// caller that handles the signals itself passes false and calls stop.
func startBundled(t *target.Target, mode, fixture string, o bundled.Options, exitOnSignal bool) (string, func(), error) {
	custom := o.Defect != nil || o.RaceWindow != 0
	if mode != refInProcess && !custom {
		// The runner is the program: it gives testcontainers-go its
		// process-wide settings before anything reads them.
		refcontainer.ApplyLocalDefaults()
	}
	switch {
	case custom && mode == refContainer:
		return "", nil, fmt.Errorf("--mutant and --race-window run the reference in-process; leave out --reference container")
	case custom:
		mode = refInProcess
	case mode == refAuto:
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err := refcontainer.Available(ctx)
		cancel()
		if err != nil {
			fmt.Fprintf(stdout, "reference: in-process (%v)\n", err)
			mode = refInProcess
		} else {
			fmt.Fprintln(stdout, "reference: in a container (a Docker engine answers; --reference inprocess avoids it)")
			mode = refContainer
		}
	}
	if mode == refInProcess {
		srv, err := bundled.Start(t, o)
		if err != nil {
			return "", nil, err
		}
		t.BaseURL = srv.URL
		where := "the bundled reference (in-process) at " + srv.URL
		if fixture != "" {
			where += " serving " + fixture
		}
		if o.Defect != nil {
			where += " with mutant " + o.Defect.Name
		}
		if o.RaceWindow != 0 {
			where += fmt.Sprintf(" (race window %v)", max(o.RaceWindow, 0))
		}
		return where, func() { srv.Close() }, nil
	}

	// Building may compile the server from scratch on a cold cache.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	fmt.Fprintln(stdout, "reference: building the image if needed and starting the container")
	img, err := refcontainer.Build(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("building the reference image: %w", err)
	}
	opts := []testcontainers.ContainerCustomizer{refcontainer.WithProfile(t.Profile)}
	if fixture != "" {
		opts = append(opts, refcontainer.WithFixture(fixture))
	}
	c, err := refcontainer.Run(ctx, img, opts...)
	if err != nil {
		return "", nil, fmt.Errorf("starting the reference container: %w", err)
	}
	id := c.GetContainerID()[:12]
	// One removal, whoever asks first (the run's end or a signal); a second
	// caller waits for it to finish.
	stop := sync.OnceFunc(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Terminate(ctx); err != nil {
			fmt.Fprintf(stderr, "reference: removing container %s: %v (make clean removes leftovers)\n", id, err)
			return
		}
		fmt.Fprintf(stdout, "reference: container %s removed\n", id)
	})
	// Ctrl-C or SIGTERM must not leave the container behind; the handler is
	// in place before anyone is told the container exists.
	signals := make(chan os.Signal, 1)
	if exitOnSignal {
		signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
		go func() {
			<-signals
			stop()
			os.Exit(130)
		}()
	}
	fmt.Fprintf(stdout, "reference: container %s started at %s\n", id, c.URL())
	t.BaseURL = c.URL()
	return "the bundled reference (container " + id + ") at " + c.URL(), func() {
		signal.Stop(signals)
		stop()
	}, nil
}
