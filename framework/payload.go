package framework

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/attrconform/attrconform/target"
)

// The suite computes sizes itself, independently of any server, and only
// for keys and values that JSON carries without escapes.

// Metric is the size metric the target declares, or "" when undeclared.
func (e *Env) Metric() string { return e.Target.SizeMetric }

// Size measures attrs under metric m (target.MetricJSON or MetricPairs).
func Size(m string, attrs map[string]string) int64 {
	GinkgoHelper()
	if len(attrs) == 0 {
		return 0
	}
	var n int64
	for k, v := range attrs {
		if !plain(k) || !plain(v) {
			Fail(fmt.Sprintf("framework: size of %q=%q is not computed: use [A-Za-z0-9_] only", k, v))
		}
		n += int64(len(k) + len(v))
	}
	if m == target.MetricJSON {
		// {"k":"v","k2":"v2"}: braces, 5 quote/colon bytes per pair, commas.
		n += 2 + 5*int64(len(attrs)) + int64(len(attrs)-1)
	}
	return n
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

func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
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
