// Command reference is the bundled reference server as a local emulator
// of the user-attributes API, and the whole of the container image that
// refcontainer runs:
//
//	go run ./reference/cmd/reference                    # fixtures/reference.yaml on 127.0.0.1:8080
//	go run ./reference/cmd/reference --listen 127.0.0.1:0 --fixture my-tenant.yaml --profile legacy
//
// Exit status: 0 after a clean stop (SIGINT, SIGTERM), 1 when serving or
// stopping failed, 2 for a configuration error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/reference/store/boltstore"
	"github.com/attrconform/attrconform/target"
)

// Stores --store knows.
const (
	storeMemory = "memory"
	storeBolt   = "bolt"
	storeEtcd   = "etcd"
)

// serve runs the reference as a local emulator until interrupted. On
// SIGINT or SIGTERM it stops accepting connections, lets requests in
// flight finish (up to 10 s), closes the store and exits 0.
func main() { os.Exit(serve(os.Args[1:])) }

func serve(args []string) int {
	fs := flag.NewFlagSet("reference", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on; 127.0.0.1:0 picks a free loopback port (an address beyond loopback exposes the emulator and its fixture tokens to the network)")
	fixture := fs.String("fixture", "", "tenant file (target-file format: org, app, tokens, users, limits, extra_apps; optional client_id/client_secret per app and password per user for the token endpoint); default the bundled fixtures/reference.yaml")
	profileName := fs.String("profile", "", "profile to follow: current (default) or legacy")
	storeKind := fs.String("store", storeMemory, "where attributes live: memory (gone at exit), bolt (the file named by --data: attributes, versions, capacity, registered users and issued tokens survive restarts and kill -9) or etcd (the cluster named by --etcd-endpoints: any number of servers over it behave as one)")
	dataPath := fs.String("data", "", "data file of --store bolt, created if missing")
	etcd := etcdFlags(fs)
	raceWindow := fs.Duration("race-window", reference.DefaultRaceWindow, "pause between reading a user's version and committing a PUT; 0 commits at once, as a fast database would (concurrent writers then collide less often)")
	faultHooks := fs.Bool("fault-hooks", false, "answer 500/503 when a request asks with the X-Conformance-Fault header (default: the fixture's fault_hooks, true for the bundled fixture)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var t *target.Target
	var err error
	if *fixture == "" {
		t, err = reference.BundledTarget()
	} else {
		t, err = target.Load(*fixture)
	}
	if err != nil {
		return usageError("%v", err)
	}
	if *profileName != "" {
		t.Profile = *profileName
		if _, err := t.ResolveProfile(); err != nil {
			return usageError("--profile: %v", err)
		}
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "fault-hooks" {
			t.FaultHooks = *faultHooks
		}
	})
	cfg, err := reference.ConfigFor(t)
	if err != nil {
		return usageError("%v", err)
	}
	if *raceWindow < 0 {
		return usageError("--race-window %v: give a duration of 0 or more, e.g. 5ms", *raceWindow)
	}
	cfg.RaceWindow = reference.RaceWindowOf(*raceWindow)
	where := "in memory"
	if msg := etcd.misused(fs, *storeKind); msg != "" {
		return usageError("%s", msg)
	}
	switch *storeKind {
	case storeMemory:
		if *dataPath != "" {
			return usageError("--data is the file of --store bolt; add --store bolt or leave out --data")
		}
	case storeEtcd:
		if *dataPath != "" {
			return usageError("--data is the file of --store bolt; --store etcd keeps its data in the cluster")
		}
		st, desc, err := etcd.open()
		if err != nil {
			return usageError("%v", err)
		}
		cfg.Store = st
		where = desc
	case storeBolt:
		if *dataPath == "" {
			return usageError("--store bolt needs --data FILE (created if missing)")
		}
		st, err := boltstore.Open(*dataPath)
		if err != nil {
			return usageError("--data: %v", err)
		}
		cfg.Store = st
		where = "in " + *dataPath
	default:
		return usageError("--store: %q is unknown; use %s, %s or %s", *storeKind, storeMemory, storeBolt, storeEtcd)
	}
	ref, err := reference.New(cfg)
	if err != nil {
		if cfg.Store != nil {
			cfg.Store.Close()
		}
		return usageError("%v", err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		ref.Close()
		return usageError("listening on %s: %v", *listen, err)
	}
	srv := &http.Server{Handler: ref, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	hooks := ""
	if t.FaultHooks {
		hooks = ", fault hooks on"
	}
	fmt.Printf("reference serving org %s app %s at %s, data %s, race window %v%s (Ctrl-C stops it)\n", t.Org, t.App.Name, url, where, *raceWindow, hooks)
	fmt.Println(url)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	status := 0
	select {
	case <-sig:
	case err := <-served:
		fmt.Fprintf(os.Stderr, "reference: %v\n", err)
		status = 1
	}
	signal.Stop(sig)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(os.Stderr, "reference: shutting down: %v\n", err)
		status = 1
	}
	if err := ref.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "reference: closing the store: %v\n", err)
		status = 1
	}
	return status
}

// usageError reports a configuration error and gives exit status 2.
func usageError(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "reference: "+format+"\n", a...)
	return 2
}
