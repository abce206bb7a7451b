// Package etcdtest runs an etcd cluster inside the process, with etcd's own
// server (go.etcd.io/etcd/server/v3/embed), for tests, benchmarks and local
// trials of the reference's etcd store. Every member listens on 127.0.0.1
// only, keeps its data in a directory of its own, and elects a leader
// within a few hundred milliseconds. Members can be stopped and restarted
// to test what a cluster that loses a member, or its quorum, does.
package etcdtest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// Options say how to start a cluster. The zero value starts three members
// on free loopback ports in a temporary directory.
type Options struct {
	// Members is the number of members; default 3.
	Members int
	// Dir holds one data directory per member; default a new temporary
	// directory, removed by Close.
	Dir string
	// BasePort, when set, gives member i the client port BasePort+2i and
	// the peer port BasePort+2i+1; default free ports picked at start.
	BasePort int
	// Fsync keeps etcd's fsync of every write. Off by default: tests stop
	// members, they do not cut the power, and fsync on a shared 2-core
	// machine costs more than the tests themselves.
	Fsync bool
	// StartTimeout bounds the wait for a leader; default 20 s.
	StartTimeout time.Duration
}

// Cluster is a running cluster.
type Cluster struct {
	mu      sync.Mutex
	dir     string
	ownDir  bool
	members []*member
	timeout time.Duration
}

type member struct {
	name         string
	client, peer url.URL
	cfg          *embed.Config
	etcd         *embed.Etcd // nil while stopped
}

// Start starts a cluster and waits until every member is ready.
func Start(o Options) (*Cluster, error) {
	if o.Members == 0 {
		o.Members = 3
	}
	if o.Members < 1 || o.Members > 9 {
		return nil, fmt.Errorf("etcdtest: %d members; give 1 to 9", o.Members)
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 20 * time.Second
	}
	c := &Cluster{dir: o.Dir, timeout: o.StartTimeout}
	if c.dir == "" {
		dir, err := os.MkdirTemp("", "attrconform-etcd-")
		if err != nil {
			return nil, err
		}
		c.dir, c.ownDir = dir, true
	}
	// A port picked free may be taken by someone else before etcd binds
	// it; try again with new ports, a few times.
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = c.start(o, attempt); err == nil {
			return c, nil
		}
		c.stopAll()
		if o.BasePort != 0 || !errors.Is(err, errBind) {
			break
		}
	}
	c.Close()
	return nil, err
}

var errBind = errors.New("address in use")

func (c *Cluster) start(o Options, attempt int) error {
	c.members = nil
	var initial []string
	for i := range o.Members {
		m := &member{name: fmt.Sprintf("m%d", i)}
		var cport, pport int
		if o.BasePort != 0 {
			cport, pport = o.BasePort+2*i, o.BasePort+2*i+1
		} else {
			var err error
			if cport, err = freePort(); err != nil {
				return err
			}
			if pport, err = freePort(); err != nil {
				return err
			}
		}
		m.client = url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", cport)}
		m.peer = url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", pport)}
		initial = append(initial, m.name+"="+m.peer.String())
		c.members = append(c.members, m)
	}
	for _, m := range c.members {
		cfg := embed.NewConfig()
		cfg.Name = m.name
		cfg.Dir = filepath.Join(c.dir, fmt.Sprintf("try%d-%s", attempt, m.name))
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{m.client}, []url.URL{m.client}
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{m.peer}, []url.URL{m.peer}
		cfg.InitialCluster = strings.Join(initial, ",")
		cfg.InitialClusterToken = "attrconform-etcdtest"
		cfg.ClusterState = embed.ClusterStateFlagNew
		// Quick elections: a lost leader is replaced in well under a second.
		cfg.TickMs, cfg.ElectionMs = 25, 250
		cfg.UnsafeNoFsync = !o.Fsync
		cfg.Logger, cfg.LogLevel, cfg.LogOutputs = "zap", "fatal", []string{"stderr"}
		cfg.QuotaBackendBytes = 256 << 20
		m.cfg = cfg
	}
	for _, m := range c.members {
		if err := c.run(m); err != nil {
			return err
		}
	}
	return c.waitReady(c.members)
}

// run starts member m from its configuration (a new member, or a stopped
// one again from its data directory).
func (c *Cluster) run(m *member) error {
	e, err := embed.StartEtcd(m.cfg)
	if err != nil {
		if strings.Contains(err.Error(), "address already in use") {
			return fmt.Errorf("etcdtest: member %s: %w (%v)", m.name, errBind, err)
		}
		return fmt.Errorf("etcdtest: starting member %s: %w", m.name, err)
	}
	m.etcd = e
	return nil
}

func (c *Cluster) waitReady(ms []*member) error {
	deadline := time.After(c.timeout)
	for _, m := range ms {
		select {
		case <-m.etcd.Server.ReadyNotify():
		case err := <-m.etcd.Err():
			return fmt.Errorf("etcdtest: member %s failed: %v", m.name, err)
		case <-deadline:
			return fmt.Errorf("etcdtest: member %s not ready within %v", m.name, c.timeout)
		}
	}
	return nil
}

// Endpoints are the client URLs of every member, stopped ones included.
func (c *Cluster) Endpoints() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.members))
	for i, m := range c.members {
		out[i] = m.client.String()
	}
	return out
}

// Members is the number of members, stopped ones included.
func (c *Cluster) Members() int { return len(c.members) }

// Running reports whether member i runs.
func (c *Cluster) Running(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.members[i].etcd != nil
}

// Leader is the index of the member that leads, or -1 when none of the
// running members knows a leader.
func (c *Cluster) Leader() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, m := range c.members {
		if m.etcd != nil && m.etcd.Server.Leader() != 0 && m.etcd.Server.Leader() == m.etcd.Server.MemberID() {
			return i
		}
	}
	return -1
}

// Stop stops member i as a crash would look to the others: its listeners
// close and it answers nothing more. Stopping a stopped member does nothing.
func (c *Cluster) Stop(i int) {
	c.mu.Lock()
	m := c.members[i]
	e := m.etcd
	m.etcd = nil
	c.mu.Unlock()
	if e != nil {
		e.Close()
	}
}

// Restart starts a stopped member again from its data directory and waits
// until it is ready (which needs a quorum of running members).
func (c *Cluster) Restart(i int) error {
	c.mu.Lock()
	m := c.members[i]
	if m.etcd != nil {
		c.mu.Unlock()
		return nil
	}
	m.cfg.ClusterState = embed.ClusterStateFlagExisting
	err := c.run(m)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.waitReady([]*member{m})
}

func (c *Cluster) stopAll() {
	for i := range c.members {
		c.Stop(i)
	}
}

// Close stops every member and removes the data when Start created its
// directory.
func (c *Cluster) Close() {
	c.stopAll()
	if c.ownDir {
		os.RemoveAll(c.dir)
	}
}

// New starts a cluster for a test and closes it when the test ends; a
// cluster that cannot start fails the test.
func New(t testing.TB, o Options) *Cluster {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	c, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
