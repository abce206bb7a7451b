package model_test

import (
	"testing"

	"github.com/attrconform/attrconform/target"
)

// A write whose answer was lost may have taken effect or not: a read then
// may show either state, and shows which.
func TestAnUnansweredWriteMayOrMayNotHaveTakenEffect(t *testing.T) {
	m := tenant(t, "lenient", nil)
	base := m.UserState(target.MainApp, "alice", attrs("a", "1"))
	for _, tc := range []struct {
		name  string
		after map[string]string
	}{{"applied", attrs("a", "2", "b", "3")}, {"not applied", attrs("a", "1")}} {
		s := m.Unanswered(base, put(admin, "alice", "a=2&b=3"))
		s = run(t, m, s, step{get(admin, "alice"), ok(tc.after), true, ""})
		if got, known := s.Attributes(target.MainApp, "alice"); !known || len(got) != len(tc.after) {
			t.Errorf("%s: after the read, attributes %v (known %v)", tc.name, got, known)
		}
	}
	s := m.Unanswered(base, del(admin, "alice"))
	run(t, m, s, step{get(admin, "alice"), ok(attrs("a", "3")), false, "UA-GET-001"})
	run(t, m, s, step{get(admin, "alice"), ok(attrs()), true, ""})
	// A read changes nothing, answered or not.
	if got := m.Unanswered(base, get(admin, "alice")); got.Key() != base.Key() {
		t.Errorf("an unanswered read changed the state:\n%s\nwas\n%s", got.Key(), base.Key())
	}
}
