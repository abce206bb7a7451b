package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Outcome is one answer the documents allow a request in one world, and
// the world that follows it.
type Outcome struct {
	Status int
	// Error is the documented error answered; nil for a success (and for
	// the older documents' 404 of an unknown user, whose body is a
	// success envelope).
	Error *ErrorKind
	// Style is the style of the error text expected; "" when any text is.
	Style Style
	// Arg fills in the error text (a limit, an app key).
	Arg any
	// Data is what the answer's data must be; nil when it is not judged.
	Data DataRule
	// IDs are the requirements that decide this outcome; also are the
	// further ones an answer matching it keeps (for the count of what was
	// judged, not for blame).
	IDs  []string
	also []string
	// blame are further requirements an answer with another status breaks.
	blame []string
	// refusal: a validation error that changes nothing (400, 403, 413,
	// 415); a server may answer one before it checks the token.
	refusal bool
	next    world
	// learn, when set, is what the answer's body teaches the next world
	// (an unknown user's attributes read whole, a capacity).
	learn func(w world, data json.RawMessage) world
}

// Describe says what the outcome is, for reports.
func (o Outcome) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", o.Status)
	if o.Error != nil {
		b.WriteString(" " + o.Error.Name)
		if t := o.Error.Text(o.Style, o.Arg); t != "" && o.Style != "" {
			fmt.Fprintf(&b, " (%s text %q)", o.Style, t)
		}
	}
	if o.Data != nil {
		b.WriteString(" with data " + o.Data.String())
	}
	fmt.Fprintf(&b, " [%s]", strings.Join(o.IDs, ", "))
	return b.String()
}

// match lists how answer a (its body read as b) differs from o.
func (o Outcome) match(a Answer, b body, isJSON bool) []Problem {
	if a.Status != o.Status {
		return []Problem{problem(o.IDs, "status %d, where the documents answer %s", a.Status, o.Describe())}
	}
	if !isJSON {
		return nil // the envelope says so, once
	}
	var out []Problem
	if o.Error != nil {
		out = append(out, o.errorBody(b)...)
	}
	if o.Data != nil {
		raw, present := b.obj["data"]
		out = append(out, o.Data.check(raw, present, b)...)
	}
	return out
}

// errorBody judges an error answer's envelope and text (UA-ERR-001,
// UA-ERR-002 and the kind's own requirements).
func (o Outcome) errorBody(b body) []Problem {
	out := errorText(b)
	k := o.Error
	if k.TypeRequired && b.str("error") != k.Type {
		out = append(out, problem(k.IDs, "error is %q, not %q", b.str("error"), k.Type))
	}
	if o.Style != "" {
		want := k.Text(o.Style, o.Arg)
		if !Says(b.text, want) {
			ids := k.TextIDs
			if len(ids) == 0 {
				ids = []string{"UA-ERR-002"}
			}
			out = append(out, problem(ids, "error text %q does not say %q (%s texts)", b.text, want, o.Style))
		}
	}
	return out
}

// DataRule is what an answer's data must be.
type DataRule interface {
	check(raw json.RawMessage, present bool, b body) []Problem
	String() string
}

// decodeStrings reads raw as a JSON object of strings: the values that
// are not strings are named, not decoded (UA-PUT-006).
func decodeStrings(raw json.RawMessage) (map[string]string, []string, bool) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || (obj == nil && string(bytes.TrimSpace(raw)) != "null") {
		return nil, nil, false
	}
	out := map[string]string{}
	var typed []string
	for k, v := range obj {
		var s string
		if json.Unmarshal(v, &s) != nil {
			typed = append(typed, fmt.Sprintf("%q is %s", k, v))
			continue
		}
		out[k] = s
	}
	slices.Sort(typed)
	return out, typed, true
}

// attrsRule: data is exactly one of the candidate maps (a user's
// attributes, a PUT's pairs); null stands for an empty one when nullOK.
type attrsRule struct {
	candidates []map[string]string
	// why names, per key, the requirements its value (or absence) rests
	// on; ids are the reading's own requirements.
	why    map[string][]string
	ids    []string
	nullOK bool
	// any: the attributes are unknown; any map of strings is allowed.
	any bool
}

func (r attrsRule) String() string {
	if r.any {
		return "any map of strings"
	}
	var parts []string
	for _, c := range r.candidates {
		parts = append(parts, showMap(c))
	}
	return strings.Join(parts, " or ")
}

func (r attrsRule) check(raw json.RawMessage, present bool, _ body) []Problem {
	if !present {
		return []Problem{problem(r.ids, "data is missing")}
	}
	got, typed, ok := decodeStrings(raw)
	if !ok {
		return []Problem{problem(append(slices.Clone(r.ids), "UA-GET-004"), "data is %s, not an object of strings", cut(raw))}
	}
	var out []Problem
	if len(typed) > 0 {
		out = append(out, problem([]string{"UA-PUT-006"}, "values are not strings: %s", strings.Join(typed, ", ")))
	}
	if string(bytes.TrimSpace(raw)) == "null" && !r.nullOK {
		out = append(out, problem(r.ids, "data is null"))
	}
	if r.any {
		return out
	}
	best := -1
	var bestDiff []string
	for i, c := range r.candidates {
		d := diffMaps(c, got)
		if len(d) == 0 {
			return out
		}
		if best < 0 || len(d) < len(bestDiff) {
			best, bestDiff = i, d
		}
	}
	ids := slices.Clone(r.ids)
	for _, k := range bestDiff {
		ids = appendNew(ids, r.why[k]...)
	}
	return append(out, problem(ids, "data is %s, where the documents answer %s (%s)", showMap(got), r, strings.Join(quoteAll(bestDiff), ", ")))
}

// diffMaps lists the keys on which two maps differ.
func diffMaps(want, got map[string]string) []string {
	var out []string
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			out = append(out, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// batchEntry is what the batch rule knows of one data key.
type batchEntry struct {
	// want is what the entry holds; present whether it must appear (a
	// target without matches is left out or {}, by batch_miss).
	want    map[string]string
	present bool
	miss    bool
	// attrs are all the user's attributes, props the keys asked for (nil:
	// all), why their provenance; loose: the user's attributes are unknown.
	attrs map[string]string
	props []string
	why   map[string][]string
	loose bool
}

// batchRule: data holds exactly the entries the rule wants.
type batchRule struct {
	entries map[string]batchEntry
	// variants maps the other spelling of a key (as sent or lower-cased)
	// to the key.
	variants map[string]string
}

func (r batchRule) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(r.entries)) {
		switch e := r.entries[k]; {
		case e.loose:
			parts = append(parts, fmt.Sprintf("%q:(unknown)", k))
		case e.present:
			parts = append(parts, fmt.Sprintf("%q:%s", k, showMap(e.want)))
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func (r batchRule) check(raw json.RawMessage, present bool, _ body) []Problem {
	if !present {
		return []Problem{problem([]string{"UA-BATCH-002"}, "data is missing")}
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || (obj == nil && string(bytes.TrimSpace(raw)) != "null") {
		return []Problem{problem([]string{"UA-BATCH-002"}, "data is %s, not an object of users", cut(raw))}
	}
	var out []Problem
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		v := obj[k]
		got, typed, ok := decodeStrings(v)
		e, known := r.entries[k]
		switch {
		case !ok:
			out = append(out, problem([]string{"UA-BATCH-002"}, "data[%q] is %s, not an object of strings", k, cut(v)))
			continue
		case len(typed) > 0:
			out = append(out, problem([]string{"UA-PUT-006"}, "data[%q]: values are not strings: %s", k, strings.Join(typed, ", ")))
		}
		switch {
		case !known && r.variants[k] != "":
			out = append(out, problem([]string{"UA-BATCH-010"}, "data is keyed %q, where the target was %q", k, r.variants[k]))
		case !known:
			out = append(out, problem([]string{"UA-BATCH-002"}, "data holds %q, which is not a target", k))
		case e.loose:
		case !e.present && len(got) == 0:
			out = append(out, problem([]string{"UA-BATCH-007"}, "data[%q] is {}, where the target showed before it leaves targets without matches out", k))
		default:
			out = append(out, e.compare(k, got)...)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.entries)) {
		e := r.entries[k]
		if _, ok := obj[k]; ok || !e.present || e.loose {
			continue
		}
		ids := []string{"UA-BATCH-002"}
		if e.miss {
			ids = []string{"UA-BATCH-007"}
		}
		for a := range e.want {
			ids = appendNew(ids, e.why[a]...)
		}
		out = append(out, problem(ids, "data has no %q, where the documents answer %s", k, showMap(e.want)))
	}
	return out
}

// compare lists how an entry differs from what it must hold.
func (e batchEntry) compare(k string, got map[string]string) []Problem {
	var out []Problem
	for _, a := range diffMaps(e.want, got) {
		want, wanted := e.want[a]
		g, has := got[a]
		_, userHas := e.attrs[a]
		switch {
		case !wanted && e.props != nil && !slices.Contains(e.props, a):
			out = append(out, problem([]string{"UA-BATCH-003"}, "data[%q] holds %q, which was not asked for", k, a))
		case !wanted && !userHas:
			ids := []string{"UA-BATCH-003"}
			if e.miss {
				ids = append(ids, "UA-BATCH-007")
			}
			out = append(out, problem(appendNew(ids, e.why[a]...), "data[%q] holds %q=%q, which the user does not have", k, a, g))
		case !has:
			out = append(out, problem(appendNew([]string{"UA-BATCH-002"}, e.why[a]...), "data[%q] lacks %q=%q", k, a, want))
		default:
			out = append(out, problem(appendNew([]string{"UA-BATCH-002"}, e.why[a]...), "data[%q][%q] is %q, not %q", k, a, g, want))
		}
	}
	return out
}

// capacityRule: data is a JSON integer (UA-CAP-001) in [min, max].
type capacityRule struct {
	min, max int64
	ids      []string
}

func (r capacityRule) String() string {
	switch {
	case r.max == maxCapacity && r.min == 0:
		return "an integer ≥ 0"
	case r.max == maxCapacity:
		return fmt.Sprintf("an integer ≥ %d", r.min)
	case r.min == r.max:
		return fmt.Sprint(r.min)
	}
	return fmt.Sprintf("an integer from %d to %d", r.min, r.max)
}

const maxCapacity = int64(1) << 62

func (r capacityRule) check(raw json.RawMessage, present bool, b body) []Problem {
	n, ok := b.integer("data")
	switch {
	case !present:
		return []Problem{problem([]string{"UA-CAP-001"}, "data is missing")}
	case !ok:
		return []Problem{problem([]string{"UA-CAP-001"}, "data %s is not a JSON integer", cut(raw))}
	case n < r.min || n > r.max:
		return []Problem{problem(r.ids, "capacity is %d, where the documents answer %s", n, r)}
	}
	return nil
}

// trueRule: data is the JSON boolean true (UA-DEL-001, -003).
type trueRule struct{ ids []string }

func (trueRule) String() string { return "true" }

func (r trueRule) check(raw json.RawMessage, present bool, _ body) []Problem {
	var v any
	if !present || json.Unmarshal(raw, &v) != nil {
		return []Problem{problem(append(slices.Clone(r.ids), "UA-DEL-003"), "data is missing")}
	}
	switch v {
	case true:
		return nil
	case false:
		return []Problem{problem(r.ids, "data is false: the delete says it failed")}
	}
	return []Problem{problem([]string{"UA-DEL-003"}, "data is %s, not a JSON boolean", cut(raw))}
}

// notFoundRule: the older documents' 404 of a user without an account
// carries the success envelope with empty data; an error envelope is
// tolerated too (UA-GET-003).
type notFoundRule struct{ ids []string }

var notFound = notFoundRule{ids: []string{"UA-GET-003"}}

func (notFoundRule) String() string { return "{} or an error envelope" }

func (r notFoundRule) check(raw json.RawMessage, present bool, b body) []Problem {
	if !present {
		if b.text == "" {
			return []Problem{problem(errorIDs, "the 404 has neither data nor an error text")}
		}
		return nil
	}
	got, _, ok := decodeStrings(raw)
	if !ok || len(got) > 0 {
		return []Problem{problem(r.ids, "the 404 of a user without an account carries data %s, not {}", cut(raw))}
	}
	return nil
}

func showMap(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := marshalNoEscape(m)
	return cutString(string(b), 300)
}

func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), err
}

func cut(raw json.RawMessage) string { return cutString(string(raw), 300) }

func cutString(s string, n int) string {
	if len(s) > n {
		return s[:n] + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return s
}

func quoteAll(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprintf("%q", k)
	}
	return out
}
