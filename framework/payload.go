package framework

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/attrconform/attrconform/model"
)

// The suite measures sizes by the model of the documents, independently
// of any server, and only where the measure is one number.

// Metric is the size metric the target declares, or "" when undeclared.
func (e *Env) Metric() string { return e.Target.SizeMetric }

// Size measures attrs under metric m (target.MetricJSON or MetricPairs);
// it fails the spec where encoders may disagree on the size (characters
// JSON may escape or not).
func Size(m string, attrs map[string]string) int64 {
	GinkgoHelper()
	s := model.UserSize(m, attrs)
	if m == "" || !s.Exact() {
		Failf("framework: the size of %d attributes under size_metric %q is %s bytes, not one number: use characters JSON carries as they are", len(attrs), m, s)
	}
	return s.Min
}

// Fill returns a value for key such that other plus key=value measures
// exactly total under metric m.
func Fill(m string, other map[string]string, key string, total int64) string {
	GinkgoHelper()
	with := map[string]string{key: ""}
	for k, v := range other {
		if k != key {
			with[k] = v
		}
	}
	n := total - Size(m, with)
	if n < 0 {
		Fail(fmt.Sprintf("framework: %d bytes cannot be reached, the other attributes already take %d", total, Size(m, with)))
	}
	return Value(int(n))
}

// Value is an n-byte value of plain characters.
func Value(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b strings.Builder
	b.Grow(n)
	for i := 0; i < n; i++ {
		b.WriteByte(alphabet[i%len(alphabet)])
	}
	return b.String()
}

// Form encodes pairs as a form body in the given key order.
func Form(pairs ...string) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		parts = append(parts, url.QueryEscape(pairs[i])+"="+url.QueryEscape(pairs[i+1]))
	}
	return strings.Join(parts, "&")
}

// FormOf encodes a map as a form body, keys sorted.
func FormOf(attrs map[string]string) string {
	var pairs []string
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		pairs = append(pairs, k, attrs[k])
	}
	return Form(pairs...)
}
