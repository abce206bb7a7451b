package suites

import (
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/attrconform/attrconform/contract/wire"
	. "github.com/attrconform/attrconform/framework"
)

var _ = Describe("Envelopes, routes and error bodies", Label("envelope"), Serial, func() {
	var user string
	BeforeEach(func() {
		user = f().User(0).Name
		f().Clear(user)
	})

	// successes calls the five operations as the admin, each as it
	// succeeds: PUT, GET, batch, capacity, DELETE.
	successes := func() []*Response {
		GinkgoHelper()
		return []*Response{
			f().Admin().Put(user, Form("a", "1")),
			f().Admin().Get(user),
			f().Admin().Batch([]string{user}, []string{"a"}),
			f().Admin().Capacity(),
			f().Admin().Delete(user),
		}
	}

	It("answers every successful operation with 200 exactly and a JSON object body", Req("UA-GEN-002"), func() {
		for _, r := range successes() {
			Expect(r).To(HaveStatus(http.StatusOK))
			Expect(r.Has("data")).To(BeTrue(), "a success body is a JSON object with data: %s", r)
		}
	})

	It("carries timestamp (integer Unix milliseconds), duration (integer) and data in every success", Req("UA-GEN-003"), func() {
		for _, r := range successes() {
			Expect(r).To(HaveStatus(http.StatusOK))
			Expect(r.Field("timestamp")).To(BeNumerically(">", 1.5e12), "timestamp is Unix milliseconds: %s", r)
			Expect(r.Field("duration")).To(BeNumerically(">=", 0), "%s", r)
			Expect(r.Has("data")).To(BeTrue(), "%s", r)
			for _, k := range []string{"timestamp", "duration"} {
				Expect(string(r.Body)).To(MatchRegexp(`"`+k+`"\s*:\s*\d+\s*[,}]`), "%s is a JSON integer: %s", k, r)
			}
		}
	})

	It("adds the generic envelope members, if at all, with their documented types", Req("UA-GEN-004"), func() {
		for _, r := range successes() {
			Expect(r).To(HaveStatus(http.StatusOK))
			for _, k := range []string{"action", "organization", "application", "applicationName", "uri", "path"} {
				if r.Has(k) {
					Expect(r.Field(k)).To(BeAssignableToTypeOf(""), "%s is a string: %s", k, r)
				}
			}
			if r.Has("entities") {
				Expect(r.Field("entities")).To(BeAssignableToTypeOf([]any{}), "entities is an array: %s", r)
			}
			if r.Has("lastModified") {
				Expect(r.Field("lastModified")).To(Or(BeNumerically(">", 0), BeAssignableToTypeOf(map[string]any{})), "lastModified is a time or a map of times: %s", r)
			}
		}
	})

	It("carries no top-level error member in any success, whoever calls", Req("UA-GEN-005"), func() {
		var all []*Response
		for _, u := range f().Target.Users {
			if u.Token != "" {
				// The batch read is how clients read profiles, with user tokens:
				// here a user reads its own.
				Expect(f().Admin().Put(u.Name, Form("a", "1"))).To(HaveStatus(http.StatusOK))
				DeferCleanup(func() { f().Clear(u.Name) })
				all = append(all, f().As(u).Batch([]string{u.Name}, []string{"a"}))
				break
			}
		}
		all = append(all, successes()...)
		for _, r := range all {
			Expect(r).To(HaveStatus(http.StatusOK))
			Expect(r.Has("error")).To(BeFalse(), "a success carries no error key: %s", r)
		}
	})

	It("answers every response, success or error, with a non-empty JSON body and a JSON Content-Type", Req("UA-GEN-006"), func() {
		all := append(successes(),
			f().Admin().WithoutToken().Get(user),
			f().Admin().OffContract("a path outside /metadata/user").Raw(http.MethodGet, "/metadata/nothing-here", "", ""),
			f().Admin().OffContract("bad batch").BatchBody(`{`, "application/json"),
		)
		for _, r := range all {
			Expect(r.Header.Get("Content-Type")).To(HavePrefix("application/json"), "%s", r)
			Expect(r.Body).NotTo(BeEmpty(), "%s", r)
			Expect(r.Has("timestamp") || r.Has("data") || r.Has("error")).To(BeTrue(), "the body is a JSON object of the API: %s", r)
			Expect(strings.ToLower(string(r.Body))).NotTo(ContainSubstring("<html"), "%s", r)
		}
	})

	It("answers every operation on an unknown org or app with 404 organization_application_not_found", Req("UA-GEN-001", "UA-ERR-001"), func() {
		for _, c := range []Caller{f().Admin().At(f().Target.Org, "nosuchapp-conform"), f().Admin().At("nosuchorg-conform", f().Target.App.Name)} {
			for _, r := range everyOperation(c, user) {
				Expect(r).To(HaveStatus(http.StatusNotFound))
				Expect(r.Field("error")).To(Equal("organization_application_not_found"), "%s", r)
			}
		}
	})

	It("answers a method the path does not have with 405 and the error envelope", Req("UA-GEN-009"), func() {
		r := f().Admin().OffContract("an undocumented method").Raw(http.MethodPost, "/metadata/user/"+user, Form("a", "1"), "application/x-www-form-urlencoded")
		Expect(r).To(HaveStatus(http.StatusMethodNotAllowed))
		Expect(r.Text()).NotTo(BeEmpty(), "%s", r)
		Expect(f().Admin().Get(user).Attrs()).To(BeEmpty())
	})

	It("answers errors (401, 403, 400) with error_description (or desc), timestamp (Unix milliseconds) and duration", Req("UA-ERR-001"), func() {
		for _, r := range []*Response{
			f().Admin().WithoutToken().Get(user),
			f().Admin().Put(user, Form("k", Value(int(f().Target.UserLimit())+100))),
			f().Admin().OffContract("bad batch").BatchBody(`{`, "application/json"),
		} {
			Expect(r.Status).To(BeNumerically(">=", 400), "%s", r)
			Expect(r.Text()).NotTo(BeEmpty(), "%s", r)
			Expect(r.Field("timestamp")).To(BeNumerically(">", 1.5e12), "timestamp is Unix milliseconds: %s", r)
			Expect(r.Has("duration")).To(BeTrue(), "%s", r)
			if r.Has("error") && r.Has("desc") && r.Has("error_description") {
				Expect(r.Field("desc")).To(Equal(r.Field("error_description")), "desc repeats error_description: %s", r)
			}
		}
	})

	It("answers every operation of an app whose user attributes are switched off with 403", Label(LabelExtraApp), Req("UA-ERR-003"), func() {
		app := f().ExtraApp("disabled")
		name := user
		if len(app.Users) > 0 {
			name = app.Users[0].Name
		}
		for _, r := range everyOperation(f().AdminOf(app), name) {
			Expect(r).To(HaveStatus(http.StatusForbidden))
			Expect(r.Text()).To(ContainSubstring(f().Target.Org+"#"+app.Name+" user metadata service not allow"), "%s", r)
		}
	})

	It("keeps the error envelope when the store fails: 500 on every operation", Label(LabelHooks), Req("UA-ERR-004"), func() {
		for _, r := range everyOperation(f().Admin().WithFault(wire.FaultStore), user) {
			Expect(r).To(HaveStatus(http.StatusInternalServerError))
			Expect(r.Text()).NotTo(BeEmpty(), "%s", r)
		}
		Expect(f().Admin().Get(user).Attrs()).To(BeEmpty(), "the failed PUT stored nothing")
	})

	It("keeps the error envelope when overloaded: 503 on every operation", Label(LabelHooks), Req("UA-ERR-004", "UA-RATE-002"), func() {
		for _, r := range everyOperation(f().Admin().WithFault(wire.FaultOverload), user) {
			Expect(r).To(HaveStatus(http.StatusServiceUnavailable))
			Expect(r.Text()).NotTo(BeEmpty(), "%s", r)
		}
	})
})
