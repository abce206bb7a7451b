// Package profile names the places where the vendor documents disagree
// (the divergences) and the alternatives each one allows. The suite and
// the reference server share these names: a profile pins one alternative
// per knob, the lenient profile accepts every documented one.
package profile

import (
	"fmt"
	"sort"
	"strings"
)

// Knob is one documented disagreement between the vendor's documents.
type Knob string

// The knobs. Their alternatives are listed in Knobs.
const (
	GetUnknownUser          Knob = "get_unknown_user"
	BatchPropertiesRequired Knob = "batch_properties_required"
	PutResponseData         Knob = "put_response_data"
	BatchOverLimitStatus    Knob = "batch_over_limit_status"
	CapacityUserToken       Knob = "capacity_user_token"
	UserTokenGetOtherUser   Knob = "user_token_get_other_user"
	UserTokenDeleteSelf     Knob = "user_token_delete_self"
	ErrorTextStyle          Knob = "error_text_style"
	PutUnknownUserAsAdmin   Knob = "put_unknown_user_as_admin"
	PutJSONStatus           Knob = "put_json_status"
	BatchKeyCase            Knob = "batch_key_case"
	RateLimitStatus         Knob = "rate_limit_status"
	BodyLimitStatus         Knob = "body_limit_status"
	EmptyValue              Knob = "empty_value"
	EmptyPut                Knob = "empty_put"
	BatchMiss               Knob = "batch_miss"
	AvatarKey               Knob = "avatar_key"
	ContentTypeOnBodiless   Knob = "content_type_on_bodiless"
	ErrorLists              Knob = "error_lists"
	EnforceFieldLengths     Knob = "enforce_field_lengths"
)

// Def describes a knob: the divergence it stands for, its alternatives
// (name -> meaning) and the alternative each named profile pins.
type Def struct {
	Knob         Knob
	Divergence   string
	Alternatives map[string]string
	Current      string
	Legacy       string
}

// Knobs lists every knob with its alternatives.
var Knobs = []Def{
	{GetUnknownUser, "D-02", map[string]string{"200": "200 with empty data", "404": "404 whose body carries empty data"}, "200", "404"},
	{BatchPropertiesRequired, "D-03", map[string]string{"optional": "missing or empty properties return every attribute", "required": "missing or empty properties answer 400"}, "optional", "optional"},
	{PutResponseData, "D-05", map[string]string{"request": "data holds the pairs of this request", "full": "data holds the user's whole map after the merge"}, "request", "request"},
	{BatchOverLimitStatus, "D-06", map[string]string{"400": "400 BAD_REQUEST", "403": "403"}, "400", "403"},
	{CapacityUserToken, "D-07", map[string]string{"401": "capacity is admin-only", "200": "users may read capacity"}, "401", "401"},
	{UserTokenGetOtherUser, "D-08", map[string]string{"401": "a user token reads only its own user", "200": "a user token reads any user"}, "401", "200"},
	{UserTokenDeleteSelf, "D-09", map[string]string{"allow": "a user may delete its own attributes", "deny": "only the admin deletes"}, "allow", "allow"},
	{ErrorTextStyle, "D-10", map[string]string{"current": "current texts (error + error_description)", "legacy": "the seed pages' texts (desc)"}, "current", "legacy"},
	{PutUnknownUserAsAdmin, "D-13", map[string]string{"404": "404 for a user without an account", "200": "the write is accepted"}, "404", "404"},
	{PutJSONStatus, "D-14", map[string]string{"415": "a JSON body is refused with 415"}, "415", "415"},
	{BatchKeyCase, "D-17", map[string]string{"as_sent": "data keys echo targets as sent", "lowercase": "data keys are lowercased"}, "as_sent", "as_sent"},
	{RateLimitStatus, "D-18", map[string]string{"429": "429 with Retry-After", "503": "503"}, "429", "429"},
	{BodyLimitStatus, "UA-LIMIT-002", map[string]string{"403": "403 with the size text", "413": "413"}, "403", "403"},
	{EmptyValue, "OQ-02", map[string]string{"stored": "key= stores an empty string", "removed": "key= removes the key"}, "stored", "stored"},
	{EmptyPut, "OQ-01", map[string]string{"200": "an empty PUT changes nothing and answers 200", "400": "an empty PUT answers 400"}, "200", "200"},
	{BatchMiss, "OQ-06", map[string]string{"omitted": "targets without matches are left out of data", "empty": "targets without matches map to {}"}, "omitted", "omitted"},
	{AvatarKey, "D-01", map[string]string{"verbatim": "keys are stored as sent: avatarurl and avatar are two keys, neither renamed"}, "verbatim", "verbatim"},
	{ContentTypeOnBodiless, "D-15", map[string]string{"ignored": "a Content-Type on GET or DELETE is ignored"}, "ignored", "ignored"},
	{ErrorLists, "D-16", map[string]string{"union": "any status one of the documents lists for the operation"}, "union", "union"},
	{EnforceFieldLengths, "UA-PUT-011", map[string]string{"off": "client field conventions are not enforced", "on": "over-long standard fields answer 403 with the column-size text"}, "off", "off"},
}

// Names of the built-in profiles.
const (
	Lenient = "lenient"
	Current = "current"
	Legacy  = "legacy"
)

// Profile pins alternatives for some knobs; an unpinned knob accepts any
// of its alternatives.
type Profile struct {
	Name   string
	pinned map[Knob]string
}

// Named returns a built-in profile.
func Named(name string) (Profile, error) {
	p := Profile{Name: name, pinned: map[Knob]string{}}
	switch name {
	case "", Lenient:
		p.Name = Lenient
	case Current, Legacy:
		for _, d := range Knobs {
			if name == Current {
				p.pinned[d.Knob] = d.Current
			} else {
				p.pinned[d.Knob] = d.Legacy
			}
		}
	default:
		return Profile{}, fmt.Errorf("unknown profile %q: use %s, %s or %s", name, Lenient, Current, Legacy)
	}
	return p, nil
}

// With returns p with the given knobs pinned; it refuses unknown knobs and
// alternatives, naming the valid ones.
func (p Profile) With(overrides map[string]string) (Profile, error) {
	out := Profile{Name: p.Name, pinned: map[Knob]string{}}
	for k, v := range p.pinned {
		out.pinned[k] = v
	}
	for name, alt := range overrides {
		d, ok := Lookup(Knob(name))
		if !ok {
			return Profile{}, fmt.Errorf("unknown knob %q (known: %s)", name, strings.Join(knobNames(), ", "))
		}
		if _, ok := d.Alternatives[alt]; !ok {
			return Profile{}, fmt.Errorf("knob %s has no alternative %q (use one of: %s)", name, alt, strings.Join(d.names(), ", "))
		}
		out.pinned[d.Knob] = alt
	}
	if len(overrides) > 0 {
		out.Name += "+overrides"
	}
	return out, nil
}

// Accepts reports whether alt is allowed for k under p.
func (p Profile) Accepts(k Knob, alt string) bool {
	if pinned, ok := p.pinned[k]; ok {
		return pinned == alt
	}
	d, ok := Lookup(k)
	if !ok {
		return false
	}
	_, ok = d.Alternatives[alt]
	return ok
}

// Allowed lists the alternatives p accepts for k, sorted.
func (p Profile) Allowed(k Knob) []string {
	if pinned, ok := p.pinned[k]; ok {
		return []string{pinned}
	}
	d, _ := Lookup(k)
	return d.names()
}

// Choice is the single alternative a server following p implements: the
// pinned one, or the current documents' one when p leaves k open.
func (p Profile) Choice(k Knob) string {
	if pinned, ok := p.pinned[k]; ok {
		return pinned
	}
	d, _ := Lookup(k)
	return d.Current
}

// Lookup finds a knob's definition.
func Lookup(k Knob) (Def, bool) {
	for _, d := range Knobs {
		if d.Knob == k {
			return d, true
		}
	}
	return Def{}, false
}

func (d Def) names() []string {
	var out []string
	for n := range d.Alternatives {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func knobNames() []string {
	var out []string
	for _, d := range Knobs {
		out = append(out, string(d.Knob))
	}
	return out
}
