package target

import (
	"slices"
	"strings"
	"testing"
)

// nodes: lists the nodes of one deployment, beside or instead of base_url.
func TestNodes(t *testing.T) {
	vars := env(map[string]string{"ADMIN": "a-0000001", "ALICE": "b-0000001", "LOBBY": "c-0000001", "BOBPW": "d-0000001", "NODE3": "http://127.0.0.1:8083"})
	withoutBase := strings.Replace(valid, "base_url: http://127.0.0.1:8080\n", "nodes: [http://127.0.0.1:8081, 'http://127.0.0.1:8082/', '${NODE3}']\n", 1)
	tg, err := Parse([]byte(withoutBase), vars)
	if err != nil {
		t.Fatal(err)
	}
	if tg.BaseURL != "http://127.0.0.1:8081" || !slices.Equal(tg.NodeURLs(), []string{"http://127.0.0.1:8081", "http://127.0.0.1:8082/", "http://127.0.0.1:8083"}) {
		t.Fatalf("base_url %q, nodes %v: base_url absent means the first node", tg.BaseURL, tg.NodeURLs())
	}
	beside, err := Parse([]byte(valid+"nodes: [http://127.0.0.1:8081, http://127.0.0.1:8082]\n"), vars)
	if err != nil {
		t.Fatal(err)
	}
	if beside.BaseURL != "http://127.0.0.1:8080" || len(beside.NodeURLs()) != 2 {
		t.Fatalf("beside base_url: %q %v", beside.BaseURL, beside.NodeURLs())
	}
	single, _ := Parse([]byte(valid), vars)
	if !slices.Equal(single.NodeURLs(), []string{"http://127.0.0.1:8080"}) {
		t.Fatalf("without nodes: %v, want base_url alone", single.NodeURLs())
	}
	for doc, want := range map[string]string{
		valid + "nodes: [http://127.0.0.1:8081, '127.0.0.1:8082']\n":         `nodes[1]: "127.0.0.1:8082" is not an http(s) URL`,
		valid + "nodes: [http://127.0.0.1:8081, 'http://127.0.0.1:8081/']\n": "nodes[1]: \"http://127.0.0.1:8081/\" is nodes[0] again",
		valid + "nodes: ['${UNSET_NODE}']\n":                                 "nodes[0]: environment variable UNSET_NODE is not set",
		valid + "nodes: http://127.0.0.1:8081\n":                             "nodes",
	} {
		_, err := Parse([]byte(doc), vars)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want an error containing %q, got %v\nfor:\n%s", want, err, doc)
		}
	}
}
