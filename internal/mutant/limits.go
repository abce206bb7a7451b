package mutant

import (
	"fmt"
	"maps"
	"math"
	"net/http"
	"unicode/utf8"

	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/reference/store"
)

// Limit defects: off by one in both directions, and limits checked per
// request instead of per user total.
func init() {
	register(Mutant{Name: "user-limit-minus-one", Breaks: []string{"UA-LIMIT-001"},
		Doc:   "the per-user limit is 2047 bytes: a total of exactly 2048 is refused",
		Apply: configOnly(func(c *reference.Config) { c.Limits.UserBytes = reference.DefaultUserBytes - 1 })})
	register(Mutant{Name: "body-limit-plus-one", Breaks: []string{"UA-LIMIT-002"}, Also: []string{"UA-LIMIT-006"},
		Doc:   "a request body of 4097 bytes is accepted (the over-limit body spec also checks, for UA-LIMIT-006, that the refused body stored nothing)",
		Apply: configOnly(func(c *reference.Config) { c.Limits.BodyBytes = reference.DefaultBodyBytes + 1 })})
	register(Mutant{Name: "body-limit-minus-one", Breaks: []string{"UA-LIMIT-002"},
		Doc:   "a request body of exactly 4096 bytes is refused",
		Apply: configOnly(func(c *reference.Config) { c.Limits.BodyBytes = reference.DefaultBodyBytes - 1 })})
	register(Mutant{Name: "no-body-limit", Breaks: []string{"UA-LIMIT-002"}, Also: []string{"UA-LIMIT-006"}, Fixture: pairsJSON,
		Doc:   "the request body has no size limit: under size_metric pairs and body_metric json, 400 short pairs (1892 bytes as pairs, 4293 as JSON) are stored (the over-limit body spec also checks, for UA-LIMIT-006, that the refused body stored nothing)",
		Apply: configOnly(func(c *reference.Config) { c.Limits.BodyBytes = math.MaxInt32 })})
	register(Mutant{Name: "batch-cap-99", Breaks: []string{"UA-BATCH-005", "UA-BATCH-006"}, Also: []string{"UA-ERR-002"},
		Doc:   "the batch cap is 99 targets: exactly 100 are refused, with the text 'exceed allowed batch size 99' (the over-cap spec checks that text, for UA-ERR-002)",
		Apply: configOnly(func(c *reference.Config) { c.Limits.BatchTargets = reference.DefaultBatchTargets - 1 })})
	register(Mutant{Name: "user-limit-per-request", Breaks: []string{"UA-LIMIT-001"}, Also: []string{"UA-LIMIT-006"},
		Doc:   "the 2048-byte limit is checked against the pairs of each PUT, not the user's merged total: several PUTs together exceed it (the limit specs also check, for UA-LIMIT-006, that a refused PUT stored nothing)",
		Apply: userLimitInFront(func(_ map[string]string, pairs map[string]string) int64 { return jsonSize(pairs) })})
	register(Mutant{Name: "chars-not-bytes", Breaks: []string{"UA-LIMIT-005"}, Also: []string{"UA-LIMIT-006", "UA-LIMIT-001"},
		Doc: "the per-user limit counts characters, not UTF-8 bytes: 700 three-byte characters (2100 bytes) fit under 2048 (the bytes spec also checks, for UA-LIMIT-006, that a refused PUT stored nothing; the single-exchange rules see a PUT of more than 2048 bytes answered 200, for UA-LIMIT-001)",
		Apply: userLimitInFront(func(cur, pairs map[string]string) int64 {
			merged := maps.Clone(cur)
			if merged == nil {
				merged = map[string]string{}
			}
			maps.Copy(merged, pairs)
			return int64(utf8.RuneCountInString(compactJSON(merged)))
		})})
	register(Mutant{Name: "app-quota-ignored", Breaks: []string{"UA-LIMIT-003"}, Also: []string{"UA-LIMIT-006"},
		Doc:   "the app's total quota is never enforced (the quota spec also checks, for UA-LIMIT-006, that the refused write stored nothing)",
		Apply: wrapStore(func(s store.Store) store.Store { return unlimitedApps{s} })})
}

// userLimitInFront lifts the reference's own per-user check and refuses,
// in front of it, a PUT whose size as measure counts it (given the user's
// current attributes and the request's pairs) exceeds the limit.
func userLimitInFront(measure func(cur, pairs map[string]string) int64) func(*reference.Config) func(http.Handler) http.Handler {
	return func(c *reference.Config) func(http.Handler) http.Handler {
		s := ensureStore(c)
		limit := c.Limits.UserBytes
		if limit == 0 {
			limit = reference.DefaultUserBytes
		}
		c.Limits.UserBytes = math.MaxInt32
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if rt := routeOf(r); rt.user(r, http.MethodPut) {
					cur, err := s.Load(rt.storeKey(), rt.storeUser())
					if err == nil && measure(cur.Attrs, parseForm(string(readBody(r)))) > limit {
						writeError(w, http.StatusForbidden, "FORBIDDEN",
							fmt.Sprintf("size of metadata for this single user exceeds the user defined limit, %dBytes", limit))
						return
					}
				}
				next.ServeHTTP(w, r)
			})
		}
	}
}

// unlimitedApps commits every write as if the app had no quota.
type unlimitedApps struct{ store.Store }

func (u unlimitedApps) Commit(app, user string, w store.Write) error {
	w.AppQuota = math.MaxInt64
	return u.Store.Commit(app, user, w)
}
