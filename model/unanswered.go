package model

// Unanswered is the state after r when its answer is unknown (a timeout, a
// lost connection, a 5xx): r may have taken effect in any way the
// documents allow, or not at all. A checker of concurrent histories steps
// it for an operation whose outcome it could not see; nothing is learnt
// from a body, and later answers narrow the worlds down again.
func (m *Model) Unanswered(s State, r Request) State {
	var next []world
	seen := map[string]bool{}
	add := func(w world) {
		if k := w.key(); !seen[k] {
			seen[k] = true
			next = append(next, w)
		}
	}
	for _, w := range s.worlds {
		add(w)
		for _, o := range m.outcomes(w, r) {
			add(o.next)
		}
	}
	if len(next) > MaxWorlds {
		next = next[:MaxWorlds]
	}
	return State{worlds: next}
}
