package mutant

import (
	"net/http"
	"slices"
	"sync"

	"golang.org/x/time/rate"

	"github.com/attrconform/attrconform/reference"
)

// Rate-limit defects.
func init() {
	register(Mutant{Name: "no-rate-limit", Breaks: []string{"UA-RATE-001", "UA-RATE-002", "UA-RATE-003"}, Also: []string{"UA-ERR-002"},
		Doc: "no app has a request budget: nothing is ever answered 429 (the extra app's rate spec also judges the refusal's text, for UA-ERR-002)",
		Apply: configOnly(func(c *reference.Config) {
			c.Limits.RatePerSecond = 1e9
			c.Tenant.Apps = slices.Clone(c.Tenant.Apps)
			for i := range c.Tenant.Apps {
				c.Tenant.Apps[i].RatePerSecond = 1e9
			}
		})})
	register(Mutant{Name: "no-rate-limit-main", Breaks: []string{"UA-RATE-001", "UA-RATE-002"}, Fixture: minimal,
		Doc: "the main app has no request budget (the extra apps keep theirs): a flood of its reads is served whole",
		Apply: configOnly(func(c *reference.Config) {
			c.Tenant.Apps = slices.Clone(c.Tenant.Apps)
			c.Tenant.Apps[0].RatePerSecond = 1e9
		})})
	register(Mutant{Name: "rate-limit-half", Breaks: []string{"UA-RATE-001"},
		Doc: "the main app's budget is 50 requests/s per operation instead of the documented 100",
		Apply: configOnly(func(c *reference.Config) {
			c.Tenant.Apps = slices.Clone(c.Tenant.Apps)
			c.Tenant.Apps[0].RatePerSecond = 50
		})})
	register(Mutant{Name: "rate-limit-shared", Breaks: []string{"UA-RATE-001"},
		Doc:   "one budget per app for all five operations together, not one per operation",
		Apply: sharedBudget})
	register(Mutant{Name: "rate-limit-no-retry-after", Breaks: []string{"UA-RATE-003"}, Also: []string{"UA-RATE-002", "UA-ERR-002"},
		Doc: "429 answers carry no Retry-After header (the extra app's rate spec judges the whole refusal, for UA-RATE-002 and UA-ERR-002, in one exchange)",
		Apply: handlerOnly(rewrite(all, func(_ *http.Request, resp *captured) {
			if resp.status == http.StatusTooManyRequests {
				resp.header.Del("Retry-After")
			}
		}))})
}

// sharedBudget lifts the per-operation budgets and spends one per app,
// at the app's own rate, on whatever operation is called.
func sharedBudget(c *reference.Config) func(http.Handler) http.Handler {
	perApp := map[string]float64{}
	c.Tenant.Apps = slices.Clone(c.Tenant.Apps)
	for i, a := range c.Tenant.Apps {
		perApp[a.Name] = a.RatePerSecond
		if perApp[a.Name] == 0 {
			perApp[a.Name] = reference.DefaultRatePerSecond
		}
		c.Tenant.Apps[i].RatePerSecond = 1e9
	}
	var mu sync.Mutex
	budgets := map[string]*rate.Limiter{}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rt := routeOf(r)
			if perSecond, ok := perApp[rt.app]; ok && rt.ok {
				mu.Lock()
				b := budgets[rt.app]
				if b == nil {
					b = rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)))
					budgets[rt.app] = b
				}
				mu.Unlock()
				if !b.Allow() {
					w.Header().Set("Retry-After", "1")
					writeError(w, http.StatusTooManyRequests, "reach_limit", "This request has reached api limit")
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
