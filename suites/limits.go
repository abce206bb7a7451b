package suites

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/target"
)

var _ = Describe("Size limits", Label("limits"), Serial, func() {
	var user string
	BeforeEach(func() {
		user = env().User(0).Name
		env().Clear(user)
	})

	// expectUserTooLarge checks a refusal for the per-user limit and that
	// the user's attributes did not change.
	expectUserTooLarge := func(r *framework.Response, before map[string]string) {
		GinkgoHelper()
		Expect(r).To(framework.HaveStatus(http.StatusForbidden))
		expectText(r, model.ErrUserTooLarge, env().Target.UserLimit())
		Expect(env().Admin().Get(user).Attrs()).To(Equal(before), "a refused PUT stores nothing")
	}

	It("accepts a user total exactly at the limit with 200 and refuses one byte more with 403", framework.Req("UA-LIMIT-001", "UA-LIMIT-006"), func() {
		m, limit := env().Metric(), env().Target.UserLimit()
		if m == "" {
			below, above := int(model.MarginBelow(limit)), int(model.MarginAbove(limit))
			framework.Note("mode", fmt.Sprintf("margin: no size_metric declared, so %d bytes of data must pass and %d must fail", below, above))
			Expect(env().Admin().Put(user, framework.Form("k", framework.Value(below-1)))).To(framework.HaveStatus(http.StatusOK))
			env().Clear(user)
			expectUserTooLarge(env().Admin().Put(user, framework.Form("k", framework.Value(above-1))), map[string]string{})
			return
		}
		framework.Note("mode", "exact edge under size_metric "+m)
		over := framework.Fill(m, nil, "k", limit+1)
		expectUserTooLarge(env().Admin().Put(user, framework.Form("k", over)), map[string]string{})
		at := framework.Fill(m, nil, "k", limit)
		Expect(env().Admin().Put(user, framework.Form("k", at))).To(framework.HaveStatus(http.StatusOK))
		Expect(env().Admin().Get(user).Attrs()).To(Equal(map[string]string{"k": at}))
	})

	It("counts the user's total across several PUTs: reaching the limit gets 200, one byte more 403", framework.Req("UA-LIMIT-001", "UA-LIMIT-006"), func() {
		m, limit := env().Metric(), env().Target.UserLimit()
		if m == "" {
			below, above := int(model.MarginBelow(limit)), int(model.MarginAbove(limit))
			framework.Note("mode", "margin: no size_metric declared")
			Expect(env().Admin().Put(user, framework.Form("a", framework.Value(below/2)))).To(framework.HaveStatus(http.StatusOK))
			Expect(env().Admin().Put(user, framework.Form("b", framework.Value(below/2)))).To(framework.HaveStatus(http.StatusOK))
			before := env().Admin().Get(user).Attrs()
			expectUserTooLarge(env().Admin().Put(user, framework.Form("c", framework.Value(above-below+10))), before)
			return
		}
		framework.Note("mode", "exact edge under size_metric "+m)
		first := map[string]string{"a": framework.Value(int(limit / 2))}
		Expect(env().Admin().Put(user, framework.FormOf(first))).To(framework.HaveStatus(http.StatusOK))
		over := framework.Fill(m, first, "b", limit+1)
		expectUserTooLarge(env().Admin().Put(user, framework.Form("b", over)), first)
		at := framework.Fill(m, first, "b", limit)
		Expect(env().Admin().Put(user, framework.Form("b", at))).To(framework.HaveStatus(http.StatusOK))
		full := map[string]string{"a": first["a"], "b": at}
		expectUserTooLarge(env().Admin().Put(user, framework.Form("c", "")), full)
		Expect(env().Admin().Put(user, framework.Form("a", first["a"]))).To(framework.HaveStatus(http.StatusOK), "rewriting a value with the same size stays at the limit")
	})

	It("measures bytes, not characters: multi-byte text over the limit in bytes gets 403", framework.Req("UA-LIMIT-005", "UA-LIMIT-006"), func() {
		limit := env().Target.UserLimit()
		// Each 深 is 3 bytes: the value is under the limit in characters, over
		// it in bytes. It is sent unescaped so the body stays under its own limit.
		value := strings.Repeat("深", int(limit/3)+10)
		expectUserTooLarge(env().Admin().Put(user, "k="+value), map[string]string{})
		Expect(env().Admin().Put(user, "k="+strings.Repeat("深", int(limit/6)))).To(framework.HaveStatus(http.StatusOK))
	})

	It("leaves capacity unchanged after a refused PUT (403)", framework.Req("UA-LIMIT-006", "UA-CAP-004"), func() {
		before := env().Admin().Capacity().Capacity()
		r := env().Admin().Put(user, framework.Form("k", framework.Value(int(env().Target.UserLimit())+100)))
		Expect(r).To(framework.HaveStatus(http.StatusForbidden))
		Expect(env().Admin().Capacity().Capacity()).To(Equal(before))
	})

	Describe("the request body", func() {
		// escaped builds a form body of exactly n raw bytes whose decoded
		// value is about a third as long, so that it stays under the
		// per-user limit while the body reaches the body limit.
		escaped := func(n int64) string {
			body := "k="
			for int64(len(body))+3 <= n {
				body += "%41"
			}
			return body + strings.Repeat("A", int(n-int64(len(body))))
		}

		// bodyOf is a body measuring n bytes under the declared body metric
		// whose pairs stay within the per-user limit, so that the body limit
		// is what the server must judge; or the reason no such body exists.
		bodyOf := func(n int64) (body string, why string) {
			switch env().Target.BodyMetric {
			case target.BodyRaw:
				return escaped(n), ""
			case target.BodyJSON:
				m, userLimit := env().Metric(), env().Target.UserLimit()
				if m == "" {
					return "", fmt.Sprintf("body_metric json: a body of %d bytes as JSON may be over the %d-byte user limit under the undeclared size_metric, so a refusal could be for the user limit", n, userLimit)
				}
				pairs := pairsMeasuring(n)
				if size := framework.Size(m, pairs); size > userLimit {
					return "", fmt.Sprintf("body_metric json: a body of %d bytes as JSON holds a user of at least %d bytes under size_metric %s, over the %d-byte user limit, so the body limit cannot be observed on its own", n, size, m, userLimit)
				}
				return framework.FormOf(pairs), ""
			}
			return "", ""
		}

		It("accepts a body exactly at the body limit (4096 bytes) with 200", framework.Req("UA-LIMIT-002"), func() {
			limit := env().Target.BodyLimit()
			body, why := bodyOf(limit)
			switch {
			case why != "":
				Skip(why)
			case body == "":
				framework.Note("mode", fmt.Sprintf("margin: no body_metric declared, so the body is %d bytes as sent", limit))
				body = escaped(limit)
			default:
				framework.Note("mode", "exact edge: body_metric "+env().Target.BodyMetric)
			}
			Expect(env().Admin().Put(user, body)).To(framework.HaveStatus(http.StatusOK))
			sent, err := url.ParseQuery(body)
			Expect(err).NotTo(HaveOccurred())
			want := map[string]string{}
			for k := range sent {
				want[k] = sent.Get(k)
			}
			Expect(env().Admin().Get(user).Attrs()).To(Equal(want), "the body's pairs are stored")
		})

		It("refuses a body one byte over the body limit with 403 (or 413) and stores nothing", framework.Req("UA-LIMIT-002", "UA-LIMIT-006"), func() {
			limit := env().Target.BodyLimit()
			body, why := bodyOf(limit + 1)
			switch {
			case why != "":
				Skip(why)
			case body == "":
				framework.Note("mode", "margin: no body_metric declared, so the body is over the limit under any measure")
				body = framework.Form("k", framework.Value(int(limit)+100))
			default:
				framework.Note("mode", "exact edge: body_metric "+env().Target.BodyMetric)
			}
			r := env().Admin().Put(user, body)
			sawStatus(profile.BodyLimitStatus, r)
			Expect(env().Admin().Get(user).Attrs()).To(BeEmpty())
		})
	})

	It("refuses a write that would push the app's total over its quota with 403", Label(framework.LabelExtraApp), framework.Req("UA-LIMIT-003", "UA-LIMIT-006"), func() {
		app := env().ExtraApp("small_quota")
		if app.AppBytes == 0 || len(app.Users) < 2 {
			Skip("extra_apps.small_quota needs app_bytes and two users")
		}
		admin := env().AdminOf(app)
		u1, u2 := app.Users[0].Name, app.Users[1].Name
		env().ClearIn(admin, u1, u2)
		DeferCleanup(func() { env().ClearIn(admin, u1, u2) })
		half := app.AppBytes/2 + 10
		Expect(admin.Put(u1, framework.Form("k", framework.Value(int(half))))).To(framework.HaveStatus(http.StatusOK))
		r := admin.Put(u2, framework.Form("k", framework.Value(int(half))))
		Expect(r).To(framework.HaveStatus(http.StatusForbidden))
		expectText(r, model.ErrAppTooLarge, app.AppBytes)
		Expect(admin.Get(u2).Attrs()).To(BeEmpty())
		Expect(admin.Put(u2, framework.Form("k", "small"))).To(framework.HaveStatus(http.StatusOK), "a write that fits the quota still succeeds")
	})
})

// pairsMeasuring returns short pairs k1=1, k2=1, … whose JSON object
// ({"k1":"1",…}) measures exactly n bytes, the last value padded: many
// small pairs make the JSON form long while keys and values stay short.
func pairsMeasuring(n int64) map[string]string {
	GinkgoHelper()
	attrs := map[string]string{}
	for i := 1; ; i++ {
		k := fmt.Sprintf("k%d", i)
		attrs[k] = "1"
		if framework.Size(target.MetricJSON, attrs) <= n {
			continue
		}
		delete(attrs, k)
		if i == 1 {
			Fail(fmt.Sprintf("no pairs measure %d bytes as JSON", n))
		}
		last := fmt.Sprintf("k%d", i-1)
		attrs[last] += framework.Value(int(n - framework.Size(target.MetricJSON, attrs)))
		return attrs
	}
}
