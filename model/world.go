package model

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/target"
)

// A world is one state the target may be in, with the alternatives it
// has committed to: where the documents leave a choice open (an unpinned
// knob, an undeclared metric, a margin), the model keeps every world the
// target's answers so far allow. Worlds are values: a step returns new
// ones and never changes the one it was given.
type world struct {
	// choices are the alternatives the target showed (or that this world
	// assumes), by choice key (see choiceKey).
	choices map[string]string
	apps    map[string]app
}

// app is one app's state.
type app struct {
	users map[string]user // by folded username
	// capacity is what the model knows of the app's capacity.
	capacity capacityState
}

// user is one user's state: whether it has an account and its
// attributes, with why each key holds its value or lacks one.
type user struct {
	exists bool
	// known is false while the attributes are unknown (before the model
	// saw them emptied or read them whole).
	known bool
	attrs map[string]string
	// why names, per key, the requirements that decide its value (or,
	// for a key the user must not hold, its absence).
	why map[string][]string
}

// capacityState is what the model knows of an app's capacity: the part
// held by users outside its view (base, learned from a read) and, when
// the size metric is undeclared, the capacity read for each state of
// the users it follows (a function of the data: the same data reads the
// same).
type capacityState struct {
	baseKnown bool
	base      int64
	seen      map[string]int64
	// why names the requirements behind the changes since the last read.
	why []string
}

func (w world) clone() world {
	out := world{choices: maps.Clone(w.choices), apps: maps.Clone(w.apps)}
	if out.choices == nil {
		out.choices = map[string]string{}
	}
	return out
}

// withUser returns w with user name of app role set to u.
func (w world) withUser(role, name string, u user) world {
	out := w.clone()
	a := out.apps[role]
	a.users = maps.Clone(a.users)
	if a.users == nil {
		a.users = map[string]user{}
	}
	a.users[target.FoldName(name)] = u
	out.apps[role] = a
	return out
}

// withCapacity returns w with the capacity knowledge of role set to c.
func (w world) withCapacity(role string, c capacityState) world {
	out := w.clone()
	a := out.apps[role]
	a.capacity = c
	out.apps[role] = a
	return out
}

// changed returns w noting that the data of role changed for the
// requirements ids, for the next capacity judgement.
func (w world) changed(role string, ids ...string) world {
	c := w.apps[role].capacity
	c.why = appendNew(slices.Clone(c.why), ids...)
	return w.withCapacity(role, c)
}

// user is the state of name in app role: a listed or created user, or a
// name without an account.
func (w world) user(role, name string) user {
	if u, ok := w.apps[role].users[target.FoldName(name)]; ok {
		return u
	}
	return user{known: true}
}

// choice is the alternative w committed to for key, if any.
func (w world) choice(key string) (string, bool) {
	alt, ok := w.choices[key]
	return alt, ok
}

func (w world) with(key, alt string) world {
	if cur, ok := w.choices[key]; ok && cur == alt {
		return w
	}
	out := w.clone()
	out.choices[key] = alt
	return out
}

// key is a canonical text of the world, to tell worlds apart.
func (w world) key() string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(w.choices)) {
		fmt.Fprintf(&b, "%s=%s;", k, w.choices[k])
	}
	for _, role := range slices.Sorted(maps.Keys(w.apps)) {
		a := w.apps[role]
		fmt.Fprintf(&b, "|%s:%s", role, a.fingerprint())
		c := a.capacity
		fmt.Fprintf(&b, "/cap %v %d", c.baseKnown, c.base)
		for _, f := range slices.Sorted(maps.Keys(c.seen)) {
			fmt.Fprintf(&b, " %q=%d", f, c.seen[f])
		}
	}
	return b.String()
}

// fingerprint is a canonical text of the app's users and attributes.
func (a app) fingerprint() string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(a.users)) {
		u := a.users[name]
		fmt.Fprintf(&b, "%q:%v,%v{", name, u.exists, u.known)
		for _, k := range slices.Sorted(maps.Keys(u.attrs)) {
			fmt.Fprintf(&b, "%q:%q,", k, u.attrs[k])
		}
		b.WriteString("}")
	}
	return b.String()
}

// allKnown reports whether every user of the app the model follows has
// known attributes.
func (a app) allKnown() bool {
	for _, u := range a.users {
		if !u.known {
			return false
		}
	}
	return true
}

// size is the app's data the model follows, under metric.
func (a app) size(metric string) Size {
	var s Size
	for _, u := range a.users {
		s = s.add(UserSize(metric, u.attrs))
	}
	return s
}

func appendNew(list []string, v ...string) []string {
	for _, x := range v {
		if !slices.Contains(list, x) {
			list = append(list, x)
		}
	}
	return list
}

// choice keys: a knob of the profile, or a knob with a context (the error
// text style per kind of error), or a choice only the model names.
func knobKey(k profile.Knob) string { return string(k) }

func styleKey(kind string) string { return string(profile.ErrorTextStyle) + "/" + kind }

// Choices only the model names: the documents leave them open too, but
// no profile knob pins them.
const (
	// duplicateKey: which occurrence of a key sent twice is stored
	// (UA-PUT-012 recommends the first; MAY).
	duplicateKey = "duplicate_key"
	// emptyKey: whether a pair with an empty key is ignored or refuses
	// the whole body with 400 (UA-PUT-003).
	emptyKey = "empty_key"
	// lenientForm: whether a form component that does not decode (a %
	// starting no escape) is decoded leniently by the HTML form rules or
	// taken as sent (UA-PUT-003).
	lenientForm = "lenient_form"
)

var modelChoices = map[string][]string{
	duplicateKey: {"first", "last"},
	emptyKey:     {"ignored", "refused"},
	lenientForm:  {"decoded", "verbatim"},
}

// Alternative is a choice a target showed: a knob (with a context for
// the error text style) and the alternative.
type Alternative struct {
	Choice, Alternative string
}

func (a Alternative) String() string { return a.Choice + "=" + a.Alternative }

func sortedAlternatives(m map[string]string) []Alternative {
	var out []Alternative
	for k, v := range m {
		out = append(out, Alternative{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Choice < out[j].Choice })
	return out
}
