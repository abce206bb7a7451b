package report

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Every document the runner writes (requirements.json, the records of
// runner proxy --record, conformance-report.yaml) names its format as a
// Kubernetes object does, with apiVersion and kind, and spells its field
// names in camelCase as Kubernetes and the Gateway API's conformance
// reports do: apiVersion and kind already were, so one convention reads
// the same across every file, and it is the one readers of conformance
// reports know. The files people write (target files, baselines, the
// catalogue) are inputs, not these documents, and keep their keys.
//
// One version names the whole family: a change to the fields of any kind
// bumps it for all, so that the documents of one run agree.
const (
	Group = "attrconform.dev"
	// APIVersion is the format the runner writes: camelCase field names.
	APIVersion = Group + "/v2"
	// APIVersionV1 is the first format, with snake_case field names:
	// requirements.json carried it, record files carried no apiVersion.
	// Readers still accept it (see Upgrade).
	APIVersionV1 = Group + "/v1"
)

// TypeMeta names a document's format.
type TypeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// Upgrade returns a document of kind in the current format: as it is
// when it is in it; upgraded when it is in the first (APIVersionV1, or no
// apiVersion at all: written before the formats were versioned), with
// each field that v1 renames names in its current spelling; else an error
// naming the formats this runner reads.
func Upgrade(data []byte, kind string, v1 map[string]string) ([]byte, error) {
	var tm TypeMeta
	if err := json.Unmarshal(data, &tm); err != nil {
		return nil, err
	}
	switch tm {
	case TypeMeta{APIVersion, kind}:
		return data, nil
	case TypeMeta{}, TypeMeta{APIVersionV1, kind}:
		return upgradeV1(data, kind, v1)
	}
	return nil, fmt.Errorf("format %q kind %q; this runner reads kind %s of %s or %s", tm.APIVersion, tm.Kind, kind, APIVersion, APIVersionV1)
}

// upgradeV1 renames the keys of data that renames lists, at any depth,
// and names the current format. A v1 document's only maps with keys of
// their own are HTTP headers, whose canonical names never equal a v1
// field name.
func upgradeV1(data []byte, kind string, renames map[string]string) ([]byte, error) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers pass through exactly
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			out := make(map[string]any, len(v))
			for k, x := range v {
				if to, ok := renames[k]; ok {
					k = to
				}
				out[k] = walk(x)
			}
			return out
		case []any:
			for i := range v {
				v[i] = walk(v[i])
			}
		}
		return v
	}
	doc = walk(doc)
	if m, ok := doc.(map[string]any); ok {
		m["apiVersion"], m["kind"] = APIVersion, kind
	}
	return json.Marshal(doc)
}
