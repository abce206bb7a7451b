package suites

import (
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/profile"
)

var _ = Describe("Setting attributes (PUT /{org}/{app}/metadata/user/{username})", Label("write"), Serial, func() {
	var writer string
	BeforeEach(func() {
		writer = env().User(0).Name
		env().Clear(writer)
	})

	It("stores form pairs sent by the admin and answers 200 with them in data", framework.Req("UA-PUT-001", "UA-PUT-005"), func() {
		r := env().Admin().Put(writer, framework.Form("nickname", "Ann", "ext", "x"))
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(r.Attrs()).To(HaveKeyWithValue("nickname", "Ann"))
		Expect(r.Attrs()).To(HaveKeyWithValue("ext", "x"))
		Expect(env().Admin().Get(writer).Attrs()).To(Equal(map[string]string{"nickname": "Ann", "ext": "x"}))
	})

	It("accepts the form content type with a charset parameter with 200", framework.Req("UA-PUT-001"), func() {
		r := env().Admin().PutAs(writer, framework.Form("sign", "hi"), "application/x-www-form-urlencoded; charset=UTF-8")
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		Expect(env().Admin().Get(writer).Attrs()).To(HaveKeyWithValue("sign", "hi"))
	})

	It("refuses a JSON body with 415 and stores nothing", framework.Req("UA-PUT-002", "UA-LIMIT-006"), func() {
		r := env().Admin().OffContract("a JSON body on PUT").PutAs(writer, `{"nickname":"Ann"}`, "application/json")
		Expect(r).To(framework.HaveStatus(http.StatusUnsupportedMediaType))
		env().Saw(profile.PutJSONStatus, "415", r)
		Expect(env().Admin().Get(writer).Attrs()).To(BeEmpty())
	})

	It("decodes the body as an HTML form (+ and %20 are spaces, UTF-8 escapes, raw values) and answers 200", framework.Req("UA-PUT-003"), func() {
		body := "display+name=A%20B&city=%E6%B7%B1%E5%9C%B3&raw=a:b/c@d&plus=1%2B1"
		Expect(env().Admin().Put(writer, body)).To(framework.HaveStatus(http.StatusOK))
		Expect(env().Admin().Get(writer).Attrs()).To(Equal(map[string]string{
			"display name": "A B", "city": "深圳", "raw": "a:b/c@d", "plus": "1+1",
		}))
	})

	It("refuses a pair with an empty key with 400 (or ignores it with 200), never storing an empty key", framework.Req("UA-PUT-003"), func() {
		r := env().Admin().OffContract("a pair with an empty key").PutAs(writer, "=v&kept=1", "application/x-www-form-urlencoded")
		Expect(r).To(framework.HaveStatus(http.StatusBadRequest, http.StatusOK))
		attrs := env().Admin().Get(writer).Attrs()
		Expect(attrs).NotTo(HaveKey(""), "an empty key was stored: %s", r)
		if r.Status == http.StatusBadRequest {
			Expect(attrs).To(BeEmpty(), "a refused PUT stores nothing")
		}
	})

	It("merges: keys not named in a later PUT are kept, named ones overwritten, and answers 200", framework.Req("UA-PUT-004"), func() {
		Expect(env().Admin().Put(writer, framework.Form("nickname", "Ann", "mail", "a@example.com"))).To(framework.HaveStatus(http.StatusOK))
		Expect(env().Admin().Put(writer, framework.Form("nickname", "Bea", "phone", "123"))).To(framework.HaveStatus(http.StatusOK))
		Expect(env().Admin().Get(writer).Attrs()).To(Equal(map[string]string{"nickname": "Bea", "mail": "a@example.com", "phone": "123"}))
	})

	It("merges a user's own PUTs too (the client SDKs' call) and answers 200", framework.Req("UA-PUT-004"), func() {
		u := env().UsersWithTokens(1)[0]
		self, owner := env().As(u), u.Name
		env().Clear(owner)
		Expect(self.Put(owner, framework.Form("nickname", "Ann", "mail", "a@example.com"))).To(framework.HaveStatus(http.StatusOK))
		Expect(self.Put(owner, framework.Form("sign", "hi"))).To(framework.HaveStatus(http.StatusOK))
		Expect(self.Get(owner).Attrs()).To(Equal(map[string]string{"nickname": "Ann", "mail": "a@example.com", "sign": "hi"}))
	})

	It("answers 200 with data holding the request's pairs with their new values, or the whole map after the merge", framework.Req("UA-PUT-005"), func() {
		Expect(env().Admin().Put(writer, framework.Form("keep", "1", "old", "1"))).To(framework.HaveStatus(http.StatusOK))
		r := env().Admin().Put(writer, framework.Form("old", "2", "new", "3"))
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		switch data := r.Attrs(); {
		case len(data) == 2:
			Expect(data).To(Equal(map[string]string{"old": "2", "new": "3"}), "data holds every pair of the request with the value now stored: %s", r)
			env().Saw(profile.PutResponseData, "request", r)
		default:
			Expect(data).To(Equal(map[string]string{"keep": "1", "old": "2", "new": "3"}), "data holds the whole map after the merge: %s", r)
			env().Saw(profile.PutResponseData, "full", r)
		}
	})

	It("returns every value as a JSON string, whatever it looks like, with 200", framework.Req("UA-PUT-006", "UA-GET-001"), func() {
		Expect(env().Admin().Put(writer, framework.Form("gender", "1", "flag", "true", "none", "null", "list", "[1]"))).To(framework.HaveStatus(http.StatusOK))
		r := env().Admin().Get(writer)
		var raw struct {
			Data map[string]any `json:"data"`
		}
		Expect(jsonUnmarshal([]byte(r.ResponseBody), &raw)).To(Succeed())
		for k, v := range raw.Data {
			Expect(v).To(BeAssignableToTypeOf(""), "value of %s must be a JSON string in %s", k, r)
		}
		Expect(r.Attrs()).To(Equal(map[string]string{"gender": "1", "flag": "true", "none": "null", "list": "[1]"}))
	})

	It("answers 200 to key= and then reads the key as empty or absent", framework.Req("UA-PUT-007"), func() {
		Expect(env().Admin().Put(writer, framework.Form("sign", "hello", "keep", "k"))).To(framework.HaveStatus(http.StatusOK))
		Expect(env().Admin().Put(writer, "sign=")).To(framework.HaveStatus(http.StatusOK))
		r := env().Admin().Get(writer)
		attrs := r.Attrs()
		Expect(attrs).To(HaveKeyWithValue("keep", "k"))
		if v, has := attrs["sign"]; has {
			Expect(v).To(BeEmpty())
			env().Saw(profile.EmptyValue, "stored", r)
		} else {
			env().Saw(profile.EmptyValue, "removed", r)
		}
	})

	It("answers an empty body with 200 and no change, or with 400", framework.Req("UA-PUT-008"), func() {
		Expect(env().Admin().Put(writer, framework.Form("keep", "k"))).To(framework.HaveStatus(http.StatusOK))
		r := env().Admin().OffContract("an empty form body").PutAs(writer, "", "application/x-www-form-urlencoded")
		sawStatus(profile.EmptyPut, r)
		Expect(env().Admin().Get(writer).Attrs()).To(Equal(map[string]string{"keep": "k"}))
	})

	It("answers the admin's PUT for a user without an account with 404", framework.Req("UA-PUT-009", "UA-ERR-002"), func() {
		ghost := framework.Unknown()
		r := env().Admin().Put(ghost, framework.Form("nickname", "ghost"))
		sawStatus(profile.PutUnknownUserAsAdmin, r)
		if r.Status == http.StatusNotFound {
			expectText(r, model.ErrUnknownUserPut, nil)
		} else {
			DeferCleanup(func() { env().Admin().Delete(ghost) })
		}
	})

	It("stores any key verbatim, the eight client keys and others alike, with 200", framework.Req("UA-PUT-010"), func() {
		body := framework.Form("nickname", "n", "avatarurl", "http://a/b.png", "x_custom_42", "c")
		Expect(env().Admin().Put(writer, body)).To(framework.HaveStatus(http.StatusOK))
		Expect(env().Admin().Put(writer, framework.Form("avatar", "http://a/c.png"))).To(framework.HaveStatus(http.StatusOK))
		r := env().Admin().Get(writer)
		Expect(r.Attrs()).To(Equal(map[string]string{
			"nickname": "n", "avatarurl": "http://a/b.png", "avatar": "http://a/c.png", "x_custom_42": "c",
		}), "avatar and avatarurl are two keys, neither renamed: %s", r)
		env().Saw(profile.AvatarKey, "verbatim", r)
	})

	It("keeps keys that differ only in case apart (Nickname and nickname), with 200", framework.Req("UA-GEN-008"), func() {
		Expect(env().Admin().Put(writer, framework.Form("nickname", "n", "Nickname", "N"))).To(framework.HaveStatus(http.StatusOK))
		Expect(env().Admin().Put(writer, framework.Form("MAIL", "M"))).To(framework.HaveStatus(http.StatusOK))
		Expect(env().Admin().Get(writer).Attrs()).To(Equal(map[string]string{"nickname": "n", "Nickname": "N", "MAIL": "M"}))
	})

	It("does not hold client field conventions against a write: a 65-character nickname gets 200 (or 403 with the column text)", framework.Req("UA-PUT-011"), func() {
		r := env().Admin().Put(writer, framework.Form("nickname", strings.Repeat("n", 65)))
		Expect(r).To(framework.HaveStatus(http.StatusOK, http.StatusForbidden))
		if r.Status == http.StatusForbidden {
			expectText(r, model.ErrFieldTooLong, nil)
			env().Saw(profile.EnforceFieldLengths, "on", r)
		} else {
			env().Saw(profile.EnforceFieldLengths, "off", r)
		}
	})

	It("keeps one value for a key sent twice and answers 200", framework.Req("UA-PUT-012"), func() {
		r := env().Admin().OffContract("a key sent twice").PutAs(writer, "dup=first&dup=second", "application/x-www-form-urlencoded")
		Expect(r).To(framework.HaveStatus(http.StatusOK))
		attrs := env().Admin().Get(writer).Attrs()
		Expect(attrs).To(HaveKeyWithValue("dup", Or(Equal("first"), Equal("second"))))
		framework.Note("duplicate key", "kept the "+map[string]string{"first": "first", "second": "last"}[attrs["dup"]]+" occurrence (recommended: first)")
	})

	It("sets one user per call: a PUT without a username answers 4xx and writes nothing", framework.Req("UA-PUT-013"), func() {
		r := env().Admin().OffContract("a PUT on the collection").Raw(http.MethodPut, "/metadata/user", framework.Form("nickname", "all"), "application/x-www-form-urlencoded")
		Expect(r.Status).To(BeNumerically(">=", 400), "%s", r)
		Expect(r.Status).To(BeNumerically("<", 500), "%s", r)
		Expect(env().Admin().Get(writer).Attrs()).To(BeEmpty())
	})
})
