package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/attrconform/attrconform/internal/bundled"
	"github.com/attrconform/attrconform/reference"
)

// Preflight checks every node: a target listing a node that does not
// answer stops before any spec, naming the node.
func TestPreflightChecksEveryNode(t *testing.T) {
	t.Parallel()
	tg, err := reference.BundledTarget()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := bundled.Start(tg, bundled.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tg.BaseURL = ""
	tg.Nodes = []string{srv.URL, "http://127.0.0.1:1"}
	data, _ := yaml.Marshal(tg)
	file := filepath.Join(t.TempDir(), "target.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	res := runRunner(t, "--target", file)
	if res.code != 2 || !strings.Contains(res.stderr, "preflight: nodes[1] http://127.0.0.1:1 does not answer") {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
}
