// Package framework is what the specs in suites/ stand on: the target under
// test, a contract-validating HTTP client per principal, the request
// budget, and helpers that turn what a target answered into verdicts. It
// holds no specs (the separation of the Kubernetes e2e framework).
package framework

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	attrconform "github.com/attrconform/attrconform"
	"github.com/attrconform/attrconform/contract"
	"github.com/attrconform/attrconform/judge"
	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/redact"
	"github.com/attrconform/attrconform/target"
)

// Env is one run's view of the target.
type Env struct {
	Target   *target.Target
	Profile  profile.Profile
	Contract *contract.Contract
	Coverage *contract.Coverage
	// Redactor removes the target's secrets from every message the run
	// makes: spec failures, reports, errors.
	Redactor *redact.Redactor
	http     *http.Client
	// RequestTimeout bounds each request, its answer read to the end
	// (DefaultRequestTimeout unless changed before the run).
	RequestTimeout time.Duration
	budget         *budget
	checker        *contract.Transport // validates requests ahead of a race
	judge          *judge.Judge        // judges every exchange (findings.go)
	findings       findings
	touched        touched
	// run ends when the run stops (stop, Interrupt): every request but
	// the cleanup's is made within it.
	run      context.Context
	stop     context.CancelCauseFunc
	progress progress

	// Disposable: the target is the bundled reference started for the
	// run; nothing else writes to it and its data does not matter.
	Disposable bool
	// ReportDir is the directory of the run's reports, "" when none:
	// specs may leave files there (an exploration's counterexample).
	ReportDir string
}

// NewEnv binds the embedded contract to the target and builds the client
// every spec uses: budget per app and operation -> contract validation
// and the judge's single-exchange rules -> loopback-only transport.
func NewEnv(t *target.Target) (*Env, error) {
	if t.BaseURL == "" && len(t.Nodes) > 0 {
		t.BaseURL = t.Nodes[0]
	}
	if t.BaseURL == "" {
		return nil, fmt.Errorf("target: base_url is empty")
	}
	p, err := t.ResolveProfile()
	if err != nil {
		return nil, err
	}
	c, err := contract.Load(attrconform.Contract, t.BaseURL, t.NodeURLs()...)
	if err != nil {
		return nil, err
	}
	e := &Env{Target: t, Profile: p, Contract: c, Coverage: &contract.Coverage{}, Redactor: redact.New(t.Secrets()...), RequestTimeout: DefaultRequestTimeout}
	if e.judge, err = judge.New(t, c, e.Redactor.Redact); err != nil {
		return nil, err
	}
	e.findings.now(inPreflight)
	e.run, e.stop = context.WithCancelCause(context.Background())
	wire := &http.Transport{
		// No proxy from the environment: traffic goes only where the target says.
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	validating := &contract.Transport{Contract: c, Base: wire, Redact: e.Redactor.Redact, Coverage: e.Coverage, Observe: e.observe}
	e.checker = validating
	e.budget = &budget{next: validating, perSecond: t.Budget(), operation: c.OperationID}
	e.http = &http.Client{
		Transport: e.budget, // each request's context bounds it (RequestTimeout)
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect is an answer to judge, not to follow
		},
	}
	return e, nil
}

var current *Env

// Use makes e the environment of the specs about to run.
func Use(e *Env) { current = e }

// Current is the environment of the running specs.
func Current() *Env {
	if current == nil {
		panic("framework: no target configured; call framework.Use before running the suites")
	}
	return current
}
