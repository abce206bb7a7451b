package suites

import (
	"encoding/json"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	. "github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/profile"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func statusText(r *Response) string { return fmt.Sprint(r.Status) }

// expectText checks the human error text against the style the profile
// allows: the current documents' text or the seed pages' one (D-10..D-12).
// The comparison is a case-insensitive substring, as clients match it.
// Where both wordings match (some texts are the same in both), the style
// the profile accepts is the one recorded.
func expectText(r *Response, current, legacy string) {
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
		if f().Profile.Accepts(profile.ErrorTextStyle, m) {
			style = m
			break
		}
	}
	f().Saw(profile.ErrorTextStyle, style, r)
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// everyOperation calls each of the five operations once through c, for
// user: PUT, GET, batch, capacity, DELETE.
func everyOperation(c Caller, user string) []*Response {
	GinkgoHelper()
	out := make([]*Response, 5)
	for op := range out {
		out[op] = everyOperationCall(c, user, op)
	}
	return out
}

// everyOperationCall calls operation op (0 to 4, as in everyOperation).
func everyOperationCall(c Caller, user string, op int) *Response {
	GinkgoHelper()
	switch op {
	case 0:
		return c.Put(user, Form("a", "1"))
	case 1:
		return c.Get(user)
	case 2:
		return c.Batch([]string{user}, []string{"a"})
	case 3:
		return c.Capacity()
	default:
		return c.Delete(user)
	}
}
