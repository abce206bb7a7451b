package model

import (
	"fmt"
	"unicode/utf8"

	"github.com/attrconform/attrconform/target"
)

// Sizes. The documents count a user's attributes, the app's total and a
// request body in bytes but never say how (OQ-03); a target declares its
// metrics (size_metric, body_metric) or the model judges with margins
// (UA-LIMIT-005). Even a declared JSON metric leaves encoder choices
// open: whether <, > and & (and U+2028, U+2029, \b, \f) are escaped. A
// size is therefore a range, [Min, Max], over those choices.

// Size is a size in bytes known to lie in [Min, Max].
type Size struct{ Min, Max int64 }

func (s Size) add(o Size) Size { return Size{s.Min + o.Min, s.Max + o.Max} }

func (s Size) String() string {
	if s.Exact() {
		return fmt.Sprint(s.Min)
	}
	return fmt.Sprintf("%d to %d", s.Min, s.Max)
}

// Exact reports whether the size is one number.
func (s Size) Exact() bool { return s.Min == s.Max }

// Pairs is the pairs metric: the byte lengths of keys and values summed.
func Pairs(attrs map[string]string) int64 {
	var n int64
	for k, v := range attrs {
		n += int64(len(k) + len(v))
	}
	return n
}

// JSON is the json metric: the byte length of the compact UTF-8 JSON
// object of attrs, over the encoders' choices of escapes; no attributes
// count 0 (UA-CAP-003: an app without attributes reports 0).
func JSON(attrs map[string]string) Size {
	if len(attrs) == 0 {
		return Size{}
	}
	// {"k":"v","k2":"v2"}: braces, 4 quotes and a colon per pair, commas.
	over := int64(2 + 5*len(attrs) + len(attrs) - 1)
	s := Size{over, over}
	for k, v := range attrs {
		s = s.add(jsonString(k)).add(jsonString(v))
	}
	return s
}

// jsonString is the encoded length of s's contents, without its quotes.
func jsonString(s string) Size {
	var out Size
	for _, r := range s {
		lo, hi := runeCost(r)
		out.Min += lo
		out.Max += hi
	}
	return out
}

// runeCost is the fewest and most bytes an encoder of compact UTF-8 JSON
// writes for r inside a string.
func runeCost(r rune) (int64, int64) {
	switch {
	case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t':
		return 2, 2
	case r == '\b' || r == '\f':
		return 2, 6
	case r < 0x20:
		return 6, 6
	case r == '<' || r == '>' || r == '&':
		return 1, 6
	case r == '\u2028' || r == '\u2029':
		return 3, 6
	case r == utf8.RuneError:
		return 3, 6
	}
	n := int64(utf8.RuneLen(r))
	return n, n
}

// UserSize is a user's size under a declared size metric
// (target.MetricJSON or target.MetricPairs). Undeclared, it spans the
// metrics the margins stand for: from pairs to json.
func UserSize(metric string, attrs map[string]string) Size {
	switch metric {
	case target.MetricPairs:
		n := Pairs(attrs)
		return Size{n, n}
	case target.MetricJSON:
		return JSON(attrs)
	}
	return Size{Pairs(attrs), JSON(attrs).Max}
}

// Verdict of a size against a limit.
type fit int

const (
	fits  fit = iota // every allowed measure is within the limit
	over             // every allowed measure is over it
	maybe            // the documents allow either answer
)

// judgeSize compares a size with a limit: exactly under a declared
// metric (over its encoder range), with the margins otherwise.
func judgeSize(declared bool, s Size, limit int64) fit {
	lo, hi := limit, limit
	if !declared {
		lo, hi = MarginBelow(limit), MarginAbove(limit)-1
	}
	switch {
	case s.Max <= lo:
		return fits
	case s.Min > hi:
		return over
	}
	return maybe
}
