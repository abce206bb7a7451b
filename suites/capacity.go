package suites

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/attrconform/attrconform/framework"
)

var _ = Describe("The app's total attribute size (GET /{org}/{app}/metadata/user/capacity)", Label("capacity"), Serial, func() {
	var user string
	BeforeEach(func() {
		user = env().User(0).Name
		env().Clear(user)
	})

	It("answers the admin with 200 and an integer number of bytes", framework.Req("UA-CAP-001"), func() {
		r := env().Admin().Capacity()
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.Capacity()).To(BeNumerically(">=", 0))
	})

	It("rises with a write and falls back to its start value after the delete, all with 200", framework.Req("UA-CAP-004", "UA-CAP-003"), func() {
		before := env().Admin().Capacity().Capacity()
		attrs := map[string]string{"nickname": "capacity_check", "ext": framework.Value(100)}
		Expect(env().Admin().Put(user, framework.FormOf(attrs))).To(framework.HaveStatus(http.StatusOK))
		during := env().Admin().Capacity().Capacity()
		Expect(during).To(BeNumerically(">", before), "capacity must grow after a write")
		if m := env().Metric(); m != "" {
			Expect(during-before).To(Equal(framework.Size(m, attrs)), "under size_metric %s the capacity grows by the user's size", m)
		}
		Expect(env().Admin().Delete(user)).To(framework.HaveStatus(http.StatusOK))
		Expect(env().Admin().Capacity().Capacity()).To(Equal(before), "capacity must return to its start value after the delete")
	})

	It("does not count an overwrite twice: rewriting the same attributes (200) leaves it unchanged", framework.Req("UA-CAP-003", "UA-CAP-004"), func() {
		Expect(env().Admin().Put(user, framework.Form("nickname", "same"))).To(framework.HaveStatus(http.StatusOK))
		once := env().Admin().Capacity().Capacity()
		Expect(env().Admin().Put(user, framework.Form("nickname", "same"))).To(framework.HaveStatus(http.StatusOK))
		Expect(env().Admin().Capacity().Capacity()).To(Equal(once))
	})
})
