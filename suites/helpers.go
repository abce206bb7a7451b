package suites

import (
	"encoding/json"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/profile"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func statusText(r *framework.Response) string { return fmt.Sprint(r.Status) }

// expectText checks the human error text against the style the profile
// allows: the current documents' text or the seed pages' one (D-10..D-12).
// The comparison is a case-insensitive substring, as clients match it.
// Where both wordings match (some texts are the same in both), the style
// the profile accepts is the one recorded.
func expectText(r *framework.Response, current, legacy string) {
	GinkgoHelper()
	text := r.Text()
	Expect(text).NotTo(BeEmpty(), "an error names its reason in error_description or desc: %s", r)
	var matched []string
	if containsFold(text, current) {
		matched = append(matched, "current")
	}
	if containsFold(text, legacy) {
		matched = append(matched, "legacy")
	}
	if len(matched) == 0 {
		Fail(fmt.Sprintf("error text %q is neither the current %q nor the legacy %q\n  exchange: %s", text, current, legacy, r))
	}
	style := matched[0]
	for _, m := range matched {
		if env().Profile.Accepts(profile.ErrorTextStyle, m) {
			style = m
			break
		}
	}
	env().Saw(profile.ErrorTextStyle, style, r)
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// operation is one of the five operations with a typical request, called
// through a caller for a user.
type operation struct {
	name string
	call func(c framework.Caller, user string) *framework.Response
}

// operations are the five operations: PUT, GET, batch, capacity, DELETE.
var operations = []operation{
	{"PUT", func(c framework.Caller, user string) *framework.Response {
		return c.Put(user, framework.Form("a", "1"))
	}},
	{"GET", func(c framework.Caller, user string) *framework.Response { return c.Get(user) }},
	{"batch", func(c framework.Caller, user string) *framework.Response {
		return c.Batch([]string{user}, []string{"a"})
	}},
	{"capacity", func(c framework.Caller, _ string) *framework.Response { return c.Capacity() }},
	{"DELETE", func(c framework.Caller, user string) *framework.Response { return c.Delete(user) }},
}

// everyOperation calls each of the five operations once through c, for
// user, in the order of operations.
func everyOperation(c framework.Caller, user string) []*framework.Response {
	GinkgoHelper()
	out := make([]*framework.Response, len(operations))
	for i, op := range operations {
		out[i] = op.call(c, user)
	}
	return out
}
