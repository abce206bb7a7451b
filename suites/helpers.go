package suites

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/profile"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func statusText(r *framework.Response) string { return fmt.Sprint(r.Status) }

// expectText checks the human error text against the style the profile
// allows: the documented error's text in the current documents or in the
// seed pages (D-10..D-12), arg filled in (a limit, an app key), matched as
// clients match it (model.Says). Where both wordings match (some texts
// are the same in both), the style the profile accepts is the one
// recorded.
func expectText(r *framework.Response, kind model.ErrorKind, arg any) {
	GinkgoHelper()
	text := r.Text()
	Expect(text).NotTo(BeEmpty(), "an error names its reason in error_description or desc: %s", r)
	var matched []string
	for _, style := range model.Styles {
		if model.Says(text, kind.Text(style, arg)) {
			matched = append(matched, string(style))
		}
	}
	if len(matched) == 0 {
		framework.Failf("error text %q is neither the current %q nor the legacy %q\n  exchange: %s", text, kind.Text(model.Current, arg), kind.Text(model.Legacy, arg), r)
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

// sawStatus checks that r's status is one of those knob k chooses between
// and records the one the target showed, failing the spec when the
// profile pins another.
func sawStatus(k profile.Knob, r *framework.Response) {
	GinkgoHelper()
	Expect(r).To(framework.HaveStatus(model.Statuses(k)...))
	env().Saw(k, statusText(r), r)
}

// expectEnvelope checks r against the documents' rules of the envelope
// (model.Envelope, and model.ErrorBody for an error answer to op), as they
// bear on the requirements ids.
func expectEnvelope(r *framework.Response, op model.Op, ids ...string) {
	GinkgoHelper()
	a := r.Answer()
	problems := append(model.Envelope(a), model.ErrorBody(op, a)...)
	for _, p := range problems {
		if slices.ContainsFunc(p.IDs, func(id string) bool { return slices.Contains(ids, id) }) {
			framework.Failf("%s\n  exchange: %s", p, r)
		}
	}
}

// operation is one of the five operations with a typical request for a
// user.
type operation struct {
	name    string
	request func(user string) framework.Request
}

// operations are the five operations: PUT, GET, batch, capacity, DELETE.
var operations = []operation{
	{"PUT", func(user string) framework.Request {
		return framework.Request{Method: http.MethodPut, Path: "/metadata/user/" + url.PathEscape(user), Body: framework.Form("a", "1"), ContentType: "application/x-www-form-urlencoded"}
	}},
	{"GET", func(user string) framework.Request {
		return framework.Request{Method: http.MethodGet, Path: "/metadata/user/" + url.PathEscape(user)}
	}},
	{"batch", func(user string) framework.Request {
		body, _ := json.Marshal(map[string][]string{"targets": {user}, "properties": {"a"}})
		return framework.Request{Method: http.MethodPost, Path: "/metadata/user/get", Body: string(body), ContentType: "application/json"}
	}},
	{"capacity", func(string) framework.Request {
		return framework.Request{Method: http.MethodGet, Path: "/metadata/user/capacity"}
	}},
	{"DELETE", func(user string) framework.Request {
		return framework.Request{Method: http.MethodDelete, Path: "/metadata/user/" + url.PathEscape(user)}
	}},
}

// call sends the operation's request for user through c.
func (op operation) call(c framework.Caller, user string) *framework.Response {
	GinkgoHelper()
	r := op.request(user)
	return c.Raw(r.Method, r.Path, r.Body, r.ContentType)
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
