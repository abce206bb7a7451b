package suites

import (
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	. "github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/profile"
)

var _ = Describe("Setting attributes (PUT /{org}/{app}/metadata/user/{username})", Label("write"), Serial, func() {
	var writer string
	BeforeEach(func() {
		writer = f().User(0).Name
		f().Clear(writer)
	})

	It("stores form pairs sent by the admin and answers 200 with them in data", Req("UA-PUT-001", "UA-PUT-005"), func() {
		r := f().Admin().Put(writer, Form("nickname", "Ann", "ext", "x"))
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(r.Attrs()).To(HaveKeyWithValue("nickname", "Ann"))
		Expect(r.Attrs()).To(HaveKeyWithValue("ext", "x"))
		Expect(f().Admin().Get(writer).Attrs()).To(Equal(map[string]string{"nickname": "Ann", "ext": "x"}))
	})

	It("accepts the form content type with a charset parameter with 200", Req("UA-PUT-001"), func() {
		r := f().Admin().PutAs(writer, Form("sign", "hi"), "application/x-www-form-urlencoded; charset=UTF-8")
		Expect(r).To(HaveStatus(http.StatusOK))
		Expect(f().Admin().Get(writer).Attrs()).To(HaveKeyWithValue("sign", "hi"))
	})

	It("refuses a JSON body with 415 and stores nothing", Req("UA-PUT-002", "UA-LIMIT-006"), func() {
		r := f().Admin().OffContract("a JSON body on PUT").PutAs(writer, `{"nickname":"Ann"}`, "application/json")
		Expect(r).To(HaveStatus(http.StatusUnsupportedMediaType))
		f().Saw(profile.PutJSONStatus, "415", r)
		Expect(f().Admin().Get(writer).Attrs()).To(BeEmpty())
	})

	It("decodes the body as an HTML form (+ and %20 are spaces, UTF-8 escapes, raw values) and answers 200", Req("UA-PUT-003"), func() {
		body := "display+name=A%20B&city=%E6%B7%B1%E5%9C%B3&raw=a:b/c@d&plus=1%2B1"
		Expect(f().Admin().Put(writer, body)).To(HaveStatus(http.StatusOK))
		Expect(f().Admin().Get(writer).Attrs()).To(Equal(map[string]string{
			"display name": "A B", "city": "深圳", "raw": "a:b/c@d", "plus": "1+1",
		}))
	})

	It("refuses a pair with an empty key with 400 (or ignores it with 200), never storing an empty key", Req("UA-PUT-003"), func() {
		r := f().Admin().OffContract("a pair with an empty key").PutAs(writer, "=v&kept=1", "application/x-www-form-urlencoded")
		Expect(r).To(HaveStatus(http.StatusBadRequest, http.StatusOK))
		attrs := f().Admin().Get(writer).Attrs()
		Expect(attrs).NotTo(HaveKey(""), "an empty key was stored: %s", r)
		if r.Status == http.StatusBadRequest {
			Expect(attrs).To(BeEmpty(), "a refused PUT stores nothing")
		}
	})

	It("merges: keys not named in a later PUT are kept, named ones overwritten, and answers 200", Req("UA-PUT-004"), func() {
		Expect(f().Admin().Put(writer, Form("nickname", "Ann", "mail", "a@example.com"))).To(HaveStatus(http.StatusOK))
		Expect(f().Admin().Put(writer, Form("nickname", "Bea", "phone", "123"))).To(HaveStatus(http.StatusOK))
		Expect(f().Admin().Get(writer).Attrs()).To(Equal(map[string]string{"nickname": "Bea", "mail": "a@example.com", "phone": "123"}))
	})

	It("merges a user's own PUTs too (the client SDKs' call) and answers 200", Req("UA-PUT-004"), func() {
		u := f().UsersWithTokens(1)[0]
		self, owner := f().As(u), u.Name
		f().Clear(owner)
		Expect(self.Put(owner, Form("nickname", "Ann", "mail", "a@example.com"))).To(HaveStatus(http.StatusOK))
		Expect(self.Put(owner, Form("sign", "hi"))).To(HaveStatus(http.StatusOK))
		Expect(self.Get(owner).Attrs()).To(Equal(map[string]string{"nickname": "Ann", "mail": "a@example.com", "sign": "hi"}))
	})

	It("answers 200 with data holding the request's pairs with their new values, or the whole map after the merge", Req("UA-PUT-005"), func() {
		Expect(f().Admin().Put(writer, Form("keep", "1", "old", "1"))).To(HaveStatus(http.StatusOK))
		r := f().Admin().Put(writer, Form("old", "2", "new", "3"))
		Expect(r).To(HaveStatus(http.StatusOK))
		switch data := r.Attrs(); {
		case len(data) == 2:
			Expect(data).To(Equal(map[string]string{"old": "2", "new": "3"}), "data holds every pair of the request with the value now stored: %s", r)
			f().Saw(profile.PutResponseData, "request", r)
		default:
			Expect(data).To(Equal(map[string]string{"keep": "1", "old": "2", "new": "3"}), "data holds the whole map after the merge: %s", r)
			f().Saw(profile.PutResponseData, "full", r)
		}
	})

	It("returns every value as a JSON string, whatever it looks like, with 200", Req("UA-PUT-006", "UA-GET-001"), func() {
		Expect(f().Admin().Put(writer, Form("gender", "1", "flag", "true", "none", "null", "list", "[1]"))).To(HaveStatus(http.StatusOK))
		r := f().Admin().Get(writer)
		var raw struct {
			Data map[string]any `json:"data"`
		}
		Expect(jsonUnmarshal(r.Body, &raw)).To(Succeed())
		for k, v := range raw.Data {
			Expect(v).To(BeAssignableToTypeOf(""), "value of %s must be a JSON string in %s", k, r)
		}
		Expect(r.Attrs()).To(Equal(map[string]string{"gender": "1", "flag": "true", "none": "null", "list": "[1]"}))
	})

	It("answers 200 to key= and then reads the key as empty or absent", Req("UA-PUT-007"), func() {
		Expect(f().Admin().Put(writer, Form("sign", "hello", "keep", "k"))).To(HaveStatus(http.StatusOK))
		Expect(f().Admin().Put(writer, "sign=")).To(HaveStatus(http.StatusOK))
		r := f().Admin().Get(writer)
		attrs := r.Attrs()
		Expect(attrs).To(HaveKeyWithValue("keep", "k"))
		if v, has := attrs["sign"]; has {
			Expect(v).To(BeEmpty())
			f().Saw(profile.EmptyValue, "stored", r)
		} else {
			f().Saw(profile.EmptyValue, "removed", r)
		}
	})

	It("answers an empty body with 200 and no change, or with 400", Req("UA-PUT-008"), func() {
		Expect(f().Admin().Put(writer, Form("keep", "k"))).To(HaveStatus(http.StatusOK))
		r := f().Admin().OffContract("an empty form body").PutAs(writer, "", "application/x-www-form-urlencoded")
		Expect(r).To(HaveStatus(http.StatusOK, http.StatusBadRequest))
		f().Saw(profile.EmptyPut, statusText(r), r)
		Expect(f().Admin().Get(writer).Attrs()).To(Equal(map[string]string{"keep": "k"}))
	})

	It("answers the admin's PUT for a user without an account with 404", Req("UA-PUT-009", "UA-ERR-002"), func() {
		ghost := Unknown()
		r := f().Admin().Put(ghost, Form("nickname", "ghost"))
		Expect(r).To(HaveStatus(http.StatusNotFound, http.StatusOK))
		f().Saw(profile.PutUnknownUserAsAdmin, statusText(r), r)
		if r.Status == http.StatusNotFound {
			expectText(r, "Service resource not found", "Not Found")
		} else {
			DeferCleanup(func() { f().Admin().Delete(ghost) })
		}
	})

	It("stores any key verbatim, the eight client keys and others alike, with 200", Req("UA-PUT-010"), func() {
		body := Form("nickname", "n", "avatarurl", "http://a/b.png", "x_custom_42", "c")
		Expect(f().Admin().Put(writer, body)).To(HaveStatus(http.StatusOK))
		Expect(f().Admin().Put(writer, Form("avatar", "http://a/c.png"))).To(HaveStatus(http.StatusOK))
		r := f().Admin().Get(writer)
		Expect(r.Attrs()).To(Equal(map[string]string{
			"nickname": "n", "avatarurl": "http://a/b.png", "avatar": "http://a/c.png", "x_custom_42": "c",
		}), "avatar and avatarurl are two keys, neither renamed: %s", r)
		f().Saw(profile.AvatarKey, "verbatim", r)
	})

	It("keeps keys that differ only in case apart (Nickname and nickname), with 200", Req("UA-GEN-008"), func() {
		Expect(f().Admin().Put(writer, Form("nickname", "n", "Nickname", "N"))).To(HaveStatus(http.StatusOK))
		Expect(f().Admin().Put(writer, Form("MAIL", "M"))).To(HaveStatus(http.StatusOK))
		Expect(f().Admin().Get(writer).Attrs()).To(Equal(map[string]string{"nickname": "n", "Nickname": "N", "MAIL": "M"}))
	})

	It("does not hold client field conventions against a write: a 65-character nickname gets 200 (or 403 with the column text)", Req("UA-PUT-011"), func() {
		r := f().Admin().Put(writer, Form("nickname", strings.Repeat("n", 65)))
		Expect(r).To(HaveStatus(http.StatusOK, http.StatusForbidden))
		if r.Status == http.StatusForbidden {
			Expect(r.Text()).To(ContainSubstring("column size"), "a 403 for a field convention names it: %s", r)
			f().Saw(profile.EnforceFieldLengths, "on", r)
		} else {
			f().Saw(profile.EnforceFieldLengths, "off", r)
		}
	})

	It("keeps one value for a key sent twice and answers 200", Req("UA-PUT-012"), func() {
		r := f().Admin().OffContract("a key sent twice").PutAs(writer, "dup=first&dup=second", "application/x-www-form-urlencoded")
		Expect(r).To(HaveStatus(http.StatusOK))
		attrs := f().Admin().Get(writer).Attrs()
		Expect(attrs).To(HaveKeyWithValue("dup", Or(Equal("first"), Equal("second"))))
		Note("duplicate key", "kept the "+map[string]string{"first": "first", "second": "last"}[attrs["dup"]]+" occurrence (recommended: first)")
	})

	It("sets one user per call: a PUT without a username answers 4xx and writes nothing", Req("UA-PUT-013"), func() {
		r := f().Admin().OffContract("a PUT on the collection").Raw(http.MethodPut, "/metadata/user", Form("nickname", "all"), "application/x-www-form-urlencoded")
		Expect(r.Status).To(BeNumerically(">=", 400), "%s", r)
		Expect(r.Status).To(BeNumerically("<", 500), "%s", r)
		Expect(f().Admin().Get(writer).Attrs()).To(BeEmpty())
	})
})
