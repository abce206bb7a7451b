package explore

import (
	"fmt"
	"slices"
	"strings"

	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/target"
)

// Comparing two targets (Options.Old): every request goes to OLD, then to
// NEW, each judged by its own model as a single target is; in addition,
// where the documents allow several alternatives, NEW must choose the one
// OLD showed. What the model leaves free (timestamps, durations, texts a
// profile leaves open) is no difference: only the alternatives the model
// names (model.Alternative) are compared.

// The names of the two targets in messages.
const (
	oldName = "OLD"
	newName = "NEW"
)

// SameShape reports, as an error naming the first mismatch, whether two
// targets can be sent the same requests: the same app roles and, per
// role, the same listed users, each with a token on both sides or on
// neither. Org, app names, tokens and base URLs may differ; requests are
// mapped by role and user name.
func SameShape(older, newer *target.Target) error {
	if o, n := older.Roles(), newer.Roles(); !slices.Equal(o, n) {
		return fmt.Errorf("the targets have different apps: OLD has the roles %s, NEW %s", strings.Join(o, ", "), strings.Join(n, ", "))
	}
	for _, role := range newer.Roles() {
		o, n := older.AppByRole(role).Users, newer.AppByRole(role).Users
		for _, nu := range n {
			i := slices.IndexFunc(o, func(u target.User) bool { return u.Name == nu.Name })
			switch {
			case i < 0:
				return fmt.Errorf("app role %s: NEW lists the user %q, OLD does not", role, nu.Name)
			case (o[i].Token == "") != (nu.Token == ""):
				return fmt.Errorf("app role %s: user %q has a token on one target only (OLD: %t, NEW: %t)", role, nu.Name, o[i].Token != "", nu.Token != "")
			}
		}
		for _, ou := range o {
			if !slices.ContainsFunc(n, func(u target.User) bool { return u.Name == ou.Name }) {
				return fmt.Errorf("app role %s: OLD lists the user %q, NEW does not", role, ou.Name)
			}
		}
	}
	return nil
}

// Difference is a choice the documents leave open on which NEW showed
// another alternative than OLD: both agree with the model, not with each
// other.
type Difference struct {
	Choice   string
	Old, New string
	// OldWitness and NewWitness are the exchanges that showed each.
	OldWitness, NewWitness Step
	// IDs are the requirements NEW's answer was judged on.
	IDs []string
}

// Divergence is the documents' divergence (D-xx, OQ-xx) behind the
// choice, when a profile knob stands for it; "" for a choice only the
// model names.
func (d Difference) Divergence() string {
	knob, _, _ := strings.Cut(d.Choice, "/") // error_text_style/kind
	if def, ok := profile.Lookup(profile.Knob(knob)); ok {
		return def.Divergence
	}
	return ""
}

// differ finds, among the choices the last answers committed either
// target to, one both targets have committed to with different
// alternatives.
func (x *explorer) differ(seen []model.Alternative, ids []string) *Difference {
	olds, news := choiceMap(x.old.state.Choices()), choiceMap(x.state.Choices())
	for _, a := range seen {
		o, hasOld := olds[a.Choice]
		n, hasNew := news[a.Choice]
		if hasOld && hasNew && o != n {
			return &Difference{Choice: a.Choice, Old: o, New: n, OldWitness: x.old.witness(a.Choice), NewWitness: x.witness(a.Choice), IDs: ids}
		}
	}
	return nil
}

func choiceMap(alts []model.Alternative) map[string]string {
	out := map[string]string{}
	for _, a := range alts {
		out[a.Choice] = a.Alternative
	}
	return out
}
