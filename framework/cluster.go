package framework

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
)

// A target may list the nodes of one deployment (several API servers over
// one store, behind a balancer): `nodes:` in the target file. A Caller
// bound to a node (On) sends there; a spreading Caller (Spread) sends the
// requests of a round to the nodes in turn. What one node acknowledged,
// another may show a little later: the documents promise nothing about
// that delay, so a read on another node is repeated for up to StaleWindow
// and the delay is reported as a note (Staleness). Past the window, what a
// node still does not show counts as not kept.

// StaleWindow bounds how long a node may take to show what another node
// acknowledged, or to agree with the others, before the difference is
// judged.
const StaleWindow = 2 * time.Second

// Nodes are the base URLs of the target's nodes (base_url alone when it
// lists none).
func (e *Env) Nodes() []string { return e.Target.NodeURLs() }

// Clustered reports whether the target lists several nodes.
func (e *Env) Clustered() bool { return len(e.Nodes()) > 1 }

// NeedNodes skips the spec unless the target lists at least n nodes.
func (e *Env) NeedNodes(n int) int {
	GinkgoHelper()
	if have := len(e.Nodes()); have < n {
		Skip(fmt.Sprintf("needs a target of at least %d nodes (nodes: in the target file); this one lists %d", n, have))
	}
	return len(e.Nodes())
}

// On binds the caller to node i of the target (counted modulo the number
// of nodes, so On(round) takes the nodes in turn).
func (c Caller) On(i int) Caller {
	nodes := c.env.Nodes()
	c.base = nodes[((i%len(nodes))+len(nodes))%len(nodes)]
	return c
}

// Spread makes Together send request i of a round to node i (modulo the
// number of nodes): racing writers arrive at different nodes.
func (c Caller) Spread() Caller {
	c.spread = true
	return c
}

// Node is the host the caller's requests go to.
func (c Caller) Node() string {
	if u, err := url.Parse(c.baseURL()); err == nil && u.Host != "" {
		return u.Host
	}
	return c.baseURL()
}

func (c Caller) baseURL() string {
	if c.base != "" {
		return c.base
	}
	return c.env.Target.BaseURL
}

// forRequest is the caller that sends request i of a round.
func (c Caller) forRequest(i int) Caller {
	if c.spread {
		return c.On(i)
	}
	return c
}

// Unavailable reports whether r says the target cannot serve for now (502,
// 503 or 504) rather than that a rate limit refused it (a 503 that names
// a limit, as the documented rate-limit texts do).
func Unavailable(r *Response) bool {
	switch r.Status {
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return true
	case http.StatusServiceUnavailable:
		return !strings.Contains(strings.ToLower(r.Text()), "limit")
	}
	return false
}

// UnavailableError is an answer saying that the target cannot serve for
// now, to a request that nothing retries (one sent outside the budget): a
// spec cannot judge it, so it ends as an ERROR, never a FAIL.
type UnavailableError struct{ Response *Response }

func (u *UnavailableError) Error() string {
	return fmt.Sprintf("the target is unavailable (%d): %s", u.Response.Status, u.Response)
}

// IsUnavailable reports whether err is an UnavailableError.
func IsUnavailable(err error) bool {
	var u *UnavailableError
	return errors.As(err, &u)
}

// Staleness is the tally of a spec's reads on another node than the one
// that acknowledged a write: how many there were, how many did not show it
// at once, and the longest a node took.
type Staleness struct {
	reads, stale int
	worst        time.Duration
	worstNode    string
	unsettled    int
}

// stalePause is the pause between reads of a node that is behind; the
// reads are bounded by StaleWindow, so at most StaleWindow/stalePause+1.
const stalePause = 20 * time.Millisecond

// Read reads user's attributes through c until shows holds of them, for at
// most StaleWindow, and returns the last attributes read: the spec then
// judges them as it would judge any read.
func (s *Staleness) Read(c Caller, user string, shows func(map[string]string) bool) map[string]string {
	GinkgoHelper()
	if !c.env.Clustered() { // one node: no other node to wait for
		return c.Get(user).Attrs()
	}
	start := time.Now()
	s.reads++
	for n := 0; ; n++ {
		attrs := c.Get(user).Attrs()
		if shows(attrs) {
			s.settled(n, time.Since(start), c.Node())
			return attrs
		}
		if time.Since(start) >= StaleWindow {
			s.stale++
			s.unsettled++
			return attrs
		}
		time.Sleep(stalePause)
	}
}

// Capacities reads the app's capacity on every node until all nodes
// answer the same, for at most StaleWindow, and returns the last answer of
// each node in node order.
func (s *Staleness) Capacities(c Caller) []int64 {
	GinkgoHelper()
	start := time.Now()
	s.reads++
	nodes := c.env.Nodes()
	for n := 0; ; n++ {
		got := make([]int64, len(nodes))
		for i := range nodes {
			r := c.On(i).Capacity()
			if r.Status != http.StatusOK {
				Failf("reading capacity on every node: %s", r)
			}
			got[i] = r.Capacity()
		}
		if slices.Min(got) == slices.Max(got) {
			s.settled(n, time.Since(start), "every node")
			return got
		}
		if time.Since(start) >= StaleWindow {
			s.stale++
			s.unsettled++
			return got
		}
		time.Sleep(stalePause)
	}
}

func (s *Staleness) settled(retries int, took time.Duration, node string) {
	if retries == 0 {
		return
	}
	s.stale++
	if took > s.worst {
		s.worst, s.worstNode = took, node
	}
}

// String sums the tally up for reports.
func (s *Staleness) String() string {
	switch {
	case s.reads == 0:
		return "no read on another node"
	case s.stale == 0:
		return fmt.Sprintf("%d reads on other nodes than the writer's, every one showed the acknowledged writes at once", s.reads)
	}
	out := fmt.Sprintf("%d reads on other nodes than the writer's, %d behind at first", s.reads, s.stale)
	if s.worst > 0 {
		out += fmt.Sprintf("; the slowest caught up after %s (%s)", s.worst.Round(time.Millisecond), s.worstNode)
	}
	if s.unsettled > 0 {
		out += fmt.Sprintf("; %d still behind after %s", s.unsettled, StaleWindow)
	}
	return out + " (the documents promise nothing about this delay)"
}
