package suites

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	. "github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/profile"
)

var _ = Describe("Reading one user's attributes (GET /{org}/{app}/metadata/user/{username})", Label("read"), Serial, func() {
	var user string
	BeforeEach(func() {
		user = f().User(0).Name
		f().Clear(user)
	})

	It("answers 200 with every attribute as a string map", Req("UA-GET-001"), func() {
		Expect(f().Admin().Put(user, Form("a", "1", "b", "two"))).To(HaveStatus(http.StatusOK))
		r := f().Admin().Get(user)
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(r.Attrs()).To(Equal(map[string]string{"a": "1", "b": "two"}))
	})

	It("answers each user its own attributes with 200, and an emptied user {} right after another user was written", Req("UA-GET-001", "UA-GET-002"), func() {
		other := f().User(1).Name
		f().Clear(other)
		DeferCleanup(func() { f().Clear(other) })
		Expect(f().Admin().Put(user, Form("nickname", "Ann", "only_first", "1"))).To(HaveStatus(http.StatusOK))
		Expect(f().Admin().Put(other, Form("nickname", "Bob", "only_second", "2"))).To(HaveStatus(http.StatusOK))
		Expect(f().Admin().Get(user).Attrs()).To(Equal(map[string]string{"nickname": "Ann", "only_first": "1"}))
		Expect(f().Admin().Get(other).Attrs()).To(Equal(map[string]string{"nickname": "Bob", "only_second": "2"}))
		Expect(f().Admin().Delete(user)).To(HaveStatus(http.StatusOK))
		Expect(f().Admin().Put(other, Form("sign", "hi"))).To(HaveStatus(http.StatusOK))
		r := f().Admin().Get(user)
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(r.Attrs()).To(BeEmpty(), "a user without attributes reads {}, not another user's: %s", r)
	})

	It("answers 200 with data {} for a user without attributes", Req("UA-GET-002", "UA-GET-004"), func() {
		r := f().Admin().Get(user)
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(r.Field("data")).To(Or(BeNil(), Equal(map[string]any{})), "data must be an empty object (or null), never an array: %s", r)
		Expect(r.Has("data")).To(BeTrue(), "%s", r)
	})

	It("answers a user without an account with 200 and data {}, or 404 with a JSON body", Req("UA-GET-003", "UA-GET-004"), func() {
		r := f().Admin().Get(Unknown())
		Expect(r).To(HaveStatus(http.StatusOK, http.StatusNotFound))
		f().Saw(profile.GetUnknownUser, statusText(r), r)
		if r.Has("data") {
			Expect(r.Attrs()).To(BeEmpty())
		}
	})

	It("needs no Content-Type header and answers 200", Req("UA-GET-005"), func() {
		Expect(f().Admin().Put(user, Form("a", "1"))).To(HaveStatus(http.StatusOK))
		r := f().Admin().Raw(http.MethodGet, "/metadata/user/"+user, "", "")
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(r.Attrs()).To(Equal(map[string]string{"a": "1"}))
	})

	It("ignores a Content-Type on a GET and answers 200", Req("UA-GET-005"), func() {
		Expect(f().Admin().Put(user, Form("a", "1"))).To(HaveStatus(http.StatusOK))
		r := f().Admin().Raw(http.MethodGet, "/metadata/user/"+user, "", "application/json")
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(r.Attrs()).To(Equal(map[string]string{"a": "1"}))
		f().Saw(profile.ContentTypeOnBodiless, "ignored", r)
	})

	It("ignores a Content-Type on the other bodiless requests (capacity, DELETE) and answers 200", Req("UA-DEL-001", "UA-CAP-001"), func() {
		Expect(f().Admin().Put(user, Form("a", "1"))).To(HaveStatus(http.StatusOK))
		c := f().Admin()
		r := c.Raw(http.MethodGet, "/metadata/user/capacity", "", "application/json")
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(c.Raw(http.MethodDelete, "/metadata/user/"+user, "", "application/json")).To(HaveStatus(http.StatusOK))
		f().Saw(profile.ContentTypeOnBodiless, "ignored", r)
	})

	It("answers 200 with data {} after the attributes were deleted", Req("UA-GET-006"), func() {
		Expect(f().Admin().Put(user, Form("a", "1"))).To(HaveStatus(http.StatusOK))
		Expect(f().Admin().Delete(user)).To(HaveStatus(http.StatusOK))
		r := f().Admin().Get(user)
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(r.Attrs()).To(BeEmpty())
	})
})
