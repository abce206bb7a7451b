package suites

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/attrconform/attrconform/contract/wire"
	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/model"
)

var _ = Describe("Envelopes, routes and error bodies", Label("envelope"), Serial, func() {
	var user string
	BeforeEach(func() {
		user = env().User(0).Name
		env().Clear(user)
	})

	// successes calls the five operations as the admin, each as it
	// succeeds: PUT, GET, batch, capacity, DELETE. The documents' rules of
	// the envelope (model.Envelope) judge their answers.
	successes := func() []*framework.Response {
		GinkgoHelper()
		return []*framework.Response{
			env().Admin().Put(user, framework.Form("a", "1")),
			env().Admin().Get(user),
			env().Admin().Batch([]string{user}, []string{"a"}),
			env().Admin().Capacity(),
			env().Admin().Delete(user),
		}
	}

	It("answers every successful operation with 200 exactly and a JSON object body", framework.Req("UA-GEN-002"), func() {
		for _, r := range successes() {
			Expect(r).To(framework.HaveStatus(http.StatusOK))
			Expect(r.Has("data")).To(BeTrue(), "a success body is a JSON object with data: %s", r)
		}
	})

	It("carries timestamp (integer Unix milliseconds), duration (integer) and data in every success", framework.Req("UA-GEN-003"), func() {
		for _, r := range successes() {
			Expect(r).To(framework.HaveStatus(http.StatusOK))
			expectEnvelope(r, model.Other, "UA-GEN-003")
		}
	})

	It("adds the generic envelope members, if at all, with their documented types", framework.Req("UA-GEN-004"), func() {
		for _, r := range successes() {
			Expect(r).To(framework.HaveStatus(http.StatusOK))
			expectEnvelope(r, model.Other, "UA-GEN-004")
		}
	})

	It("carries no top-level error member in any success, whoever calls", framework.Req("UA-GEN-005"), func() {
		var all []*framework.Response
		for _, u := range env().Target.Users {
			if u.Token != "" {
				// The batch read is how clients read profiles, with user tokens:
				// here a user reads its own.
				Expect(env().Admin().Put(u.Name, framework.Form("a", "1"))).To(framework.HaveStatus(http.StatusOK))
				DeferCleanup(func() { env().Clear(u.Name) })
				all = append(all, env().As(u).Batch([]string{u.Name}, []string{"a"}))
				break
			}
		}
		all = append(all, successes()...)
		for _, r := range all {
			Expect(r).To(framework.HaveStatus(http.StatusOK))
			expectEnvelope(r, model.Other, "UA-GEN-005")
		}
	})

	It("answers every response, success or error, with a non-empty JSON body and a JSON Content-Type", framework.Req("UA-GEN-006"), func() {
		all := append(successes(),
			env().Admin().WithoutToken().Get(user),
			env().Admin().OffContract("a path outside /metadata/user").Raw(http.MethodGet, "/metadata/nothing-here", "", ""),
			env().Admin().OffContract("bad batch").BatchBody(`{`, "application/json"),
		)
		for _, r := range all {
			expectEnvelope(r, model.Other, "UA-GEN-006")
			Expect(r.Has("timestamp") || r.Has("data") || r.Has("error")).To(BeTrue(), "the body is a JSON object of the API: %s", r)
		}
	})

	It("answers every operation on an unknown org or app with 404 organization_application_not_found", framework.Req("UA-GEN-001", "UA-ERR-001"), func() {
		for _, c := range []framework.Caller{env().Admin().At(env().Target.Org, "nosuchapp-conform"), env().Admin().At("nosuchorg-conform", env().Target.App.Name)} {
			for _, r := range everyOperation(c, user) {
				Expect(r).To(framework.HaveStatus(http.StatusNotFound))
				Expect(r.Field("error")).To(Equal("organization_application_not_found"), "%s", r)
			}
		}
	})

	It("answers a method the path does not have with 405 and the error envelope", framework.Req("UA-GEN-009"), func() {
		r := env().Admin().OffContract("an undocumented method").Raw(http.MethodPost, "/metadata/user/"+user, framework.Form("a", "1"), "application/x-www-form-urlencoded")
		Expect(r).To(framework.HaveStatus(http.StatusMethodNotAllowed))
		Expect(r.Text()).NotTo(BeEmpty(), "%s", r)
		Expect(env().Admin().Get(user).Attrs()).To(BeEmpty())
	})

	It("answers errors (401, 403, 400) with error_description (or desc), timestamp (Unix milliseconds) and duration", framework.Req("UA-ERR-001"), func() {
		for op, r := range map[model.Op]*framework.Response{
			model.Get:   env().Admin().WithoutToken().Get(user),
			model.Put:   env().Admin().Put(user, framework.Form("k", framework.Value(int(env().Target.UserLimit())+100))),
			model.Batch: env().Admin().OffContract("bad batch").BatchBody(`{`, "application/json"),
		} {
			Expect(r.Status).To(BeNumerically(">=", 400), "%s", r)
			expectEnvelope(r, op, "UA-ERR-001")
		}
	})

	It("answers every operation of an app whose user attributes are switched off with 403", Label(framework.LabelExtraApp), framework.Req("UA-ERR-003"), func() {
		app := env().ExtraApp("disabled")
		name := user
		if len(app.Users) > 0 {
			name = app.Users[0].Name
		}
		for _, r := range everyOperation(env().AdminOf(app), name) {
			Expect(r).To(framework.HaveStatus(http.StatusForbidden))
			expectText(r, model.ErrDisabled, env().Target.Org+"#"+app.Name)
		}
	})

	It("keeps the error envelope when the store fails: 500 on every operation", Label(framework.LabelHooks), framework.Req("UA-ERR-004"), func() {
		for _, r := range everyOperation(env().Admin().WithFault(wire.FaultStore), user) {
			Expect(r).To(framework.HaveStatus(http.StatusInternalServerError))
			Expect(r.Text()).NotTo(BeEmpty(), "%s", r)
		}
		Expect(env().Admin().Get(user).Attrs()).To(BeEmpty(), "the failed PUT stored nothing")
	})

	It("keeps the error envelope when overloaded: 503 on every operation", Label(framework.LabelHooks), framework.Req("UA-ERR-004", "UA-RATE-002"), func() {
		for _, r := range everyOperation(env().Admin().WithFault(wire.FaultOverload), user) {
			Expect(r).To(framework.HaveStatus(http.StatusServiceUnavailable))
			Expect(r.Text()).NotTo(BeEmpty(), "%s", r)
		}
	})
})
