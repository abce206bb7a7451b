package main

// The cluster figures of `make bench`: PUT and GET throughput of three
// reference nodes over an etcd cluster (three members in this process,
// fsync on, as etcd runs by default) against one node over the in-memory
// store, as a ratio taken in alternating rounds, and the suite's wall time
// against the three nodes (the built runner with a target file listing
// them). All on 127.0.0.1.

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/attrconform/attrconform/internal/bundled/cluster"
	"github.com/attrconform/attrconform/internal/etcdtest"
	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/reference/store"
	"github.com/attrconform/attrconform/reference/store/etcdstore"
	"github.com/attrconform/attrconform/target"
)

func clusterFigures(tgt *target.Target, rounds int, d time.Duration, workers, suiteRuns int) ([]figure, error) {
	etcd, err := etcdtest.Start(etcdtest.Options{Fsync: true})
	if err != nil {
		return nil, err
	}
	defer etcd.Close()
	var nodes []string
	for i := range 3 {
		st, err := etcdstore.Open(etcdstore.Options{Endpoints: etcd.Endpoints(), Prefix: "/bench-throughput/"})
		if err != nil {
			return nil, err
		}
		ref, err := newReference(tgt, st) // rate limit lifted, race window off, users seeded
		if err != nil {
			return nil, fmt.Errorf("node %d: %w", i, err)
		}
		srv := httptest.NewServer(ref)
		defer func() { srv.Close(); ref.Close() }()
		nodes = append(nodes, srv.URL)
	}
	single, err := newReference(tgt, store.NewMemory())
	if err != nil {
		return nil, err
	}
	defer single.Close()
	singleSrv := httptest.NewServer(single)
	defer singleSrv.Close()

	var figures []figure
	for _, o := range ops[:2] { // GET, PUT
		var ratios, clusterRates, singleRates []float64
		for i := range rounds {
			sides := []bool{false, true}
			if i%2 == 1 {
				sides = []bool{true, false}
			}
			for _, onCluster := range sides {
				bases := []string{singleSrv.URL}
				if onCluster {
					bases = nodes
				}
				v, err := rate(bases, tgt.AdminToken, o, workers, d)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", o.name, err)
				}
				if onCluster {
					clusterRates = append(clusterRates, v)
				} else {
					singleRates = append(singleRates, v)
				}
			}
			ratios = append(ratios, clusterRates[i]/singleRates[i])
		}
		f := figure{name: o.name + ": three nodes over etcd / one node in memory requests/s", value: median(ratios), unit: "x",
			detail: fmt.Sprintf("three nodes %.0f/s, one node %.0f/s (medians); %d clients spread over the nodes; per round %s", median(clusterRates), median(singleRates), workers, list(ratios, "%.2f"))}
		fmt.Printf("  %-62s %s\n", f.name, f.format(f.value))
		figures = append(figures, f)
	}

	wall, err := clusterSuiteTime(etcd.Endpoints(), suiteRuns)
	if err != nil {
		return nil, err
	}
	f := figure{name: "suite wall time against three nodes over etcd (built runner, nodes: in the target)", value: median(wall), unit: "s",
		detail: fmt.Sprintf("per run %s s; the reference's vendor-like limits and 10 ms race window, etcd with fsync", list(wall, "%.1f"))}
	fmt.Printf("  %-62s %s\n", f.name, f.format(f.value))
	return append(figures, f), nil
}

// clusterSuiteTime times the built runner against three bundled nodes
// over the etcd cluster, a fresh prefix per run.
func clusterSuiteTime(endpoints []string, runs int) ([]float64, error) {
	root, dir, bin, err := workspace("attrconform-bench-cluster-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tgt, err := reference.BundledTarget()
	if err != nil {
		return nil, err
	}
	var walls []float64
	for i := range runs {
		c, err := cluster.Start(tgt, cluster.Options{Nodes: 3, Endpoints: endpoints})
		if err != nil {
			return nil, err
		}
		data, err := yaml.Marshal(c.Target(tgt))
		if err != nil {
			c.Close()
			return nil, err
		}
		file := filepath.Join(dir, fmt.Sprint("cluster-", i, ".yaml"))
		if err := os.WriteFile(file, data, 0o600); err != nil {
			c.Close()
			return nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		cmd := exec.CommandContext(ctx, bin, "--target", file)
		cmd.Dir = root
		start := time.Now()
		out, err := cmd.CombinedOutput()
		wall := time.Since(start).Seconds()
		cancel()
		c.Close()
		if err != nil {
			return nil, fmt.Errorf("the suite against three nodes: %v\n%s", err, lastLines(string(out), 15))
		}
		walls = append(walls, wall)
	}
	return walls, nil
}
