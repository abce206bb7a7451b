package suites

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/profile"
)

var _ = Describe("Reading one user's attributes (GET /{org}/{app}/metadata/user/{username})", Label("read"), Serial, func() {
	var user string
	BeforeEach(func() {
		user = env().User(0).Name
		env().Clear(user)
	})

	It("answers 200 with every attribute as a string map", framework.Req("UA-GET-001"), func() {
		Expect(env().Admin().Put(user, framework.Form("a", "1", "b", "two"))).To(framework.HaveStatus(http.StatusOK))
		r := env().Admin().Get(user)
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.Attrs()).To(Equal(map[string]string{"a": "1", "b": "two"}))
	})

	It("answers each user its own attributes with 200, and an emptied user {} right after another user was written", framework.Req("UA-GET-001", "UA-GET-002"), func() {
		other := env().User(1).Name
		env().Clear(other)
		DeferCleanup(func() { env().Clear(other) })
		Expect(env().Admin().Put(user, framework.Form("nickname", "Ann", "only_first", "1"))).To(framework.HaveStatus(http.StatusOK))
		Expect(env().Admin().Put(other, framework.Form("nickname", "Bob", "only_second", "2"))).To(framework.HaveStatus(http.StatusOK))
		Expect(env().Admin().Get(user).Attrs()).To(Equal(map[string]string{"nickname": "Ann", "only_first": "1"}))
		Expect(env().Admin().Get(other).Attrs()).To(Equal(map[string]string{"nickname": "Bob", "only_second": "2"}))
		Expect(env().Admin().Delete(user)).To(framework.HaveStatus(http.StatusOK))
		Expect(env().Admin().Put(other, framework.Form("sign", "hi"))).To(framework.HaveStatus(http.StatusOK))
		r := env().Admin().Get(user)
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.Attrs()).To(BeEmpty(), "a user without attributes reads {}, not another user's: %s", r)
	})

	It("answers 200 with data {} for a user without attributes", framework.Req("UA-GET-002", "UA-GET-004"), func() {
		r := env().Admin().Get(user)
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.Field("data")).To(Or(BeNil(), Equal(map[string]any{})), "data must be an empty object (or null), never an array: %s", r)
		Expect(r.Has("data")).To(BeTrue(), "%s", r)
	})

	It("answers a user without an account with 200 and data {}, or 404 with a JSON body", framework.Req("UA-GET-003", "UA-GET-004"), func() {
		r := env().Admin().Get(framework.Unknown())
		sawStatus(profile.GetUnknownUser, r)
		if r.Has("data") {
			Expect(r.Attrs()).To(BeEmpty())
		}
	})

	It("needs no Content-Type header and answers 200", framework.Req("UA-GET-005"), func() {
		Expect(env().Admin().Put(user, framework.Form("a", "1"))).To(framework.HaveStatus(http.StatusOK))
		r := env().Admin().Raw(http.MethodGet, "/metadata/user/"+user, "", "")
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.Attrs()).To(Equal(map[string]string{"a": "1"}))
	})

	It("ignores a Content-Type on a GET and answers 200", framework.Req("UA-GET-005"), func() {
		Expect(env().Admin().Put(user, framework.Form("a", "1"))).To(framework.HaveStatus(http.StatusOK))
		r := env().Admin().Raw(http.MethodGet, "/metadata/user/"+user, "", "application/json")
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.Attrs()).To(Equal(map[string]string{"a": "1"}))
		env().Saw(profile.ContentTypeOnBodiless, "ignored", r)
	})

	It("ignores a Content-Type on the other bodiless requests (capacity, DELETE) and answers 200", framework.Req("UA-DEL-001", "UA-CAP-001"), func() {
		Expect(env().Admin().Put(user, framework.Form("a", "1"))).To(framework.HaveStatus(http.StatusOK))
		c := env().Admin()
		r := c.Raw(http.MethodGet, "/metadata/user/capacity", "", "application/json")
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(c.Raw(http.MethodDelete, "/metadata/user/"+user, "", "application/json")).To(framework.HaveStatus(http.StatusOK))
		env().Saw(profile.ContentTypeOnBodiless, "ignored", r)
	})

	It("answers 200 with data {} after the attributes were deleted", framework.Req("UA-GET-006"), func() {
		Expect(env().Admin().Put(user, framework.Form("a", "1"))).To(framework.HaveStatus(http.StatusOK))
		Expect(env().Admin().Delete(user)).To(framework.HaveStatus(http.StatusOK))
		r := env().Admin().Get(user)
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.Attrs()).To(BeEmpty())
	})
})
