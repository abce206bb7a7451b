package suites

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	. "github.com/attrconform/attrconform/framework"
)

var _ = Describe("Deleting attributes (DELETE /{org}/{app}/metadata/user/{username})", Label("delete"), Serial, func() {
	var user string
	BeforeEach(func() {
		user = f().User(0).Name
		f().Clear(user)
	})

	It("removes every attribute and answers 200 with data true", Req("UA-DEL-001", "UA-DEL-003"), func() {
		Expect(f().Admin().Put(user, Form("a", "1", "b", "2"))).To(HaveStatus(http.StatusOK))
		r := f().Admin().Delete(user)
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(r.Field("data")).To(BeIdenticalTo(true), "%s", r)
		Expect(f().Admin().Get(user).Attrs()).To(BeEmpty())
	})

	It("answers 200 with data true again for attributes already deleted", Req("UA-DEL-002", "UA-DEL-003"), func() {
		Expect(f().Admin().Delete(user)).To(HaveStatus(http.StatusOK))
		r := f().Admin().Delete(user)
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(r.Field("data")).To(BeIdenticalTo(true), "%s", r)
	})

	It("answers 200 with data true for a user without an account", Req("UA-DEL-002"), func() {
		r := f().Admin().Delete(Unknown())
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(r.Field("data")).To(BeIdenticalTo(true), "%s", r)
	})
})
