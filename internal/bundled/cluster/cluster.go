// Package cluster starts the reference as a deployment of several nodes
// in this process, each with its own handler, store client and listener,
// over one etcd cluster. It is apart from package bundled so that the
// runner, which starts one node in memory, links no etcd client.
package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/attrconform/attrconform/internal/bundled"
	"github.com/attrconform/attrconform/reference/store/etcdstore"
	"github.com/attrconform/attrconform/target"
)

// Options say how to start several reference nodes over one etcd
// cluster, as a deployment of several API servers over one store.
type Options struct {
	// Nodes is the number of reference servers; default 3.
	Nodes int
	// Endpoints are the etcd cluster's client URLs.
	Endpoints []string
	// Prefix is the etcd key prefix the nodes share; default a fresh one,
	// so that every cluster starts empty.
	Prefix string
	// Timeout bounds each store operation before the node answers 503;
	// default 5 s.
	Timeout time.Duration
	// Defect is applied to every node on its own (each node has its own
	// handler and its own copy of the defect's state).
	Defect *bundled.Defect
	// RaceWindow as in bundled.Options.
	RaceWindow time.Duration
}

// Cluster is reference nodes running in this process, each with its own
// handler, its own store client and its own listener.
type Cluster struct {
	// URLs are the nodes' base URLs.
	URLs   []string
	Prefix string
	nodes  []*bundled.Server
}

// Start serves t's tenant on o.Nodes nodes over the etcd cluster.
func Start(t *target.Target, o Options) (*Cluster, error) {
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Prefix == "" {
		b := make([]byte, 6)
		rand.Read(b)
		o.Prefix = "/attrconform-cluster-" + hex.EncodeToString(b) + "/"
	}
	c := &Cluster{Prefix: o.Prefix}
	for i := range o.Nodes {
		st, err := etcdstore.Open(etcdstore.Options{Endpoints: o.Endpoints, Prefix: o.Prefix, Timeout: o.Timeout})
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("node %d: %w", i, err)
		}
		srv, err := bundled.Start(t, bundled.Options{Defect: o.Defect, RaceWindow: o.RaceWindow, Store: st})
		if err != nil {
			st.Close()
			c.Close()
			return nil, fmt.Errorf("node %d: %w", i, err)
		}
		c.nodes = append(c.nodes, srv)
		c.URLs = append(c.URLs, srv.URL)
	}
	return c, nil
}

// Target is t pointed at the cluster: every node listed, base_url the
// first.
func (c *Cluster) Target(t *target.Target) *target.Target {
	out := *t
	out.Nodes = append([]string(nil), c.URLs...)
	out.BaseURL = c.URLs[0]
	return &out
}

// Close stops every node, letting requests in flight finish.
func (c *Cluster) Close() error {
	var errs []error
	for _, n := range c.nodes {
		errs = append(errs, n.Close())
	}
	c.nodes = nil
	return errors.Join(errs...)
}
