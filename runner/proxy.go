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
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/attrconform/attrconform/proxy"
	"github.com/attrconform/attrconform/report"
	"github.com/attrconform/attrconform/target"
)

// proxyCmd is `runner proxy`: a validating reverse proxy in front of the
// target (or the bundled reference) judging the traffic of real clients,
// until Ctrl-C or SIGTERM, then the reports.
//
// Exit status: 0 nothing was violated, 1 a requirement was violated
// (with --fail-fast, at the first violation), 2 bad input.
func proxyCmd(args []string) int {
	fs := flag.NewFlagSet("runner proxy", flag.ContinueOnError)
	targetFile := fs.String("target", "", "target file of the endpoint to proxy to; empty starts the bundled reference and proxies to it")
	listen := fs.String("listen", "127.0.0.1:0", "address the proxy listens on; the default picks a free loopback port (an address beyond loopback lets others send traffic through it)")
	reportDir := fs.String("report-dir", "", "directory for requirements.json, requirements.md, requirements.html and junit.xml, written on Ctrl-C or SIGTERM")
	failFast := fs.Bool("fail-fast", false, "stop at the first violation: let the exchange finish, write the reports, exit 1")
	recordFile := fs.String("record", "", "file to write every exchange to, one JSON line each, without tokens (for runner replay)")
	profileName := fs.String("profile", "", "profile overriding the target's: lenient, current or legacy")
	reference := fs.String("reference", refAuto, "without --target, how to run the bundled reference: auto, container or inprocess")
	mutant := fs.String("mutant", "", "without --target, start the bundled reference with this deliberate defect (see internal/mutant)")
	upstreamTimeout := fs.Duration("upstream-timeout", proxy.DefaultUpstreamTimeout, "how long the target may take over one answer, its body read to the end; then the client gets 502 and the exchange is UNANSWERED")
	exclusive := fs.Bool("exclusive", false, "nothing but the traffic through the proxy writes to the target's apps: judge each app's capacity by the states followed too")
	clientTimeout := fs.Duration("client-timeout", time.Minute, "how long a client may take to send one request, its body included; then the proxy drops it (408) and the exchange is UNJUDGED")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *upstreamTimeout <= 0 || *clientTimeout <= 0 {
		return usageError("proxy: --upstream-timeout and --client-timeout take a duration above 0, e.g. 30s")
	}
	if fs.NArg() > 0 {
		return usageError("proxy: unexpected argument %q", fs.Arg(0))
	}
	tgt, where, stop, code := judgedTarget("proxy", *targetFile, *profileName, *reference, *mutant, *reportDir)
	if code != 0 {
		return code
	}
	defer stop()

	violated := make(chan struct{}, 1)
	p, err := proxy.New(proxy.Options{Target: tgt, Where: where, Out: stdout, Redactor: secrets, RecordFile: *recordFile, UpstreamTimeout: *upstreamTimeout, Exclusive: *exclusive, OnViolation: func() {
		if *failFast {
			select {
			case violated <- struct{}{}:
			default:
			}
		}
	}})
	if err != nil {
		return usageError("proxy: %v", err)
	}
	warnShortSecrets()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		p.Close()
		return usageError("proxy: listening on %s: %v", *listen, err)
	}
	// A client is given --client-timeout to send a request, and the time
	// the target may take on top of it to read the answer: neither a
	// client that drips nor one that never reads is held for ever.
	srv := &http.Server{Handler: p, ReadHeaderTimeout: min(10*time.Second, *clientTimeout), ReadTimeout: *clientTimeout,
		WriteTimeout: *clientTimeout + *upstreamTimeout, IdleTimeout: time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	fmt.Fprintf(stdout, "proxy: judging the traffic to %s (profile %s); Ctrl-C writes the reports. Point clients at:\n", where, p.Profile())
	fmt.Fprintln(stdout, "http://"+ln.Addr().String())

	select {
	case <-sig:
		fmt.Fprintln(stdout, "proxy: stopping")
	case <-violated:
		fmt.Fprintln(stdout, "proxy: stopping at the first violation (--fail-fast)")
	case err := <-served:
		fmt.Fprintf(stderr, "runner proxy: %v\n", err)
	}
	// Exchanges in flight finish, and are judged, before the reports.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "runner proxy: shutting down: %v\n", err)
	}
	if err := p.Close(); err != nil {
		fmt.Fprintf(stderr, "runner proxy: writing %s: %v\n", *recordFile, err)
	}
	summary, err := p.Summary()
	if err != nil {
		return usageError("proxy: %v", err)
	}
	stop()
	if err := writeTrafficReports(summary, *reportDir); err != nil {
		return usageError("proxy: %v", err)
	}
	summary.WriteTerminal(stdout)
	return summary.ExitCode()
}

// judgedTarget loads the target of a proxy or replay, or starts the
// bundled reference (with mutant, if named) when there is no target file, and makes the report
// directory. A non-zero code is the exit status of a configuration error,
// already reported.
func judgedTarget(cmd, file, profileName, mode, mutant, reportDir string) (*target.Target, string, func(), int) {
	stop := func() {}
	switch mode {
	case refAuto, refContainer, refInProcess:
	default:
		return nil, "", stop, usageError("%s: --reference %q: use auto, container or inprocess", cmd, mode)
	}
	if mutant != "" && file != "" {
		return nil, "", stop, usageError("%s: --mutant applies to the bundled reference only; leave out --target", cmd)
	}
	tgt, err := loadTarget(options{targetFile: file, profile: profileName})
	if err != nil {
		return nil, "", stop, usageError("%s: %v", cmd, err)
	}
	if reportDir != "" {
		if err := os.MkdirAll(reportDir, 0o755); err != nil {
			return nil, "", stop, usageError("%s: report dir: %v", cmd, err)
		}
	}
	where := tgt.BaseURL
	if file == "" {
		opts, err := bundledOptions(mutant, 0)
		if err != nil {
			return nil, "", stop, usageError("%s: %v", cmd, err)
		}
		if where, stop, err = startBundled(tgt, mode, "", opts, false); err != nil {
			return nil, "", func() {}, usageError("%s: %v", cmd, err)
		}
	} else if tgt.BaseURL == "" {
		return nil, "", stop, usageError("%s: target file %s: base_url: missing; give the endpoint's address", cmd, file)
	}
	return tgt, secrets.Redact(where), sync.OnceFunc(stop), 0
}

// writeTrafficReports writes the report family of judged traffic.
func writeTrafficReports(s report.Summary, dir string) error {
	if dir == "" {
		return nil
	}
	for _, r := range []struct {
		name  string
		write func(string) error
	}{
		{"requirements.json", s.WriteJSON},
		{"requirements.md", s.WriteMarkdownFile},
		{"requirements.html", s.WriteHTMLFile},
		{"junit.xml", s.WriteJUnitFile},
	} {
		if err := r.write(filepath.Join(dir, r.name)); err != nil {
			return fmt.Errorf("writing %s: %w", r.name, err)
		}
	}
	fmt.Fprintf(stdout, "reports: %s\n", strings.Join([]string{"requirements.json", "requirements.md", "requirements.html", "junit.xml"}, ", ")+" in "+dir)
	return nil
}
