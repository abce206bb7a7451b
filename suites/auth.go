package suites

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/profile"
)

var _ = Describe("Authentication and authorisation", Label("auth"), Serial, func() {
	var owner string
	BeforeEach(func() {
		owner = env().User(0).Name
		env().Clear(owner)
	})

	// Each operation as it is called in the auth matrix below.
	operations := map[string]func(c framework.Caller, user string) *framework.Response{
		"PUT": func(c framework.Caller, u string) *framework.Response {
			return c.Put(u, framework.Form("nickname", "intruder"))
		},
		"GET":    func(c framework.Caller, u string) *framework.Response { return c.Get(u) },
		"DELETE": func(c framework.Caller, u string) *framework.Response { return c.Delete(u) },
		"batch": func(c framework.Caller, u string) *framework.Response {
			return c.Batch([]string{u}, []string{"nickname"})
		},
		"capacity": func(c framework.Caller, _ string) *framework.Response { return c.Capacity() },
	}
	for _, name := range []string{"PUT", "GET", "DELETE", "batch", "capacity"} {
		call := operations[name]
		It("answers "+name+" without a token with 401 and a reason", framework.Req("UA-AUTH-001"), func() {
			r := call(env().Admin().WithoutToken(), owner)
			Expect(r).To(framework.HaveStatus(http.StatusUnauthorized))
			Expect(r.Text()).NotTo(BeEmpty(), "%s", r)
		})
		It("answers "+name+" with a garbled token with 401", framework.Req("UA-AUTH-002"), func() {
			r := call(env().Admin().WithAuthorization("Bearer !!not*a*token!!"), owner)
			Expect(r).To(framework.HaveStatus(http.StatusUnauthorized))
		})
		It("answers "+name+" with a well-formed token this server never issued with 401", framework.Req("UA-AUTH-002"), func() {
			r := call(env().Admin().WithAuthorization("Bearer YWMtNeverIssued0000000000000000"), owner)
			Expect(r).To(framework.HaveStatus(http.StatusUnauthorized))
		})
	}

	It("lets the admin token call all five operations for a user with 200, also on attributes the user wrote itself", framework.Req("UA-AUTH-003"), func() {
		u := env().User(0)
		want := map[string]string{"nickname": "by-admin"}
		if u.Token != "" {
			want = map[string]string{"nickname": "by-self"}
			Expect(env().As(u).Put(u.Name, framework.FormOf(want))).To(framework.HaveStatus(http.StatusOK))
		} else {
			framework.Note("mode", "the target gives the user no token: the admin reads its own write")
			Expect(env().Admin().Put(u.Name, framework.FormOf(want))).To(framework.HaveStatus(http.StatusOK))
		}
		admin := env().Admin()
		r := admin.Get(u.Name)
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.Attrs()).To(Equal(want))
		b := admin.Batch([]string{u.Name}, []string{"nickname"})
		Expect(b).To(framework.HaveStatus(http.StatusOK))
		Expect(b.BatchData()).To(Equal(map[string]map[string]string{u.Name: want}))
		Expect(admin.Capacity()).To(framework.HaveStatus(http.StatusOK))
		Expect(admin.Put(u.Name, framework.Form("ext", "admin"))).To(framework.HaveStatus(http.StatusOK))
		Expect(admin.Delete(u.Name)).To(framework.HaveStatus(http.StatusOK))
	})

	It("stores nothing when the write carries no token (401)", framework.Req("UA-AUTH-001", "UA-LIMIT-006"), func() {
		Expect(env().Admin().WithoutToken().Put(owner, framework.Form("nickname", "anon"))).To(framework.HaveStatus(http.StatusUnauthorized))
		Expect(env().Admin().Get(owner).Attrs()).To(BeEmpty())
	})

	Context("with user tokens", func() {
		var self, other framework.Caller
		var otherName string
		BeforeEach(func() {
			users := env().UsersWithTokens(2)
			owner, otherName = users[0].Name, users[1].Name
			env().Clear(owner, otherName)
			self, other = env().As(users[0]), env().As(users[1])
		})

		It("lets a user set its own attributes with 200", framework.Req("UA-AUTH-004"), func() {
			Expect(self.Put(owner, framework.Form("nickname", "me"))).To(framework.HaveStatus(http.StatusOK))
			Expect(env().Admin().Get(owner).Attrs()).To(Equal(map[string]string{"nickname": "me"}))
		})

		It("refuses another user's token for a write with 401 and stores nothing", framework.Req("UA-AUTH-004", "UA-LIMIT-006", "UA-ERR-002"), func() {
			Expect(env().Admin().Put(owner, framework.Form("nickname", "owner"))).To(framework.HaveStatus(http.StatusOK))
			r := other.Put(owner, framework.Form("nickname", "intruder"))
			Expect(r).To(framework.HaveStatus(http.StatusUnauthorized))
			expectText(r, model.ErrOtherUserWrite, nil)
			Expect(env().Admin().Get(owner).Attrs()).To(Equal(map[string]string{"nickname": "owner"}))
		})

		It("answers an ordinary user writing a user without an account with 401, not 404", framework.Req("UA-AUTH-005"), func() {
			r := self.Put(framework.Unknown(), framework.Form("nickname", "ghost"))
			Expect(r).To(framework.HaveStatus(http.StatusUnauthorized))
		})

		It("refuses capacity to a user token with 401 (or allows it with 200 where the newer page says so)", framework.Req("UA-AUTH-006", "UA-CAP-002"), func() {
			r := self.Capacity()
			sawStatus(profile.CapacityUserToken, r)
			if r.Status == http.StatusUnauthorized {
				expectText(r, model.ErrCapacityUser, nil)
			}
		})

		It("lets a user token batch-read other users with 200", framework.Req("UA-AUTH-007"), func() {
			Expect(env().Admin().Put(otherName, framework.Form("nickname", "Other"))).To(framework.HaveStatus(http.StatusOK))
			r := self.Batch([]string{otherName}, []string{"nickname"})
			Expect(r).To(framework.HaveStatus(http.StatusOK))
			Expect(r.BatchData()).To(HaveKeyWithValue(otherName, map[string]string{"nickname": "Other"}))
		})

		It("lets a user read its own attributes with 200", framework.Req("UA-AUTH-008"), func() {
			Expect(env().Admin().Put(owner, framework.Form("nickname", "me"))).To(framework.HaveStatus(http.StatusOK))
			r := self.Get(owner)
			Expect(r).To(framework.HaveStatus(http.StatusOK))
			Expect(r.Attrs()).To(Equal(map[string]string{"nickname": "me"}))
		})

		It("answers a user reading another user with 401, or 200 where the profile allows it", framework.Req("UA-AUTH-008"), func() {
			Expect(env().Admin().Put(otherName, framework.Form("nickname", "Other"))).To(framework.HaveStatus(http.StatusOK))
			r := self.Get(otherName)
			sawStatus(profile.UserTokenGetOtherUser, r)
			if r.Status == http.StatusOK {
				Expect(r.Attrs()).To(Equal(map[string]string{"nickname": "Other"}))
			}
		})

		It("answers a user deleting its own attributes with 200 (or 401 where only the admin may delete)", framework.Req("UA-AUTH-009", "UA-DEL-004"), func() {
			Expect(env().Admin().Put(owner, framework.Form("nickname", "me"))).To(framework.HaveStatus(http.StatusOK))
			r := self.Delete(owner)
			Expect(r).To(framework.HaveStatus(http.StatusOK, http.StatusUnauthorized))
			if r.Status == http.StatusOK {
				env().Saw(profile.UserTokenDeleteSelf, "allow", r)
				Expect(env().Admin().Get(owner).Attrs()).To(BeEmpty())
			} else {
				env().Saw(profile.UserTokenDeleteSelf, "deny", r)
				Expect(env().Admin().Get(owner).Attrs()).To(Equal(map[string]string{"nickname": "me"}))
			}
		})

		It("refuses another user's token for a delete with 401 and keeps the attributes", framework.Req("UA-AUTH-009", "UA-DEL-004"), func() {
			Expect(env().Admin().Put(owner, framework.Form("nickname", "owner"))).To(framework.HaveStatus(http.StatusOK))
			Expect(other.Delete(owner)).To(framework.HaveStatus(http.StatusUnauthorized))
			Expect(env().Admin().Get(owner).Attrs()).To(Equal(map[string]string{"nickname": "owner"}))
		})
	})

	It("refuses a token of another app with 401", Label(framework.LabelExtraApp), framework.Req("UA-AUTH-010"), func() {
		second := env().ExtraApp("second")
		r := env().Admin().WithAuthorization("Bearer " + second.AdminToken).Get(owner)
		Expect(r).To(framework.HaveStatus(http.StatusUnauthorized))
	})
})
