package reference

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/attrconform/attrconform/target"
)

// Metric names how a user's attributes are measured against the per-user
// limit and summed into the app's capacity. The documents say only "bytes";
// the reference pins MetricJSON because the newer documents measure the
// request body "as a JSON string", and the same measure for stored data
// keeps one rule for both.
type Metric string

// The metrics, named as a target file names them.
const (
	// MetricJSON is the byte length of the compact UTF-8 JSON object of the
	// map ({"k":"v",...}, no HTML escaping); 0 for an empty map.
	MetricJSON Metric = target.MetricJSON
	// MetricPairs is the sum of the byte lengths of keys and values.
	MetricPairs Metric = target.MetricPairs
)

// Measure is the size of attrs under m: the reference's own reading,
// which its variants (the mutants) share.
func (m Metric) Measure(attrs map[string]string) (int64, error) {
	switch m {
	case MetricJSON:
		if len(attrs) == 0 {
			return 0, nil
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(attrs); err != nil {
			return 0, err
		}
		return int64(buf.Len() - 1), nil // Encode appends a newline
	case MetricPairs:
		var n int64
		for k, v := range attrs {
			n += int64(len(k) + len(v))
		}
		return n, nil
	}
	return 0, fmt.Errorf("reference: unknown size metric %q (use %q or %q)", m, MetricJSON, MetricPairs)
}

// BodyMetric names how a PUT body is measured against the request-body
// limit. The documents measure it "as the equivalent JSON string"
// (UA-LIMIT-002); the reference defaults to the raw bytes, because under the
// json user metric a body over the body limit as JSON is always over the
// per-user limit first.
type BodyMetric string

const (
	// BodyRaw counts the bytes of the body as sent.
	BodyRaw BodyMetric = target.BodyRaw
	// BodyJSON counts the compact JSON object of the request's pairs:
	// a=1&b=2 is measured as {"a":"1","b":"2"}, 17 bytes.
	BodyJSON BodyMetric = target.BodyJSON
)

func (m BodyMetric) check() error {
	if m != BodyRaw && m != BodyJSON {
		return fmt.Errorf("reference: unknown body metric %q (use %q or %q)", m, BodyRaw, BodyJSON)
	}
	return nil
}
