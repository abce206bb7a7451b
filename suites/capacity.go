package suites

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	. "github.com/attrconform/attrconform/framework"
)

var _ = Describe("The app's total attribute size (GET /{org}/{app}/metadata/user/capacity)", Label("capacity"), Serial, func() {
	var user string
	BeforeEach(func() {
		user = f().User(0).Name
		f().Clear(user)
	})

	It("answers the admin with 200 and an integer number of bytes", Req("UA-CAP-001"), func() {
		r := f().Admin().Capacity()
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(r.Capacity()).To(BeNumerically(">=", 0))
	})

	It("rises with a write and falls back to its start value after the delete, all with 200", Req("UA-CAP-004", "UA-CAP-003"), func() {
		before := f().Admin().Capacity().Capacity()
		attrs := map[string]string{"nickname": "capacity_check", "ext": Value(100)}
		Expect(f().Admin().Put(user, FormOf(attrs))).To(HaveStatus(http.StatusOK))
		during := f().Admin().Capacity().Capacity()
		Expect(during).To(BeNumerically(">", before), "capacity must grow after a write")
		if m := f().Metric(); m != "" {
			Expect(during-before).To(Equal(Size(m, attrs)), "under size_metric %s the capacity grows by the user's size", m)
		}
		Expect(f().Admin().Delete(user)).To(HaveStatus(http.StatusOK))
		Expect(f().Admin().Capacity().Capacity()).To(Equal(before), "capacity must return to its start value after the delete")
	})

	It("does not count an overwrite twice: rewriting the same attributes (200) leaves it unchanged", Req("UA-CAP-003", "UA-CAP-004"), func() {
		Expect(f().Admin().Put(user, Form("nickname", "same"))).To(HaveStatus(http.StatusOK))
		once := f().Admin().Capacity().Capacity()
		Expect(f().Admin().Put(user, Form("nickname", "same"))).To(HaveStatus(http.StatusOK))
		Expect(f().Admin().Capacity().Capacity()).To(Equal(once))
	})
})
