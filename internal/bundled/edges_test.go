package bundled_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/attrconform/attrconform/catalog"
	"github.com/attrconform/attrconform/internal/bundled"
)

// edges mirrors fixtures/edges.yaml.
type edges struct {
	Cases []struct {
		Name         string   `json:"name"`
		Requirements []string `json:"requirements"`
		Steps        []struct {
			Method      string `json:"method"`
			Path        string `json:"path"`
			Body        string `json:"body"`
			BodyBytes   int    `json:"body_bytes"`
			Status      int    `json:"status"`
			Text        string `json:"text"`
			StoredBytes int    `json:"stored_bytes"`
		} `json:"steps"`
	} `json:"cases"`
}

// TestEdgeFixturesHoldAgainstTheBundledReference replays fixtures/edges.yaml,
// in file order, against one bundled reference, so that what the file
// promises (sizes, statuses, texts) stays true.
func TestEdgeFixturesHoldAgainstTheBundledReference(t *testing.T) {
	const dir = "../../fixtures"
	raw, err := os.ReadFile(filepath.Join(dir, "edges.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var file edges
	if err := yaml.UnmarshalStrict(raw, &file); err != nil {
		t.Fatalf("fixtures/edges.yaml: %v", err)
	}
	if len(file.Cases) == 0 {
		t.Fatal("fixtures/edges.yaml holds no cases")
	}
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	tgt, srv, err := bundled.StartTarget(bundled.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	send := func(method, path, contentType string, body []byte) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, tgt.BaseURL+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tgt.AdminToken)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		answer, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(answer)
	}

	for _, c := range file.Cases {
		for _, id := range c.Requirements {
			if _, ok := cat.Get(id); !ok {
				t.Errorf("%s: unknown requirement %s", c.Name, id)
			}
		}
		for i, s := range c.Steps {
			var body []byte
			contentType := ""
			if s.Body != "" {
				if body, err = os.ReadFile(filepath.Join(dir, s.Body)); err != nil {
					t.Fatalf("%s, step %d: %v", c.Name, i+1, err)
				}
				switch filepath.Ext(s.Body) {
				case ".form":
					contentType = "application/x-www-form-urlencoded"
				case ".json":
					contentType = "application/json"
				default:
					t.Fatalf("%s, step %d: %s is neither .form nor .json", c.Name, i+1, s.Body)
				}
			}
			if s.BodyBytes != 0 && len(body) != s.BodyBytes {
				t.Errorf("%s, step %d: %s is %d bytes, the fixture says %d", c.Name, i+1, s.Body, len(body), s.BodyBytes)
			}
			status, answer := send(s.Method, s.Path, contentType, body)
			if status != s.Status || !strings.Contains(answer, s.Text) {
				t.Fatalf("%s, step %d: %s %s answered %d %.300s; the fixture expects %d with %q", c.Name, i+1, s.Method, s.Path, status, answer, s.Status, s.Text)
			}
			if s.StoredBytes != 0 {
				status, answer := send(http.MethodGet, s.Path, "", nil)
				if status != http.StatusOK {
					t.Fatalf("GET %s: %d %.300s", s.Path, status, answer)
				}
				if n := storedBytes(t, answer); n != s.StoredBytes {
					t.Errorf("%s, step %d: the user's attributes measure %d bytes as JSON, the fixture says %d", c.Name, i+1, n, s.StoredBytes)
				}
			}
		}
	}
}

// storedBytes is the length of the compact JSON of the attributes in a
// GET answer's data.
func storedBytes(t *testing.T, answer string) int {
	t.Helper()
	var env struct {
		Data map[string]string `json:"data"`
	}
	if err := json.Unmarshal([]byte(answer), &env); err != nil {
		t.Fatalf("%.300s: %v", answer, err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env.Data); err != nil {
		t.Fatal(err)
	}
	return buf.Len() - 1 // Encode appends a newline
}
