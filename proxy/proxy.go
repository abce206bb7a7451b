// Package proxy judges real traffic: a reverse proxy (the standard
// library's httputil.ReverseProxy) passes every exchange between a client
// and an endpoint through unchanged, streaming, and judges it on the side
// with the rules of package judge; it prints each violation as one line,
// records the exchanges without tokens, and sums the traffic up in the
// suite's report family. A record can be replayed against another
// endpoint, whose answers are compared with the recorded ones.
package proxy

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	attrconform "github.com/attrconform/attrconform"
	"github.com/attrconform/attrconform/contract"
	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/judge"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/redact"
	"github.com/attrconform/attrconform/report"
	"github.com/attrconform/attrconform/target"
)

// Options say where the proxy forwards and what it does with what it sees.
type Options struct {
	// Target is the endpoint (its base_url) and what it is held to: its
	// profile, limits, metrics and tokens.
	Target *target.Target
	// Where names the target in reports; default its base URL, redacted.
	Where string
	// Out gets one line per violation, per request that breaks the
	// contract itself, and per request the target did not answer.
	Out io.Writer
	// RecordFile, when set, gets every exchange as a JSON line (Record).
	RecordFile string
	// OnViolation is called after each exchange that violated a
	// requirement, once its lines are printed.
	OnViolation func()
	// Redactor removes secrets from everything the proxy prints, reports
	// and records; it learns every token of the traffic's Authorization
	// headers. Default: one holding the target's secrets.
	Redactor *redact.Redactor
	// UpstreamTimeout bounds each exchange with the target, from sending
	// the request to the end of the answer; default 30 s. A target that
	// does not answer in time is UNANSWERED, and the client gets 502.
	UpstreamTimeout time.Duration
	// Exclusive: nothing but the traffic through the proxy writes to the
	// target's apps, so an app's capacity is judged by state too.
	Exclusive bool
	// Transport reaches the target; default a clone of
	// http.DefaultTransport that leaves Accept-Encoding to the client, so
	// that bodies pass through as the target sent them.
	Transport http.RoundTripper
}

// Proxy is an http.Handler forwarding to the target and judging every
// exchange.
type Proxy struct {
	opts     Options
	base     *url.URL
	contract *contract.Contract
	judge    *judge.Judge
	redactor *redact.Redactor
	ledger   *ledger
	recorder *recorder
	rp       *httputil.ReverseProxy
	upstream http.RoundTripper
	memory   *memory
	follow   *follower
	seq      atomic.Int64
	outMu    sync.Mutex
}

// New builds the proxy for o.Target.
func New(o Options) (*Proxy, error) {
	t := o.Target
	base, err := url.Parse(t.BaseURL)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("base_url %q is not a URL to forward to", t.BaseURL)
	}
	c, err := contract.Load(attrconform.Contract, t.BaseURL)
	if err != nil {
		return nil, err
	}
	p := &Proxy{opts: o, base: base, contract: c, redactor: o.Redactor, ledger: newLedger(), upstream: o.Transport, memory: &memory{free: memoryBytes}}
	if p.opts.UpstreamTimeout <= 0 {
		p.opts.UpstreamTimeout = DefaultUpstreamTimeout
	}
	if p.redactor == nil {
		p.redactor = redact.New(t.Secrets()...)
	}
	if p.judge, err = judge.New(t, c, p.redactor.Redact); err != nil {
		return nil, err
	}
	if p.follow, err = newFollower(t, o.Exclusive, p.redactor.Redact, p.clientPath); err != nil {
		return nil, err
	}
	if p.opts.Out == nil {
		p.opts.Out = io.Discard
	}
	if p.opts.Where == "" {
		p.opts.Where = p.redactor.Redact(base.Redacted())
	}
	if p.upstream == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DisableCompression = true
		p.upstream = tr
	}
	if o.RecordFile != "" {
		if p.recorder, err = createRecorder(o.RecordFile); err != nil {
			return nil, err
		}
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:      func(pr *httputil.ProxyRequest) { pr.SetURL(base) },
		Transport:    roundTripper(p.roundTrip),
		ErrorHandler: p.unanswered,
		// Aborted copies are counted as unread answers instead.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	return p, nil
}

// DefaultUpstreamTimeout is Options.UpstreamTimeout's default.
const DefaultUpstreamTimeout = 30 * time.Second

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type seqKey struct{}

// ServeHTTP forwards r and judges the exchange.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.serve(w, r, int(p.seq.Add(1)))
}

// serve forwards r as exchange number seq.
func (p *Proxy) serve(w http.ResponseWriter, r *http.Request, seq int) {
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), seqKey{}, seq)))
}

// Redact removes every token the proxy knows of from s.
func (p *Proxy) Redact(s string) string { return p.redactor.Redact(s) }

// Profile names the profile the traffic is held to.
func (p *Proxy) Profile() string { return p.judge.Profile().Name }

// Summary is the report of the traffic so far.
func (p *Proxy) Summary() (report.Summary, error) {
	s, err := p.ledger.summary(p.opts.Target, p.contract, p.Profile(), p.opts.Where)
	if err == nil {
		state := p.follow.stats()
		s.Traffic.State = &state
	}
	return s, err
}

// Close closes the record file.
func (p *Proxy) Close() error {
	if p.recorder == nil {
		return nil
	}
	return p.recorder.close()
}

// roundTrip sends the outbound request and wraps the answer's body so
// that the exchange is judged once the client has had all of it.
func (p *Proxy) roundTrip(out *http.Request) (*http.Response, error) {
	seq, _ := out.Context().Value(seqKey{}).(int)
	start := time.Now()
	p.see(out.Header.Get("Authorization"))
	req, err := p.keepRequest(out)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(out.Context(), p.opts.UpstreamTimeout)
	p.follow.begin(seq, out)
	resp, err := p.upstream.RoundTrip(out.WithContext(ctx))
	if err != nil {
		cancel()
		req.release()
		p.follow.drop(seq)
		if st := req.state(); st.err != nil {
			return nil, &clientError{st.err}
		}
		return nil, p.upstreamError(ctx, err)
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// Not the API: the connection is the client's and the target's.
		req.release()
		p.follow.drop(seq)
		resp.Body = upgraded{resp.Body.(io.ReadWriteCloser), cancel}
		return resp, nil
	}
	resp.Body = &capture{rc: resp.Body, kept: &kept{mem: p.memory, expect: resp.ContentLength}, ctx: ctx, done: func(c *capture) {
		p.exchangeDone(seq, start, out, req, resp, c)
		req.release()
		c.kept.release()
		cancel()
	}}
	return resp, nil
}

// upgraded is the connection of a switched protocol, which ends the
// exchange's time limit when closed.
type upgraded struct {
	io.ReadWriteCloser
	cancel context.CancelFunc
}

func (u upgraded) Close() error {
	u.cancel()
	return u.ReadWriteCloser.Close()
}

// upstreamError says why the target gave no answer, or no whole answer,
// naming the proxy's time limit when that is why.
func (p *Proxy) upstreamError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no whole answer within %v (--upstream-timeout): %w", p.opts.UpstreamTimeout, err)
	}
	return err
}

// capture passes an answer's body through, keeping its start, and reports
// once it is closed, read to the end or not.
type capture struct {
	rc   io.ReadCloser
	kept *kept
	ctx  context.Context // the exchange's, with its time limit
	once sync.Once
	done func(*capture)
}

func (c *capture) Read(b []byte) (int, error) {
	n, err := c.rc.Read(b)
	c.kept.add(b[:n])
	c.kept.read(err)
	return n, err
}

func (c *capture) Close() error {
	err := c.rc.Close()
	c.once.Do(func() { c.done(c) })
	return err
}

// exchangeDone judges, prints and records one exchange the target answered.
func (p *Proxy) exchangeDone(seq int, start time.Time, out *http.Request, reqBody *kept, resp *http.Response, c *capture) {
	// The answer is already with the client; a fault in judging must not
	// break its connection. An exchange not judged leaves its users' states
	// in doubt.
	defer p.follow.drop(seq)
	defer func() {
		if r := recover(); r != nil {
			p.print(fmt.Sprintf("HARNESS    #%d %s %s: judging the exchange failed: %v", seq, out.Method, p.clientPath(out), r))
		}
	}()
	p.ledger.count(func(t *report.Traffic) { t.Exchanges++ })
	rb, answer := reqBody.state(), c.kept.state()
	plain := answer.data
	if answer.whole() && strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		if zr, err := gzip.NewReader(bytes.NewReader(plain)); err == nil {
			if unzipped, err := io.ReadAll(io.LimitReader(zr, keptBytes)); err == nil {
				plain = unzipped // judged as the client reads it; passed on as sent
			}
		}
	}
	principal := judge.Identify(p.opts.Target, out.Header.Get("Authorization"))
	rec := p.newRecord(seq, start, out, principal, rb)
	rec.Status, rec.Header = resp.StatusCode, recordedHeader(resp.Header, p.Redact)
	rec.Body = newBody(answer.data, !answer.whole(), p.Redact)
	what := fmt.Sprintf("#%d %s %s as %s", seq, out.Method, p.Redact(p.clientPath(out)), principal)
	switch {
	case answer.err != nil:
		rec.Unanswered = p.Redact(fmt.Sprintf("the answer broke off after %d bytes: %v", answer.size, p.upstreamError(c.ctx, answer.err)))
		p.ledger.count(func(t *report.Traffic) { t.Unanswered++ })
		p.record(rec)
		p.print(fmt.Sprintf("UNANSWERED %s -> %d: %s (a harness problem, not a violation)", what, resp.StatusCode, rec.Unanswered))
		return
	case !answer.ended:
		// The client went away before the end: nothing to judge.
		rec.Unread = true
		p.ledger.count(func(t *report.Traffic) { t.Unread++ })
		p.record(rec)
		return
	case rb.starved || answer.starved || rb.err != nil:
		why := fmt.Sprintf("the proxy was already holding %d MB of other exchanges for judging, so this one passed through unjudged", memoryBytes>>20)
		if rb.err != nil {
			why = (&clientError{rb.err}).Error() + "; not judged"
		}
		p.ledger.count(func(t *report.Traffic) { t.Unjudged++ })
		p.record(rec)
		p.print(fmt.Sprintf("UNJUDGED   %s -> %d: %s", what, resp.StatusCode, why))
		return
	}
	x := evidence.Exchange{
		Method: out.Method, Path: p.clientPath(out), Principal: principal.String(), URL: out.URL.String(), RequestHeader: out.Header,
		RequestBody: string(rb.data), RequestSize: rb.size, RequestCut: rb.over || !rb.ended,
		Status: resp.StatusCode, Header: resp.Header, ResponseBody: string(plain), ResponseCut: answer.over,
		Sent: start, Received: time.Now(),
	}
	v := p.judge.Judge(x)
	shown := x.Shown(p.redactor)
	if rb.whole() && answer.whole() {
		p.follow.end(seq, out, rb.data, model.Answer{Status: x.Status, Header: x.Header, Body: plain, Sent: x.Sent, Received: x.Received}, &v)
	}
	p.ledger.add(seq, v, shown)
	rec.Operation, rec.Violations = v.Operation, v.Violations
	p.record(rec)

	if v.Operation != "" {
		what = fmt.Sprintf("#%d %s %s %s as %s", seq, v.Operation, shown.Method, shown.Path, shown.Principal)
	}
	var lines []string
	if v.ClientFinding != "" {
		lines = append(lines, fmt.Sprintf("CLIENT     %s: the request breaks openapi.yaml (the client's doing, not held against the target): %s", what, v.ClientFinding))
	}
	for _, f := range v.Violations {
		lines = append(lines, fmt.Sprintf("VIOLATION  %s %s -> %d: %s", f.Requirement, what, resp.StatusCode, f.Problem))
	}
	p.print(lines...)
	if len(v.Violations) > 0 && p.opts.OnViolation != nil {
		p.opts.OnViolation()
	}
}

// unanswered reports a request the target did not answer: a harness
// problem, not a violation. The client gets 502, or nothing when it went
// away itself.
func (p *Proxy) unanswered(w http.ResponseWriter, r *http.Request, err error) {
	seq, _ := r.Context().Value(seqKey{}).(int)
	principal := judge.Identify(p.opts.Target, r.Header.Get("Authorization"))
	rec := p.newRecord(seq, time.Now(), r, principal, body{})
	rec.Unanswered = p.Redact(err.Error())
	p.ledger.count(func(t *report.Traffic) { t.Exchanges++ })
	var client *clientError
	switch {
	case errors.As(err, &client):
		// The client's doing: its body stopped coming (or dripped past
		// --client-timeout); there is no exchange to judge.
		rec.Unanswered = ""
		p.ledger.count(func(t *report.Traffic) { t.Unjudged++ })
		p.record(rec)
		p.print(fmt.Sprintf("UNJUDGED   #%d %s %s as %s: %s; not judged", seq, r.Method, p.Redact(r.URL.RequestURI()), principal, err))
		w.WriteHeader(http.StatusRequestTimeout)
		return
	case r.Context().Err() != nil:
		rec.Unanswered, rec.Unread = "", true
		p.ledger.count(func(t *report.Traffic) { t.Unread++ })
		p.record(rec)
		return
	}
	p.ledger.count(func(t *report.Traffic) { t.Unanswered++ })
	p.record(rec)
	p.print(fmt.Sprintf("UNANSWERED #%d %s %s as %s: the target did not answer (a harness problem, not a violation): %s",
		seq, r.Method, p.Redact(r.URL.RequestURI()), principal, rec.Unanswered))
	w.WriteHeader(http.StatusBadGateway)
}

func (p *Proxy) print(lines ...string) {
	if len(lines) == 0 {
		return
	}
	p.outMu.Lock()
	defer p.outMu.Unlock()
	for _, l := range lines {
		fmt.Fprintln(p.opts.Out, p.Redact(l))
	}
}

// clientPath is the request's path and query relative to the target's
// base URL: what the client asked for.
func (p *Proxy) clientPath(r *http.Request) string {
	uri := r.URL.RequestURI()
	if base := strings.TrimSuffix(p.base.EscapedPath(), "/"); base != "" && r.URL.Host == p.base.Host {
		uri = strings.TrimPrefix(uri, base)
	}
	return uri
}

// newRecord is the record of the request r; rb is what was kept of its
// body.
func (p *Proxy) newRecord(seq int, start time.Time, r *http.Request, principal judge.Principal, rb body) Record {
	rec := Record{Seq: seq, Time: start.UTC(), Method: r.Method, Path: p.Redact(p.clientPath(r)), Principal: principal,
		RequestHeader: recordedHeader(r.Header, p.Redact), RequestBody: newBody(rb.data, !rb.whole() && rb.size > 0, p.Redact)}
	path, _, _ := strings.Cut(p.clientPath(r), "?")
	seg := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	if len(seg) == 3 {
		rec.Org, rec.App = seg[0], seg[1]
		for _, role := range p.opts.Target.Roles() {
			if rec.Org == p.opts.Target.Org && p.opts.Target.AppByRole(role).Name == rec.App {
				rec.AppRole = role
			}
		}
	}
	return rec
}

func (p *Proxy) record(rec Record) {
	if p.recorder != nil {
		p.recorder.write(rec)
	}
}

// minSeenToken is the shortest credential of the traffic the proxy learns:
// shorter ones are no secret worth blanking every such word for.
const minSeenToken = 4

// see makes the redactor learn the credentials of an Authorization header.
func (p *Proxy) see(authorization string) {
	_, token, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok {
		token = authorization
	}
	if token = strings.TrimSpace(token); len(token) >= minSeenToken {
		p.redactor.Add(token)
	}
}
