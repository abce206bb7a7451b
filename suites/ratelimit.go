package suites

import (
	"net/http"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	. "github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/profile"
)

var _ = Describe("Request budget", Label("ratelimit", LabelBurst), Serial, func() {
	It("answers requests over the app's budget with 429 and a Retry-After in seconds on every operation, then serves again", Label(LabelExtraApp), Req("UA-RATE-002", "UA-RATE-003", "UA-ERR-002"), func() {
		app := f().ExtraApp("rate_limited")
		if app.RatePerSecond == 0 || len(app.Users) == 0 {
			Skip("extra_apps.rate_limited needs rate_per_second and one user")
		}
		c := f().AdminOf(app).Unbudgeted()
		user := app.Users[0].Name
		// Each operation has its own budget: a burst of three seconds' worth,
		// sent as fast as possible, must meet it. Bounded in count and time.
		limit := int(3*app.RatePerSecond) + 5
		deadline := time.Now().Add(20 * time.Second)
		wait := 0
		for op := range 5 {
			var refused *Response
			for i := 0; i < limit && time.Now().Before(deadline) && refused == nil; i++ {
				r := everyOperationCall(c, user, op)
				Expect(r).To(HaveStatus(http.StatusOK, http.StatusTooManyRequests, http.StatusServiceUnavailable))
				if r.Status != http.StatusOK {
					refused = r
				}
			}
			Expect(refused).NotTo(BeNil(), "%d requests at full speed to an app allowing %.0f/s were all served (operation %d of 5)", limit, app.RatePerSecond, op+1)
			f().Saw(profile.RateLimitStatus, statusText(refused), refused)
			expectText(refused, "This request has reached api limit", "reached api limit")
			Expect(refused.Header.Get("Retry-After")).NotTo(BeEmpty(), "a refusal for rate carries Retry-After: %s", refused)
			seconds, err := strconv.Atoi(refused.Header.Get("Retry-After"))
			Expect(err).NotTo(HaveOccurred(), "Retry-After is a number of seconds: %s", refused)
			Expect(seconds).To(BeNumerically("<=", 60), "Retry-After is a pause, not a ban: %s", refused)
			wait = max(wait, seconds, 1)
		}
		time.Sleep(time.Duration(wait) * time.Second)
		Expect(c.Get(user)).To(HaveStatus(http.StatusOK), "after Retry-After the app is served again")
	})

	It("serves an operation's documented 100 requests per second without refusing", Req("UA-RATE-001"), func() {
		c := f().Admin().Unbudgeted()
		user := f().User(0).Name
		// 60 GETs paced at 80/s: under the documented budget of one operation.
		tick := time.NewTicker(time.Second / 80)
		defer tick.Stop()
		for i := 0; i < 60; i++ {
			<-tick.C
			Expect(c.Get(user)).To(HaveStatus(http.StatusOK), "request %d of 60 paced at 80/s", i+1)
		}
	})
})
