package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/attrconform/attrconform/bundled"
	"github.com/attrconform/attrconform/target"
)

// serve runs the reference as a local emulator until interrupted.
func serve(args []string) int {
	fs := flag.NewFlagSet("runner serve", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on (loopback by default; use :0 for a free port)")
	fixture := fs.String("fixture", "", "tenant file (target-file format: org, app, tokens, users, limits, extra_apps); default the bundled fixtures/reference.yaml")
	profileName := fs.String("profile", "", "profile to follow: current (default) or legacy")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var t *target.Target
	var err error
	if *fixture == "" {
		t, err = bundled.Target()
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
	srv, err := bundled.Start(t, bundled.Options{Addr: *listen})
	if err != nil {
		return usageError("%v", err)
	}
	fmt.Printf("reference serving org %s app %s at %s (Ctrl-C stops it)\n", t.Org, t.App.Name, srv.URL)
	fmt.Println(srv.URL)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	if err := srv.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "runner serve: shutting down: %v\n", err)
		return 1
	}
	return 0
}
