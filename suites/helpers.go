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
func expectText(r *Response, current, legacy string) {
	GinkgoHelper()
	text := r.Text()
	Expect(text).NotTo(BeEmpty(), "an error names its reason in error_description or desc: %s", r)
	switch {
	case containsFold(text, current):
		f().Saw(profile.ErrorTextStyle, "current", r)
	case containsFold(text, legacy):
		f().Saw(profile.ErrorTextStyle, "legacy", r)
	default:
		Fail(fmt.Sprintf("error text %q is neither the current %q nor the legacy %q\n  exchange: %s", text, current, legacy, r))
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
