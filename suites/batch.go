package suites

import (
	"fmt"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	. "github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/profile"
)

var _ = Describe("Reading several users (POST /{org}/{app}/metadata/user/get)", Label("batch"), Serial, func() {
	var a, b string
	BeforeEach(func() {
		a, b = f().User(0).Name, f().User(1).Name
		f().Clear(a, b)
		Expect(f().Admin().Put(a, Form("nickname", "Ann", "ext", "x", "mail", "a@example.com"))).To(HaveStatus(http.StatusOK))
		Expect(f().Admin().Put(b, Form("nickname", "Bob", "phone", "42"))).To(HaveStatus(http.StatusOK))
	})

	It("answers 200 with data keyed by username holding only the requested properties the users have", Req("UA-BATCH-003"), func() {
		r := f().Admin().Batch([]string{a, b}, []string{"nickname", "phone"})
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(r.BatchData()).To(Equal(map[string]map[string]string{
			a: {"nickname": "Ann"},
			b: {"nickname": "Bob", "phone": "42"},
		}))
	})

	It("answers 200 with each target's own attributes, none of another's", Req("UA-BATCH-002"), func() {
		r := f().Admin().Batch([]string{a, b}, []string{"nickname", "ext", "mail", "phone"})
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(r.BatchData()).To(Equal(map[string]map[string]string{
			a: {"nickname": "Ann", "ext": "x", "mail": "a@example.com"},
			b: {"nickname": "Bob", "phone": "42"},
		}))
	})

	It("accepts the JSON content type with a charset parameter with 200", Req("UA-BATCH-001"), func() {
		r := f().Admin().BatchBody(fmt.Sprintf(`{"targets":[%q],"properties":["nickname"]}`, a), "application/json;charset=UTF-8")
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(r.BatchData()).To(HaveKeyWithValue(a, map[string]string{"nickname": "Ann"}))
	})

	It("answers missing properties with every attribute (200) or with 400", Req("UA-BATCH-004"), func() {
		r := f().Admin().OffContract("properties left out").Batch([]string{a}, nil)
		Expect(r).To(HaveStatus(http.StatusOK, http.StatusBadRequest))
		if r.Status == http.StatusOK {
			Expect(r.BatchData()).To(Equal(map[string]map[string]string{a: {"nickname": "Ann", "ext": "x", "mail": "a@example.com"}}))
			f().Saw(profile.BatchPropertiesRequired, "optional", r)
		} else {
			f().Saw(profile.BatchPropertiesRequired, "required", r)
		}
	})

	It("answers exactly the batch cap of targets (100 by default) with 200", Req("UA-BATCH-005"), func() {
		targets := append([]string{a}, unknowns(f().Target.BatchLimit()-1)...)
		r := f().Admin().Batch(targets, []string{"nickname"})
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(r.BatchData()).To(HaveKeyWithValue(a, map[string]string{"nickname": "Ann"}))
	})

	It("refuses one target over the cap with 400 (or legacy 403) and the text 'exceed allowed batch size 100'", Req("UA-BATCH-006", "UA-ERR-002"), func() {
		limit := f().Target.BatchLimit()
		targets := append([]string{a}, unknowns(limit)...)
		r := f().Admin().OffContract("one target over the cap").Batch(targets, []string{"nickname"})
		Expect(r).To(HaveStatus(http.StatusBadRequest, http.StatusForbidden))
		f().Saw(profile.BatchOverLimitStatus, statusText(r), r)
		Expect(r.Text()).To(ContainSubstring(fmt.Sprintf("exceed allowed batch size %d", limit)), "%s", r)
	})

	It("answers 200 for unknown targets and targets without the properties, leaving them out or empty", Req("UA-BATCH-007"), func() {
		ghost := Unknown()
		r := f().Admin().Batch([]string{a, ghost, b}, []string{"mail"})
		Expect(r).To(HaveStatus(http.StatusOK))
		data := r.BatchData()
		Expect(data).To(HaveKeyWithValue(a, map[string]string{"mail": "a@example.com"}))
		for _, miss := range []string{ghost, b} {
			if v, has := data[miss]; has {
				Expect(v).To(BeEmpty(), "a target without matches maps to {} at most: %s", r)
				f().Saw(profile.BatchMiss, "empty", r)
			} else {
				f().Saw(profile.BatchMiss, "omitted", r)
			}
		}
	})

	It("answers 200 with data {} when no target matches", Req("UA-BATCH-007", "UA-GEN-002"), func() {
		r := f().Admin().Batch([]string{Unknown(), Unknown()}, []string{"nickname"})
		Expect(r).To(HaveStatus(http.StatusOK))
		data := r.BatchData()
		for k, v := range data {
			Expect(v).To(BeEmpty(), "%s matches nothing: %s", k, r)
		}
	})

	DescribeTable("refuses a malformed body with 400",
		func(body string) {
			r := f().Admin().OffContract("a malformed batch body").BatchBody(body, "application/json")
			Expect(r).To(HaveStatus(http.StatusBadRequest))
		},
		Entry("unparsable JSON", Req("UA-BATCH-008"), `{"targets":[`),
		Entry("targets missing", Req("UA-BATCH-008"), `{"properties":["nickname"]}`),
		Entry("targets empty", Req("UA-BATCH-008"), `{"targets":[],"properties":["nickname"]}`),
		Entry("targets not an array", Req("UA-BATCH-008"), `{"targets":"alice","properties":["nickname"]}`),
		Entry("targets holding a number", Req("UA-BATCH-008"), `{"targets":[42],"properties":["nickname"]}`),
	)

	It("answers 200 with one entry for a username listed twice", Req("UA-BATCH-009"), func() {
		r := f().Admin().Batch([]string{a, a}, []string{"nickname"})
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(r.BatchData()).To(Equal(map[string]map[string]string{a: {"nickname": "Ann"}}))
	})

	It("answers 200 with data keys as the targets were written (or lowercased)", Req("UA-BATCH-010", "UA-NAME-003"), func() {
		upper := strings.ToUpper(a)
		r := f().Admin().Batch([]string{upper}, []string{"nickname"})
		Expect(r).To(HaveStatus(http.StatusOK))
		data := r.BatchData()
		switch {
		case data[upper] != nil:
			Expect(data[upper]).To(Equal(map[string]string{"nickname": "Ann"}))
			f().Saw(profile.BatchKeyCase, "as_sent", r)
		default:
			Expect(data).To(HaveKeyWithValue(strings.ToLower(upper), map[string]string{"nickname": "Ann"}), "the user is found case-insensitively: %s", r)
			f().Saw(profile.BatchKeyCase, "lowercase", r)
		}
	})

	It("reads a JSON body sent with a form content type and answers 200", Req("UA-BATCH-011"), func() {
		r := f().Admin().OffContract("JSON sent as a form").BatchBody(fmt.Sprintf(`{"targets":[%q],"properties":["nickname"]}`, a), "application/x-www-form-urlencoded")
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(r.BatchData()).To(HaveKeyWithValue(a, map[string]string{"nickname": "Ann"}))
	})
})

func unknowns(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = Unknown()
	}
	return out
}
