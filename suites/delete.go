package suites

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/attrconform/attrconform/framework"
)

var _ = Describe("Deleting attributes (DELETE /{org}/{app}/metadata/user/{username})", Label("delete"), Serial, func() {
	var user string
	BeforeEach(func() {
		user = env().User(0).Name
		env().Clear(user)
	})

	It("removes every attribute and answers 200 with data true", framework.Req("UA-DEL-001", "UA-DEL-003"), func() {
		Expect(env().Admin().Put(user, framework.Form("a", "1", "b", "2"))).To(framework.HaveStatus(http.StatusOK))
		r := env().Admin().Delete(user)
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.Field("data")).To(BeIdenticalTo(true), "%s", r)
		Expect(env().Admin().Get(user).Attrs()).To(BeEmpty())
	})

	It("answers 200 with data true again for attributes already deleted", framework.Req("UA-DEL-002", "UA-DEL-003"), func() {
		Expect(env().Admin().Delete(user)).To(framework.HaveStatus(http.StatusOK))
		r := env().Admin().Delete(user)
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.Field("data")).To(BeIdenticalTo(true), "%s", r)
	})

	It("answers 200 with data true for a user without an account", framework.Req("UA-DEL-002"), func() {
		r := env().Admin().Delete(framework.Unknown())
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.Field("data")).To(BeIdenticalTo(true), "%s", r)
	})
})
