// Package model is an executable model of the user-attributes API as the
// documents describe it: a second, independent reading of the requirement
// catalogue (fixtures/requirements.yaml) and openapi.yaml, written without
// the reference server. Given the state of a target and a request, it
// says which answers the documents allow and what state follows each; the
// explorer (package explore) drives targets with generated requests and
// holds every answer to it.
//
// The documents leave some things open: the knobs of the profile (D-xx,
// OQ-xx), the size metrics a target may leave undeclared, the margins
// around limits. Where the profile pins nothing, the model allows every
// alternative, remembers which one the target showed, and holds it to
// that choice from then on. A State is therefore a set of worlds, one per
// combination of choices the answers so far allow; it stays small,
// because most choices show in the very answer that makes them.
//
// Every rule carries the requirement IDs that decide it, so a
// disagreement names the requirements broken.
package model

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/target"
)

const mainApp = target.MainApp

// AppConfig is one app of the target as the model needs it.
type AppConfig struct {
	Name string
	// Users are the listed users: they have accounts. Any other name is
	// taken to have none (a target lists the users the suite may use;
	// generated names, zz-conform-…, exist nowhere).
	Users []string
	// Quota is the app's total attribute quota (UA-LIMIT-003).
	Quota    int64
	Disabled bool
}

// Config holds the facts of one target the model judges by.
type Config struct {
	Org     string
	Apps    map[string]AppConfig // by role (target.MainApp, extra_apps keys)
	Profile profile.Profile
	// SizeMetric and BodyMetric as the target declares them; "" judges
	// with the margins of UA-LIMIT-005.
	SizeMetric, BodyMetric string
	UserLimit, BodyLimit   int64
	BatchLimit             int
	// Exclusive: nothing but the requests the model sees writes to the
	// apps, so capacity values are judged exactly. Otherwise other
	// writers may change an app's total at any time, and a capacity is
	// only held to being an integer no smaller than the data the model
	// follows.
	Exclusive bool
	// Concurrent: requests may overlap (a history of several clients), so
	// a PUT may lose the optimistic lock and be answered 409 with the
	// concurrent-update text, changing nothing (UA-CONC-001, -002). A
	// sequential client never sees one.
	Concurrent bool
}

// ConfigOf is the configuration for target t.
func ConfigOf(t *target.Target, exclusive bool) (Config, error) {
	p, err := t.ResolveProfile()
	if err != nil {
		return Config{}, err
	}
	c := Config{Org: t.Org, Apps: map[string]AppConfig{}, Profile: p,
		SizeMetric: t.SizeMetric, BodyMetric: t.BodyMetric,
		UserLimit: t.UserLimit(), BodyLimit: t.BodyLimit(), BatchLimit: t.BatchLimit(), Exclusive: exclusive}
	for _, role := range t.Roles() {
		a := t.AppByRole(role)
		ac := AppConfig{Name: a.Name, Quota: a.AppBytes, Disabled: a.MetadataDisabled}
		if ac.Quota == 0 {
			ac.Quota = DefaultAppBytes
		}
		for _, u := range a.Users {
			ac.Users = append(ac.Users, u.Name)
		}
		c.Apps[role] = ac
	}
	return c, nil
}

// Model judges requests of one target.
type Model struct{ cfg Config }

// New is a model of the target cfg describes.
func New(cfg Config) *Model { return &Model{cfg: cfg} }

// Config is the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// MaxWorlds bounds the worlds a State keeps; beyond it the model drops
// some and says so (Verdict.Dropped).
const MaxWorlds = 64

// State is what the model knows of a target: the worlds its answers so
// far allow.
type State struct{ worlds []world }

// Worlds is how many worlds the state holds.
func (s State) Worlds() int { return len(s.worlds) }

// Key is a canonical text of the state: two states with the same key
// allow the same answers (for checkers that compare states).
func (s State) Key() string {
	keys := make([]string, len(s.worlds))
	for i, w := range s.worlds {
		keys[i] = w.key()
	}
	sort.Strings(keys)
	return strings.Join(keys, "\n")
}

// Init is the state at the start: every listed user has an account and
// attributes the model does not know yet; nothing is known of capacity.
// choices are alternatives the target showed before, which it is held to.
func (m *Model) Init(choices ...Alternative) State {
	w := world{choices: map[string]string{}, apps: map[string]app{}}
	for _, c := range choices {
		w.choices[c.Choice] = c.Alternative
	}
	for role, ac := range m.cfg.Apps {
		a := app{users: map[string]user{}}
		for _, name := range ac.Users {
			a.users[target.FoldName(name)] = user{exists: true}
		}
		w.apps[role] = a
	}
	return State{worlds: []world{w}}
}

// Empty is the state of a target whose listed users hold no attributes
// (emptied and read back), with nothing known of capacity.
func (m *Model) Empty(choices ...Alternative) State {
	s := m.Init(choices...)
	w := s.worlds[0]
	for role, a := range w.apps {
		for name, u := range a.users {
			u.known, u.attrs = true, map[string]string{}
			a.users[name] = u
		}
		w.apps[role] = a
	}
	return s
}

// UserState is the state of one user of one app followed on its own, the
// other users left out: what a checker that splits a history per user
// steps. Requests must address that user only (a batch read naming it
// alone); capacity and the app's quota are not judged in it.
func (m *Model) UserState(role, name string, attrs map[string]string) State {
	ac := m.cfg.Apps[role]
	u := user{exists: slices.ContainsFunc(ac.Users, func(n string) bool { return target.FoldName(n) == target.FoldName(name) })}
	if attrs != nil {
		u.known, u.attrs = true, maps.Clone(attrs)
	}
	w := world{choices: map[string]string{}, apps: map[string]app{role: {users: map[string]user{target.FoldName(name): u}}}}
	return State{worlds: []world{w}}
}

// Verdict is what the model makes of one answer.
type Verdict struct {
	// Problems are the ways the answer breaks the documents; none when the
	// answer is allowed.
	Problems []Problem
	// IDs are the requirements the answer was judged on.
	IDs []string
	// Allowed describes the answers the documents allow, for reports.
	Allowed []string
	// Seen are the alternatives the answer committed the target to.
	Seen []Alternative
	// Dropped counts worlds left out to keep the state bounded (MaxWorlds).
	Dropped int
}

// OK reports whether the answer is allowed.
func (v Verdict) OK() bool { return len(v.Problems) == 0 }

// Broken lists the requirements the problems name, sorted.
func (v Verdict) Broken() []string {
	var out []string
	for _, p := range v.Problems {
		out = appendNew(out, p.IDs...)
	}
	sort.Strings(out)
	return out
}

// Outcomes lists the answers the documents allow r in state s.
func (m *Model) Outcomes(s State, r Request) []Outcome {
	var out []Outcome
	for _, w := range s.worlds {
		out = append(out, m.outcomes(w, r)...)
	}
	return out
}

// Observe judges answer a to request r in state s and returns the state
// that follows. When the answer is not allowed, the state is s unchanged
// and the verdict names the problems.
func (m *Model) Observe(s State, r Request, a Answer) (State, Verdict) {
	outs := m.Outcomes(s, r)
	b, isJSON := readBody(a)
	v := Verdict{Problems: Envelope(a)}
	for _, p := range v.Problems {
		v.IDs = appendNew(v.IDs, p.IDs...)
	}
	if a.Status == 200 {
		v.IDs = appendNew(v.IDs, "UA-GEN-002", "UA-GEN-003", "UA-GEN-004", "UA-GEN-005", "UA-GEN-006")
	} else {
		v.IDs = appendNew(v.IDs, "UA-ERR-001", "UA-GEN-006")
	}
	var next []world
	seenNext := map[string]bool{}
	var closest []Problem
	sameStatus := false
	for _, o := range outs {
		v.Allowed = appendNew(v.Allowed, o.Describe())
		problems := o.match(a, b, isJSON)
		if len(problems) > 0 {
			if o.Status == a.Status && (!sameStatus || len(problems) < len(closest)) {
				closest, sameStatus = problems, true
			}
			continue
		}
		v.IDs = appendNew(v.IDs, o.IDs...)
		v.IDs = appendNew(v.IDs, o.also...)
		w := o.next
		if o.learn != nil {
			w = o.learn(w, b.obj["data"])
		}
		if k := w.key(); !seenNext[k] {
			seenNext[k] = true
			next = append(next, w)
		}
	}
	if len(next) == 0 {
		if !sameStatus {
			// No outcome has the answer's status: the rules of the outcomes
			// decide it, those that are not mere refusals of the content
			// first (a refusal is allowed ahead of them, not instead).
			var ids, refusalIDs []string
			for _, o := range outs {
				if o.refusal {
					refusalIDs = appendNew(refusalIDs, o.IDs...)
				} else {
					ids = appendNew(appendNew(ids, o.IDs...), o.blame...)
				}
			}
			if len(ids) == 0 {
				ids = refusalIDs
			}
			closest = []Problem{problem(ids, "status %d, where the documents answer %s", a.Status, strings.Join(v.Allowed, "; or "))}
		}
		v.Problems = append(v.Problems, closest...)
		return s, v
	}
	if len(v.Problems) > 0 {
		return s, v
	}
	v.Seen = committed(s.worlds, next)
	if len(next) > MaxWorlds {
		v.Dropped = len(next) - MaxWorlds
		next = next[:MaxWorlds]
	}
	return State{worlds: next}, v
}

// committed lists the alternatives every world of after has chosen that
// not every world of before had.
func committed(before, after []world) []Alternative {
	common := func(ws []world) map[string]string {
		out := maps.Clone(ws[0].choices)
		for _, w := range ws[1:] {
			for k, v := range out {
				if w.choices[k] != v {
					delete(out, k)
				}
			}
		}
		return out
	}
	had, has := common(before), common(after)
	for k, v := range had {
		if has[k] == v {
			delete(has, k)
		}
	}
	return sortedAlternatives(has)
}

// Choices lists the alternatives every world of s has committed to: what
// the target showed where the documents allow several answers.
func (s State) Choices() []Alternative {
	if len(s.worlds) == 0 {
		return nil
	}
	return committed([]world{{choices: map[string]string{}}}, s.worlds)
}

// Attributes is what s knows of a user's attributes: the map, when every
// world agrees on it.
func (s State) Attributes(role, name string) (map[string]string, bool) {
	var out map[string]string
	for i, w := range s.worlds {
		u := w.user(role, name)
		if !u.known || (i > 0 && !maps.Equal(out, u.attrs)) {
			return nil, false
		}
		out = u.attrs
	}
	return maps.Clone(out), len(s.worlds) > 0
}

// learnAttrs is the learn hook of a read of an unknown user's attributes.
func learnAttrs(role, name string) func(world, json.RawMessage) world {
	return func(w world, raw json.RawMessage) world {
		got, _, ok := decodeStrings(raw)
		if !ok {
			return w
		}
		u := w.user(role, name)
		u.known, u.attrs = true, got
		return w.withUser(role, name, u)
	}
}

func (m *Model) appKey(role string) string {
	return fmt.Sprintf("%s#%s", m.cfg.Org, m.cfg.Apps[role].Name)
}
