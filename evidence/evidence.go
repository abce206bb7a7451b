// Package evidence holds what a judged run saw and hands to its reports:
// an exchange (one request and its answer), a finding (a requirement one
// exchange broke), an alternative (a profile knob's choice a target
// showed), and the names under which the harness passes them to the
// reports through Ginkgo. The contract, the judge, the harness, the proxy
// and the reports share them without linking one another; the package
// stands on the standard library, profile and redact alone.
package evidence

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/redact"
)

// Exchange is one request and its answer. Whoever makes the exchange (the
// suite's transport, the proxy, the explorer) fills it in whole, for the
// contract and the judge; reports keep it as Shown makes it, and its JSON
// members are what report files carry.
type Exchange struct {
	Method string `json:"method"`
	// Path is the request's path (and query) as reports show it.
	Path string `json:"path"`
	// Node is the host that answered, when the target lists several nodes.
	Node string `json:"node,omitempty"`
	// Principal names who sent it: "admin of chat", "user bob", "no token".
	Principal   string `json:"principal"`
	RequestBody string `json:"requestBody,omitempty"`
	Status      int    `json:"status"`
	// ContentType is the answer's Content-Type as reports show it (Shown
	// takes it from Header).
	ContentType  string `json:"contentType,omitempty"`
	ResponseBody string `json:"responseBody"`

	// What judging needs besides, never written to a report.

	// URL is the whole URL the request went to; RequestHeader its header,
	// credentials included; Header the answer's.
	URL           string      `json:"-"`
	RequestHeader http.Header `json:"-"`
	Header        http.Header `json:"-"`
	// RequestSize counts the bytes of the request body sent. RequestCut:
	// RequestBody holds only the first of them (the body was longer than
	// a judge reads, or not all sent); ResponseCut: ResponseBody holds
	// only the start of the answer.
	RequestSize             int64 `json:"-"`
	RequestCut, ResponseCut bool  `json:"-"`
	// Sent is when the request left, Received when the answer was read
	// to its end; zero when unknown.
	Sent, Received time.Time `json:"-"`
}

// How much of a body a report shows.
const (
	RequestExcerpt  = 300
	ResponseExcerpt = 600
)

// Shown is x as reports show it: secrets redacted, then bodies shortened
// to RequestExcerpt and ResponseExcerpt; what only judging needs is left
// out.
func (x Exchange) Shown(r *redact.Redactor) Exchange {
	ct := x.ContentType
	if x.Header != nil {
		ct = x.Header.Get("Content-Type")
	}
	return Exchange{
		Method: x.Method, Path: r.Redact(x.Path), Node: x.Node, Principal: r.Redact(x.Principal),
		RequestBody: r.Excerpt(x.RequestBody, RequestExcerpt), Status: x.Status,
		ContentType: r.Excerpt(ct, ResponseExcerpt), ResponseBody: r.Excerpt(x.ResponseBody, ResponseExcerpt),
	}
}

// String is the exchange on one line, for messages; it redacts nothing
// (call it on a Shown exchange).
func (x Exchange) String() string {
	on := ""
	if x.Node != "" {
		on = " on " + x.Node
	}
	return fmt.Sprintf("%s %s%s as %s -> %d %s", x.Method, x.Path, on, x.Principal, x.Status, x.ResponseBody)
}

// Finding is a requirement an exchange broke and what was wrong. The
// judge states one per requirement an exchange broke; the suite's
// transport adds where the exchange was made, the exchange as reports
// show it, and how many exchanges there broke the requirement, and the
// reports give the finding a FAIL of its own requirement.
type Finding struct {
	Requirement string `json:"requirement"`
	Problem     string `json:"problem"`
	// In names where the exchange was made: a spec's full text, or the
	// suite's setup or cleanup.
	In       string    `json:"in,omitempty"`
	Exchange *Exchange `json:"exchange,omitempty"`
	// Count is how many exchanges made there broke the requirement; the
	// first is Exchange.
	Count int `json:"count,omitempty"`
}

// Alternative is what a report says about a knob: which alternative the
// target showed and whether the profile accepted it.
type Alternative struct {
	Knob     profile.Knob
	Observed string
	Allowed  []string
}

func (a Alternative) String() string {
	return fmt.Sprintf("%s=%s (profile allows %s)", a.Knob, a.Observed, strings.Join(a.Allowed, "|"))
}

// The names of the report entries in which the harness hands evidence to
// the reports: the exchange of a failed spec, the alternatives a spec saw,
// and the files a spec left in the report directory (a history's
// visualization, relative to it), which the matrix links from the spec's
// requirements.
const (
	EntryExchange    = "exchange"
	EntryAlternative = "alternative"
	EntryArtifact    = "artifact"
)

// The starts of the messages that make a spec's verdict something other
// than its Ginkgo state says.
const (
	// HarnessErrorPrefix starts the failure message of a spec that could
	// not judge the target because the harness or the network failed: an
	// ERROR, not a FAIL.
	HarnessErrorPrefix = "HARNESS ERROR: "
	// DisabledPrefix starts the skip message of a spec turned off by
	// configuration: DISABLED, not SKIP.
	DisabledPrefix = "DISABLED: "
)
