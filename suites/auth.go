package suites

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	. "github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/profile"
)

var _ = Describe("Authentication and authorisation", Label("auth"), Serial, func() {
	var owner string
	BeforeEach(func() {
		owner = f().User(0).Name
		f().Clear(owner)
	})

	// Each operation as it is called in the auth matrix below.
	operations := map[string]func(c Caller, user string) *Response{
		"PUT":      func(c Caller, u string) *Response { return c.Put(u, Form("nickname", "intruder")) },
		"GET":      func(c Caller, u string) *Response { return c.Get(u) },
		"DELETE":   func(c Caller, u string) *Response { return c.Delete(u) },
		"batch":    func(c Caller, u string) *Response { return c.Batch([]string{u}, []string{"nickname"}) },
		"capacity": func(c Caller, _ string) *Response { return c.Capacity() },
	}
	for _, name := range []string{"PUT", "GET", "DELETE", "batch", "capacity"} {
		call := operations[name]
		It("answers "+name+" without a token with 401 and a reason", Req("UA-AUTH-001"), func() {
			r := call(f().Admin().WithoutToken(), owner)
			Expect(r).To(HaveStatus(http.StatusUnauthorized))
			Expect(r.Text()).NotTo(BeEmpty(), "%s", r)
		})
		It("answers "+name+" with a garbled token with 401", Req("UA-AUTH-002"), func() {
			r := call(f().Admin().WithAuthorization("Bearer !!not*a*token!!"), owner)
			Expect(r).To(HaveStatus(http.StatusUnauthorized))
		})
		It("answers "+name+" with a well-formed token this server never issued with 401", Req("UA-AUTH-002"), func() {
			r := call(f().Admin().WithAuthorization("Bearer YWMtNeverIssued0000000000000000"), owner)
			Expect(r).To(HaveStatus(http.StatusUnauthorized))
		})
	}

	It("lets the admin token call all five operations for a user with 200, also on attributes the user wrote itself", Req("UA-AUTH-003"), func() {
		u := f().User(0)
		want := map[string]string{"nickname": "by-admin"}
		if u.Token != "" {
			want = map[string]string{"nickname": "by-self"}
			Expect(f().As(u).Put(u.Name, FormOf(want))).To(HaveStatus(http.StatusOK))
		} else {
			Note("mode", "the target gives the user no token: the admin reads its own write")
			Expect(f().Admin().Put(u.Name, FormOf(want))).To(HaveStatus(http.StatusOK))
		}
		admin := f().Admin()
		r := admin.Get(u.Name)
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(r.Attrs()).To(Equal(want))
		b := admin.Batch([]string{u.Name}, []string{"nickname"})
		Expect(b).To(HaveStatus(http.StatusOK))
		Expect(b.BatchData()).To(Equal(map[string]map[string]string{u.Name: want}))
		Expect(admin.Capacity()).To(HaveStatus(http.StatusOK))
		Expect(admin.Put(u.Name, Form("ext", "admin"))).To(HaveStatus(http.StatusOK))
		Expect(admin.Delete(u.Name)).To(HaveStatus(http.StatusOK))
	})

	It("stores nothing when the write carries no token (401)", Req("UA-AUTH-001", "UA-LIMIT-006"), func() {
		Expect(f().Admin().WithoutToken().Put(owner, Form("nickname", "anon"))).To(HaveStatus(http.StatusUnauthorized))
		Expect(f().Admin().Get(owner).Attrs()).To(BeEmpty())
	})

	Context("with user tokens", func() {
		var self, other Caller
		var otherName string
		BeforeEach(func() {
			users := f().UsersWithTokens(2)
			owner, otherName = users[0].Name, users[1].Name
			f().Clear(owner, otherName)
			self, other = f().As(users[0]), f().As(users[1])
		})

		It("lets a user set its own attributes with 200", Req("UA-AUTH-004"), func() {
			Expect(self.Put(owner, Form("nickname", "me"))).To(HaveStatus(http.StatusOK))
			Expect(f().Admin().Get(owner).Attrs()).To(Equal(map[string]string{"nickname": "me"}))
		})

		It("refuses another user's token for a write with 401 and stores nothing", Req("UA-AUTH-004", "UA-LIMIT-006", "UA-ERR-002"), func() {
			Expect(f().Admin().Put(owner, Form("nickname", "owner"))).To(HaveStatus(http.StatusOK))
			r := other.Put(owner, Form("nickname", "intruder"))
			Expect(r).To(HaveStatus(http.StatusUnauthorized))
			expectText(r, "auth error", "unauthorized")
			Expect(f().Admin().Get(owner).Attrs()).To(Equal(map[string]string{"nickname": "owner"}))
		})

		It("answers an ordinary user writing a user without an account with 401, not 404", Req("UA-AUTH-005"), func() {
			r := self.Put(Unknown(), Form("nickname", "ghost"))
			Expect(r).To(HaveStatus(http.StatusUnauthorized))
		})

		It("refuses capacity to a user token with 401 (or allows it with 200 where the newer page says so)", Req("UA-AUTH-006", "UA-CAP-002"), func() {
			r := self.Capacity()
			Expect(r).To(HaveStatus(http.StatusUnauthorized, http.StatusOK))
			f().Saw(profile.CapacityUserToken, statusText(r), r)
			if r.Status == http.StatusUnauthorized {
				expectText(r, "unauthorized", "unauthorized")
			}
		})

		It("lets a user token batch-read other users with 200", Req("UA-AUTH-007"), func() {
			Expect(f().Admin().Put(otherName, Form("nickname", "Other"))).To(HaveStatus(http.StatusOK))
			r := self.Batch([]string{otherName}, []string{"nickname"})
			Expect(r).To(HaveStatus(http.StatusOK))
			Expect(r.BatchData()).To(HaveKeyWithValue(otherName, map[string]string{"nickname": "Other"}))
		})

		It("lets a user read its own attributes with 200", Req("UA-AUTH-008"), func() {
			Expect(f().Admin().Put(owner, Form("nickname", "me"))).To(HaveStatus(http.StatusOK))
			r := self.Get(owner)
			Expect(r).To(HaveStatus(http.StatusOK))
			Expect(r.Attrs()).To(Equal(map[string]string{"nickname": "me"}))
		})

		It("answers a user reading another user with 401, or 200 where the profile allows it", Req("UA-AUTH-008"), func() {
			Expect(f().Admin().Put(otherName, Form("nickname", "Other"))).To(HaveStatus(http.StatusOK))
			r := self.Get(otherName)
			Expect(r).To(HaveStatus(http.StatusUnauthorized, http.StatusOK))
			f().Saw(profile.UserTokenGetOtherUser, statusText(r), r)
			if r.Status == http.StatusOK {
				Expect(r.Attrs()).To(Equal(map[string]string{"nickname": "Other"}))
			}
		})

		It("answers a user deleting its own attributes with 200 (or 401 where only the admin may delete)", Req("UA-AUTH-009", "UA-DEL-004"), func() {
			Expect(f().Admin().Put(owner, Form("nickname", "me"))).To(HaveStatus(http.StatusOK))
			r := self.Delete(owner)
			Expect(r).To(HaveStatus(http.StatusOK, http.StatusUnauthorized))
			if r.Status == http.StatusOK {
				f().Saw(profile.UserTokenDeleteSelf, "allow", r)
				Expect(f().Admin().Get(owner).Attrs()).To(BeEmpty())
			} else {
				f().Saw(profile.UserTokenDeleteSelf, "deny", r)
				Expect(f().Admin().Get(owner).Attrs()).To(Equal(map[string]string{"nickname": "me"}))
			}
		})

		It("refuses another user's token for a delete with 401 and keeps the attributes", Req("UA-AUTH-009", "UA-DEL-004"), func() {
			Expect(f().Admin().Put(owner, Form("nickname", "owner"))).To(HaveStatus(http.StatusOK))
			Expect(other.Delete(owner)).To(HaveStatus(http.StatusUnauthorized))
			Expect(f().Admin().Get(owner).Attrs()).To(Equal(map[string]string{"nickname": "owner"}))
		})
	})

	It("refuses a token of another app with 401", Label(LabelExtraApp), Req("UA-AUTH-010"), func() {
		second := f().ExtraApp("second")
		r := f().Admin().WithAuthorization("Bearer " + second.AdminToken).Get(owner)
		Expect(r).To(HaveStatus(http.StatusUnauthorized))
	})
})
