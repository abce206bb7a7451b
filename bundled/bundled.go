// Package bundled is the reference server as the suite ships it: the
// fixture tenant (fixtures/reference.yaml) and a way to start the server
// from it on loopback.
package bundled

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	attrconform "github.com/attrconform/attrconform"
	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/reference/mutant"
	"github.com/attrconform/attrconform/reference/store"
	"github.com/attrconform/attrconform/target"
)

// Target is the bundled tenant as a target without a base URL.
func Target() (*target.Target, error) {
	t, err := target.Parse(attrconform.ReferenceTarget, func(string) (string, bool) { return "", false })
	if err != nil {
		return nil, fmt.Errorf("bundled fixture: %w", err)
	}
	return t, nil
}

// Config is the reference configuration that serves target t: its apps,
// users and tokens, limits, size metric and profile.
func Config(t *target.Target) (reference.Config, error) {
	p, err := t.ResolveProfile()
	if err != nil {
		return reference.Config{}, err
	}
	return reference.Config{
		Tenant:  t.Tenant(),
		Profile: p,
		Limits: reference.Limits{
			UserBytes:    t.Limits.UserBytes,
			BodyBytes:    t.Limits.BodyBytes,
			BatchTargets: t.Limits.BatchTargets,
		},
		SizeMetric: reference.Metric(t.SizeMetric),
		FaultHooks: t.FaultHooks,
	}, nil
}

// Server is a reference server running in this process.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234.
	URL string
	ref *reference.Server
	srv *http.Server
}

// Options say how to start the reference.
type Options struct {
	// Addr is the listen address; default 127.0.0.1:0, a free loopback port.
	Addr string
	// Mutant names a deliberate defect to start the reference with (see
	// package mutant); empty starts the faithful reference.
	Mutant string
	// RaceWindow is the reference's pause between reading a user's version
	// and committing: 0 keeps the default, reference.NoRaceWindow commits
	// at once.
	RaceWindow time.Duration
	// Store holds the data; default a new in-memory store. Close closes it.
	Store store.Store
}

// Start serves t's tenant.
func Start(t *target.Target, o Options) (*Server, error) {
	cfg, err := Config(t)
	if err != nil {
		return nil, err
	}
	cfg.RaceWindow = o.RaceWindow
	cfg.Store = o.Store
	var wrap func(http.Handler) http.Handler
	if o.Mutant != "" {
		m, err := mutant.Lookup(o.Mutant)
		if err != nil {
			return nil, err
		}
		wrap = m.Apply(&cfg)
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
	t, err := Target()
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
