package suites

import (
	"fmt"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/profile"
)

var _ = Describe("Reading several users (POST /{org}/{app}/metadata/user/get)", Label("batch"), Serial, func() {
	var a, b string
	BeforeEach(func() {
		a, b = env().User(0).Name, env().User(1).Name
		env().Clear(a, b)
		Expect(env().Admin().Put(a, framework.Form("nickname", "Ann", "ext", "x", "mail", "a@example.com"))).To(framework.HaveStatus(http.StatusOK))
		Expect(env().Admin().Put(b, framework.Form("nickname", "Bob", "phone", "42"))).To(framework.HaveStatus(http.StatusOK))
	})

	It("answers 200 with data keyed by username holding only the requested properties the users have", framework.Req("UA-BATCH-003"), func() {
		r := env().Admin().Batch([]string{a, b}, []string{"nickname", "phone"})
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.BatchData()).To(Equal(map[string]map[string]string{
			a: {"nickname": "Ann"},
			b: {"nickname": "Bob", "phone": "42"},
		}))
	})

	It("answers 200 with each target's own attributes, none of another's", framework.Req("UA-BATCH-002"), func() {
		r := env().Admin().Batch([]string{a, b}, []string{"nickname", "ext", "mail", "phone"})
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.BatchData()).To(Equal(map[string]map[string]string{
			a: {"nickname": "Ann", "ext": "x", "mail": "a@example.com"},
			b: {"nickname": "Bob", "phone": "42"},
		}))
	})

	It("accepts the JSON content type with a charset parameter with 200", framework.Req("UA-BATCH-001"), func() {
		r := env().Admin().BatchBody(fmt.Sprintf(`{"targets":[%q],"properties":["nickname"]}`, a), "application/json;charset=UTF-8")
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.BatchData()).To(HaveKeyWithValue(a, map[string]string{"nickname": "Ann"}))
	})

	It("answers missing properties with every attribute (200) or with 400", framework.Req("UA-BATCH-004"), func() {
		r := env().Admin().OffContract("properties left out").Batch([]string{a}, nil)
		Expect(r).To(framework.HaveStatus(http.StatusOK, http.StatusBadRequest))
		if r.Status == http.StatusOK {
			Expect(r.BatchData()).To(Equal(map[string]map[string]string{a: {"nickname": "Ann", "ext": "x", "mail": "a@example.com"}}))
			env().Saw(profile.BatchPropertiesRequired, "optional", r)
		} else {
			env().Saw(profile.BatchPropertiesRequired, "required", r)
		}
	})

	It("answers exactly the batch cap of targets (100 by default) with 200", framework.Req("UA-BATCH-005"), func() {
		targets := append([]string{a}, unknowns(env().Target.BatchLimit()-1)...)
		r := env().Admin().Batch(targets, []string{"nickname"})
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.BatchData()).To(HaveKeyWithValue(a, map[string]string{"nickname": "Ann"}))
	})

	It("refuses one target over the cap with 400 (or legacy 403) and the text 'exceed allowed batch size 100'", framework.Req("UA-BATCH-006", "UA-ERR-002"), func() {
		limit := env().Target.BatchLimit()
		targets := append([]string{a}, unknowns(limit)...)
		r := env().Admin().OffContract("one target over the cap").Batch(targets, []string{"nickname"})
		sawStatus(profile.BatchOverLimitStatus, r)
		expectText(r, model.ErrBatchSize, limit)
	})

	It("answers 200 for unknown targets and targets without the properties, leaving them out or empty", framework.Req("UA-BATCH-007"), func() {
		ghost := framework.Unknown()
		r := env().Admin().Batch([]string{a, ghost, b}, []string{"mail"})
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		data := r.BatchData()
		Expect(data).To(HaveKeyWithValue(a, map[string]string{"mail": "a@example.com"}))
		for _, miss := range []string{ghost, b} {
			if v, has := data[miss]; has {
				Expect(v).To(BeEmpty(), "a target without matches maps to {} at most: %s", r)
				env().Saw(profile.BatchMiss, "empty", r)
			} else {
				env().Saw(profile.BatchMiss, "omitted", r)
			}
		}
	})

	It("answers 200 with data {} when no target matches", framework.Req("UA-BATCH-007", "UA-GEN-002"), func() {
		r := env().Admin().Batch([]string{framework.Unknown(), framework.Unknown()}, []string{"nickname"})
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		data := r.BatchData()
		for k, v := range data {
			Expect(v).To(BeEmpty(), "%s matches nothing: %s", k, r)
		}
	})

	DescribeTable("refuses a malformed body with 400",
		func(body string) {
			r := env().Admin().OffContract("a malformed batch body").BatchBody(body, "application/json")
			Expect(r).To(framework.HaveStatus(http.StatusBadRequest))
		},
		Entry("unparsable JSON", framework.Req("UA-BATCH-008"), `{"targets":[`),
		Entry("targets missing", framework.Req("UA-BATCH-008"), `{"properties":["nickname"]}`),
		Entry("targets empty", framework.Req("UA-BATCH-008"), `{"targets":[],"properties":["nickname"]}`),
		Entry("targets not an array", framework.Req("UA-BATCH-008"), `{"targets":"alice","properties":["nickname"]}`),
		Entry("targets holding a number", framework.Req("UA-BATCH-008"), `{"targets":[42],"properties":["nickname"]}`),
	)

	It("answers 200 with one entry for a username listed twice", framework.Req("UA-BATCH-009"), func() {
		r := env().Admin().Batch([]string{a, a}, []string{"nickname"})
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.BatchData()).To(Equal(map[string]map[string]string{a: {"nickname": "Ann"}}))
	})

	It("answers 200 with data keys as the targets were written (or lowercased)", framework.Req("UA-BATCH-010", "UA-NAME-003"), func() {
		upper := strings.ToUpper(a)
		r := env().Admin().Batch([]string{upper}, []string{"nickname"})
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		data := r.BatchData()
		switch {
		case data[upper] != nil:
			Expect(data[upper]).To(Equal(map[string]string{"nickname": "Ann"}))
			env().Saw(profile.BatchKeyCase, "as_sent", r)
		default:
			Expect(data).To(HaveKeyWithValue(strings.ToLower(upper), map[string]string{"nickname": "Ann"}), "the user is found case-insensitively: %s", r)
			env().Saw(profile.BatchKeyCase, "lowercase", r)
		}
	})

	It("reads a JSON body sent with a form content type and answers 200", framework.Req("UA-BATCH-011"), func() {
		r := env().Admin().OffContract("JSON sent as a form").BatchBody(fmt.Sprintf(`{"targets":[%q],"properties":["nickname"]}`, a), "application/x-www-form-urlencoded")
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.BatchData()).To(HaveKeyWithValue(a, map[string]string{"nickname": "Ann"}))
	})
})

func unknowns(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = framework.Unknown()
	}
	return out
}
