// Package bundled starts the reference server as the suite ships it, in
// this process on loopback: the bundled tenant (reference.BundledTarget)
// or another, faithful or with a deliberate defect.
package bundled

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/reference/store"
	"github.com/attrconform/attrconform/target"
)

// Server is a reference server running in this process.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234.
	URL string
	ref *reference.Server
	srv *http.Server
}

// Defect is a deliberate defect of the reference: a change of its
// configuration and, optionally, a wrapper of its handler. The mutants of
// package mutant are Defects; this package does not know them, so that
// what starts the faithful reference links no mutant.
type Defect struct {
	Name  string
	Apply func(cfg *reference.Config) func(http.Handler) http.Handler
}

// Options say how to start the reference.
type Options struct {
	// Addr is the listen address; default 127.0.0.1:0, a free loopback port.
	Addr string
	// Defect, when set, is a deliberate defect to start the reference
	// with (package mutant makes them); nil starts the faithful reference.
	Defect *Defect
	// RaceWindow is the reference's pause between reading a user's version
	// and committing: 0 keeps the default, reference.NoRaceWindow commits
	// at once.
	RaceWindow time.Duration
	// Store holds the data; default a new in-memory store. Close closes it.
	Store store.Store
}

// Start serves t's tenant.
func Start(t *target.Target, o Options) (*Server, error) {
	cfg, err := reference.ConfigFor(t)
	if err != nil {
		return nil, err
	}
	cfg.RaceWindow = o.RaceWindow
	cfg.Store = o.Store
	var wrap func(http.Handler) http.Handler
	if o.Defect != nil {
		wrap = o.Defect.Apply(&cfg)
	}
	ref, err := reference.New(cfg)
	if err != nil {
		return nil, err
	}
	var handler http.Handler = ref
	if wrap != nil {
		handler = wrap(ref)
	}
	addr := o.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		ref.Close()
		return nil, fmt.Errorf("reference: listening on %s: %w", addr, err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), ref: ref,
		srv: &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Printf("reference: %v\n", err)
		}
	}()
	return s, nil
}

// Close stops the server, letting requests in flight finish.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(s.srv.Shutdown(ctx), s.ref.Close())
}

// StartTarget starts the bundled reference and returns the target that
// points at it.
func StartTarget(o Options) (*target.Target, *Server, error) {
	t, err := reference.BundledTarget()
	if err != nil {
		return nil, nil, err
	}
	s, err := Start(t, o)
	if err != nil {
		return nil, nil, err
	}
	t.BaseURL = s.URL
	return t, s, nil
}
