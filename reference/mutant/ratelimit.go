package mutant

import (
	"net/http"
	"slices"

	"github.com/attrconform/attrconform/reference"
)

// Rate-limit defects.
func init() {
	register(Mutant{Name: "no-rate-limit", Breaks: []string{"UA-RATE-002", "UA-RATE-003"},
		Doc: "no app has a request budget: nothing is ever answered 429",
		Apply: configOnly(func(c *reference.Config) {
			c.Limits.RatePerSecond = 1e9
			c.Tenant.Apps = slices.Clone(c.Tenant.Apps)
			for i := range c.Tenant.Apps {
				c.Tenant.Apps[i].RatePerSecond = 1e9
			}
		})})
	register(Mutant{Name: "rate-limit-no-retry-after", Breaks: []string{"UA-RATE-003"},
		Doc: "429 answers carry no Retry-After header",
		Apply: handlerOnly(rewrite(all, func(_ *http.Request, resp *captured) {
			if resp.status == http.StatusTooManyRequests {
				resp.header.Del("Retry-After")
			}
		}))})
}
