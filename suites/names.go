package suites

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/profile"
)

var _ = Describe("Usernames in paths", Label("names"), Serial, func() {
	var user string
	BeforeEach(func() {
		user = env().User(0).Name
		env().Clear(user)
	})

	It("percent-decodes the username: %61 addresses the same user and answers 200", framework.Req("UA-GEN-007"), func() {
		Expect(env().Admin().Put(user, framework.Form("a", "1"))).To(framework.HaveStatus(http.StatusOK))
		escaped := fmt.Sprintf("%%%02X", user[0]) + user[1:]
		// kin-openapi checks path parameters in their escaped form, so the
		// request is sent off-contract; the response is still validated.
		r := env().Admin().OffContract("a percent-encoded username").Raw(http.MethodGet, "/metadata/user/"+escaped, "", "")
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.Attrs()).To(Equal(map[string]string{"a": "1"}))
	})

	It("treats usernames case-insensitively: a PUT to the upper-case name is read back with 200", framework.Req("UA-NAME-003"), func() {
		Expect(env().Admin().Put(strings.ToUpper(user), framework.Form("a", "1"))).To(framework.HaveStatus(http.StatusOK))
		r := env().Admin().Get(user)
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.Attrs()).To(Equal(map[string]string{"a": "1"}))
	})

	It("accepts a 64-character username with 200", framework.Req("UA-NAME-001"), func() {
		long := env().LongUser().Name
		env().Clear(long)
		DeferCleanup(func() { env().Clear(long) })
		Expect(env().Admin().Put(long, framework.Form("a", "1"))).To(framework.HaveStatus(http.StatusOK))
		Expect(env().Admin().Get(long).Attrs()).To(Equal(map[string]string{"a": "1"}))
	})

	It("refuses to store attributes for a 65-character username (400 or 404): none can be read back", framework.Req("UA-NAME-001"), func() {
		expectNameRefused(env().Admin().OffContract("a 65-character username"), tooLong())
	})

	It("treats a 65-character username as a user without an account: 404 on PUT, 200 or 404 on GET, 200 on DELETE", framework.Req("UA-NAME-005"), func() {
		c := env().Admin().OffContract("a 65-character username")
		name := tooLong()
		Expect(c.Put(name, framework.Form("a", "1"))).To(framework.HaveStatus(http.StatusNotFound))
		r := c.Get(name)
		sawStatus(profile.GetUnknownUser, r)
		Expect(c.Delete(name)).To(framework.HaveStatus(http.StatusOK))
	})

	It("routes usernames made of every allowed character class (a-z A-Z 0-9 _ - .) like any username: 200 or 404", framework.Req("UA-NAME-002"), func() {
		name := "A9_." + framework.Unknown()
		r := env().Admin().Get(name)
		sawStatus(profile.GetUnknownUser, r)
		Expect(env().Admin().Delete(name)).To(framework.HaveStatus(http.StatusOK))
	})

	It("refuses to store attributes for a username with a forbidden character (400 or 404): none can be read back", framework.Req("UA-NAME-002"), func() {
		expectNameRefused(env().Admin().OffContract("a username with forbidden characters"), "bad name!"+framework.Unknown())
	})

	It("treats a username with a forbidden character as a user without an account: 200 or 404 on GET, 404 on PUT, never 5xx", framework.Req("UA-NAME-005"), func() {
		c := env().Admin().OffContract("a username with forbidden characters")
		bad := "bad name!" + framework.Unknown()
		r := c.Get(bad)
		Expect(r).To(framework.HaveStatus(http.StatusOK, http.StatusNotFound))
		if r.Status == http.StatusOK {
			Expect(r.Attrs()).To(BeEmpty())
		}
		Expect(c.Put(bad, framework.Form("a", "1"))).To(framework.HaveStatus(http.StatusNotFound))
		Expect(c.Delete(bad)).To(framework.HaveStatus(http.StatusOK))
	})

	It("keeps apps apart: attributes written in one app are not seen by another (200 with {})", Label(framework.LabelExtraApp), framework.Req("UA-NAME-004"), func() {
		second := env().ExtraApp("second")
		other := env().AdminOf(second)
		shared := user
		Expect(env().Admin().Put(shared, framework.Form("app", "main"))).To(framework.HaveStatus(http.StatusOK))
		r := other.Get(shared)
		Expect(r).To(framework.HaveStatus(http.StatusOK, http.StatusNotFound))
		if r.Has("data") {
			Expect(r.Attrs()).NotTo(HaveKey("app"), "the second app sees the main app's attributes: %s", r)
		}
	})
})

// tooLong is a generated username of 65 characters, one over the limit:
// no listed user is needed to address it.
func tooLong() string {
	name := framework.Unknown()
	return name + strings.Repeat("x", 65-len(name))
}

// expectNameRefused checks that the admin's write for an invalid username
// is refused with 400 or 404 and that nothing can be read back for it
// (200 with {}, or a 4xx). A cleanup deletes them, should the server
// have stored them anyway.
func expectNameRefused(c framework.Caller, name string) {
	GinkgoHelper()
	w := c.Put(name, framework.Form("a", "1"))
	DeferCleanup(func() { c.Send(http.MethodDelete, "/metadata/user/"+url.PathEscape(name), "", "") })
	Expect(w).To(framework.HaveStatus(http.StatusBadRequest, http.StatusNotFound), "the invalid username %q must not get attributes", name)
	r := c.Get(name)
	Expect(r).To(framework.HaveStatus(http.StatusOK, http.StatusBadRequest, http.StatusNotFound))
	if r.Status == http.StatusOK {
		Expect(r.Attrs()).To(BeEmpty(), "nothing is stored for the invalid username %q: %s", name, r)
	}
}
