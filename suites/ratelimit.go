package suites

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/target"
)

var _ = Describe("Request budget", Label("ratelimit", framework.LabelBurst), Serial, func() {
	It("answers requests over the app's budget with 429 and a Retry-After in seconds on every operation, then serves again", Label(framework.LabelExtraApp), framework.Req("UA-RATE-002", "UA-RATE-003", "UA-ERR-002"), func() {
		app := env().ExtraApp("rate_limited")
		if app.RatePerSecond == 0 || len(app.Users) == 0 {
			Skip("extra_apps.rate_limited needs rate_per_second and one user")
		}
		c := env().AdminOf(app)
		user := app.Users[0].Name
		// Each operation has its own budget: more than twice the rate within
		// a second, as fast as it can be sent, must meet it.
		n := 2*int(app.RatePerSecond) + 1
		wait := 0
		for _, op := range operations {
			l := c.Flood(op.request(user), n, time.Second)
			if l.Status == 0 && l.Err != nil {
				c.Must(nil, l.Err)
			}
			if l.First == nil && l.Err == nil {
				if l.Sent < n || l.Elapsed >= time.Second {
					framework.NotObserved("%d %s requests in %s were all served, but %d within a second are needed to tell the app's %.0f/s from no limit", l.Sent, op.name, l.Elapsed.Round(time.Millisecond), n, app.RatePerSecond)
				}
				Fail(fmt.Sprintf("%d %s requests within %s to an app allowing %.0f/s were all served, none refused for the rate", l.Sent, op.name, l.Elapsed.Round(time.Millisecond), app.RatePerSecond))
			}
			refused := c.Must(l.First, l.Err)
			expectRefusedForRate(refused)
			seconds, _ := strconv.Atoi(refused.Header.Get("Retry-After"))
			wait = max(wait, seconds, 1)
		}
		time.Sleep(time.Duration(wait) * time.Second)
		Expect(c.Get(user)).To(framework.HaveStatus(http.StatusOK), "after Retry-After the app is served again")
	})

	// The main app is judged on read operations only, so that nothing
	// needs restoring. A target whose main app has a raised limit declares
	// it as rate_per_second.
	mainRate := func() float64 {
		GinkgoHelper()
		r := env().Target.App.RatePerSecond
		if r == 0 {
			r = target.DefaultRatePerSecond
		}
		if r > maxJudgedRate {
			Skip(fmt.Sprintf("the main app declares rate_per_second %.0f; judging it would take more than the %d requests these specs may send", r, 2*maxJudgedRate+1))
		}
		return r
	}

	Describe("of the main app", Ordered, ContinueOnFailure, func() {
		// One flood serves the three specs that judge it; whichever runs
		// first sends it.
		var flood *framework.Load
		flooded := func() framework.Load {
			GinkgoHelper()
			if flood == nil {
				rate := mainRate()
				// More than twice the rate within one second overflows a
				// token bucket, a sliding window and two fixed windows alike.
				l := env().Admin().Flood(framework.Request{Method: http.MethodGet, Path: "/metadata/user/" + env().User(0).Name}, 2*int(rate)+1, time.Second)
				flood = &l
			}
			framework.Note("flood", fmt.Sprintf("%d GETs in %s", flood.Sent, flood.Elapsed.Round(time.Millisecond)))
			return *flood
		}
		// refusal is the flood's refusal, for the specs that judge it; a
		// spec without one is skipped (UA-RATE-001 says why).
		refusal := func() *framework.Response {
			GinkgoHelper()
			l := flooded()
			if !slices.Contains(model.Statuses(profile.RateLimitStatus), l.Status) {
				Skip("the flood met no refusal for rate to judge (UA-RATE-001 says why)")
			}
			return env().Admin().Must(l.First, l.Err)
		}

		It("refuses a flood of more than twice the rate within a second", framework.Req("UA-RATE-001"), func() {
			rate := mainRate()
			l := flooded()
			switch {
			case l.Status == 0 && l.Err != nil:
				env().Admin().Must(nil, l.Err)
			case l.Status == 0:
				if n := 2*int(rate) + 1; l.Sent < n || l.Elapsed >= time.Second {
					framework.NotObserved("%d GETs in %s were all served, but %d within a second are needed to tell the documented %.0f/s from no limit", l.Sent, l.Elapsed.Round(time.Millisecond), n, rate)
				}
				Fail(fmt.Sprintf("%d GETs of one user within %s were all answered 200: the main app takes more than the documented %.0f requests/s of one operation", l.Sent, l.Elapsed.Round(time.Millisecond), rate))
			}
			Expect(model.Statuses(profile.RateLimitStatus)).To(ContainElement(l.Status), "request %d of the flood was answered %d, neither served nor refused for rate: %v", l.Sent, l.Status, l.First)
		})

		It("answers the requests over the limit with 429 and the documented text", framework.Req("UA-RATE-002"), func() {
			r := refusal()
			sawStatus(profile.RateLimitStatus, r)
			expectText(r, model.ErrRateLimit, nil)
		})

		It("names in Retry-After the seconds to wait, and serves again after them", framework.Req("UA-RATE-003"), func() {
			r := refusal()
			expectRetryAfter(r)
			wait, _ := strconv.Atoi(r.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(wait, 1)) * time.Second)
			Expect(env().Admin().Get(env().User(0).Name)).To(framework.HaveStatus(http.StatusOK), "after Retry-After the app is served again")
		})

		It("serves two read operations at 95% of their rate each, at the same time, without refusing", framework.Req("UA-RATE-001"), func() {
			rate := mainRate()
			c := env().Admin()
			user := env().User(0).Name
			// Three seconds at 95%, never two requests of one operation closer
			// than 1/(0.95 rate): more than a limit of half the rate serves even
			// with a full second's burst, and two operations at once exceed one
			// budget shared by all operations.
			pace, d := 0.95*rate, 3*time.Second
			loads := make([]framework.Load, 2)
			reqs := []framework.Request{{Method: http.MethodGet, Path: "/metadata/user/" + user}, {Method: http.MethodGet, Path: "/metadata/user/capacity"}}
			// Earlier traffic must leave room: at most 5% of the rate in the
			// last second, whatever kind of limiter the target runs.
			for _, r := range reqs {
				c.Calm(r, int(0.05*rate))
			}
			var wg sync.WaitGroup
			for i := range reqs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					loads[i] = c.Paced(reqs[i], pace, d)
				}()
			}
			wg.Wait()
			for i, l := range loads {
				framework.Note("paced", fmt.Sprintf("%s %s: %d requests in %s", reqs[i].Method, reqs[i].Path, l.Sent, l.Elapsed.Round(time.Millisecond)))
				if l.Err != nil {
					c.Must(nil, l.Err)
				}
				Expect(l.First).To(BeNil(), "request %d of %s %s, paced at %.0f/s beside another operation at the same pace, was refused under the documented %.0f/s per operation: %v", l.Sent, reqs[i].Method, reqs[i].Path, pace, rate, l.First)
			}
			for i, l := range loads {
				if achieved := float64(l.Sent) / l.Elapsed.Seconds(); achieved < 0.7*rate {
					framework.NotObserved("%s %s was served whole, but only %.0f requests/s could be sent (%d in %s), too few to show the documented %.0f/s", reqs[i].Method, reqs[i].Path, achieved, l.Sent, l.Elapsed.Round(time.Millisecond), rate)
				}
			}
		})
	})
})

// maxJudgedRate bounds the rate the main-app specs judge, and with it the
// requests they send.
const maxJudgedRate = 500

// expectRefusedForRate checks a refusal for rate: 429 (or 503), its text,
// and a Retry-After in seconds that is a pause, not a ban.
func expectRefusedForRate(r *framework.Response) {
	GinkgoHelper()
	sawStatus(profile.RateLimitStatus, r)
	expectText(r, model.ErrRateLimit, nil)
	expectRetryAfter(r)
}

// expectRetryAfter checks that a refusal for rate carries a Retry-After in
// seconds that is a pause, not a ban (model.RetryAfter).
func expectRetryAfter(r *framework.Response) {
	GinkgoHelper()
	for _, p := range model.RetryAfter(r.Answer()) {
		framework.Failf("%s\n  exchange: %s", p, r)
	}
}
