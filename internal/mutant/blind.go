package mutant

import (
	"encoding/json"
	"errors"
	"maps"
	"math"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/reference/store"
	"github.com/attrconform/attrconform/target"
)

// Blind mutants (issue 18): plausible implementation bugs written from the
// documents alone, before any spec was run against them, to measure how
// many defects nobody listed the suite catches. One or two per concern:
// writes, limits, batch reads, names, auth, envelope, capacity, deletes
// and races.
func init() {
	registerBlind(Mutant{Name: "form-split-last-equals", Breaks: []string{"UA-PUT-003"},
		Doc:   "a form pair is split at its last '=' instead of its first: a raw value holding '=' (avatarurl=http://x/a.png?s=2, as the web SDK sends it unescaped) is stored under the key 'avatarurl=http://x/a.png?s' with the value '2'",
		Apply: handlerOnly(splitAtLastEquals)})
	registerBlind(Mutant{Name: "put-echoes-raw-value", Breaks: []string{"UA-PUT-005"},
		Doc:   "the PUT answer's data echoes each value as it was sent, still form-encoded ('a+b', 'x%26y'), while the store keeps the decoded value ('a b', 'x&y')",
		Apply: handlerOnly(echoRawValues)})
	registerBlind(Mutant{Name: "empty-value-new-key-refused", Breaks: []string{"UA-PUT-007", "UA-PUT-003"},
		Doc:   "key= for a key the user does not have yet answers 400 (the insert path validates values as non-empty; the update path of an existing key stores \"\")",
		Apply: emptyNewKeyRefused})
	registerBlind(Mutant{Name: "limit-overwrite-counts-old", Breaks: []string{"UA-LIMIT-001", "UA-LIMIT-005"},
		Doc: "the per-user limit is checked against the user's stored size plus the size of the request's pairs, so an overwritten value is counted twice (old and new): overwriting a 1500-byte value with another is refused with 403 though the merged map stays near 1500 bytes",
		Apply: userLimitInFront(func(cur, pairs map[string]string) int64 {
			if len(cur) == 0 || len(pairs) == 0 {
				return jsonSize(cur) + jsonSize(pairs)
			}
			return jsonSize(cur) + jsonSize(pairs) - 1 // the two objects' braces become one comma
		})})
	registerBlind(Mutant{Name: "app-quota-checked-before-write", Breaks: []string{"UA-LIMIT-003"},
		Doc:   "the app quota is checked against the app's usage before the write (used > quota) instead of after it: as long as the app is under its quota, any one write is accepted, however far past the quota it takes the app",
		Apply: wrapStore(func(s store.Store) store.Store { return quotaBeforeWrite{s} })})
	registerBlind(Mutant{Name: "batch-case-duplicate-dropped", Breaks: []string{"UA-BATCH-010", "UA-BATCH-002"},
		Doc: "the batch read removes duplicate targets case-insensitively before the lookup, keeping the first spelling: targets [\"Alice\",\"alice\"] are answered under \"Alice\" only, and the client that looks up \"alice\" finds nothing",
		Apply: handlerOnly(editBatchRequest(func(req map[string]json.RawMessage) {
			var targets []string
			if json.Unmarshal(req["targets"], &targets) != nil {
				return
			}
			seen := map[string]bool{}
			kept := targets[:0]
			for _, t := range targets {
				if !seen[target.FoldName(t)] {
					seen[target.FoldName(t)] = true
					kept = append(kept, t)
				}
			}
			req["targets"], _ = json.Marshal(kept)
		}))})
	registerBlind(Mutant{Name: "batch-properties-fold-case", Breaks: []string{"UA-BATCH-003", "UA-GEN-008"},
		Doc:   "the batch read matches properties to keys case-insensitively (its IN query runs under a case-insensitive collation, the GET reads the whole map): properties [\"nickname\"] also returns the user's Nickname",
		Apply: propertiesFoldCase})
	registerBlind(Mutant{Name: "batch-cap-counts-distinct", Breaks: []string{"UA-BATCH-006", "UA-BATCH-009"},
		Doc:   "the batch cap is checked after duplicate targets are removed: 101 targets naming 100 distinct users are answered 200 instead of refused",
		Apply: capCountsDistinct})
	registerBlind(Mutant{Name: "batch-stale-after-delete", Breaks: []string{"UA-DEL-001", "UA-BATCH-002"},
		Doc:   "the batch read answers from a profile index that every successful PUT refreshes and DELETE forgets: after a DELETE, the single GET reads {} but the batch read still returns the deleted attributes",
		Apply: staleBatchIndex})
	registerBlind(Mutant{Name: "read-cache-raw-name", Breaks: []string{"UA-NAME-003", "UA-GET-001"},
		Doc:   "the GET answer is cached under the username as written in the path, and a successful PUT or DELETE evicts only its own spelling: after GET alice, a PUT to ALICE is not seen by the next GET alice (and, as with any read-through cache without versions, a GET racing a PUT may cache the map from before it)",
		Apply: handlerOnly(rawNameReadCache)})
	registerBlind(Mutant{Name: "self-check-case-sensitive", Breaks: []string{"UA-AUTH-004", "UA-AUTH-008", "UA-NAME-003"},
		Doc:   "the check that a user token addresses its own user compares names case-sensitively: alice's token on /metadata/user/Alice answers 401 auth error for PUT, GET and DELETE",
		Apply: selfCheckCaseSensitive})
	registerBlind(Mutant{Name: "user-put-unknown-404", Breaks: []string{"UA-AUTH-005"},
		Doc:   "a user token's PUT for a username without an account answers 404 instead of 401 (the account is looked up before the token is checked against it), which tells any user which accounts exist",
		Apply: userPutUnknown404})
	registerBlind(Mutant{Name: "duration-microseconds", Breaks: []string{"UA-GEN-003"},
		Doc:   "success answers carry duration in microseconds (time.Since(start).Microseconds()) where the documents say milliseconds: a PUT that took 11 ms reports 11000",
		Apply: handlerOnly(durationMicros)})
	registerBlind(Mutant{Name: "capacity-pairs-metric", Breaks: []string{"UA-CAP-003"},
		Doc: "capacity sums the bytes of keys and values (a SUM(LENGTH(k)+LENGTH(v)) query) while the per-user limit measures the compact JSON of the map, the metric the target declares: capacity disagrees with the sizes the limit counts",
		Apply: wrapStore(func(s store.Store) store.Store {
			return &pairsUsage{Store: s, used: map[string]int64{}}
		})})
	registerBlind(Mutant{Name: "overwrite-unversioned", Breaks: []string{"UA-CONC-001", "UA-CONC-003"},
		Doc: "a PUT that only overwrites keys the user already has is committed without the version check (its UPDATE lacks the version predicate; the path that adds keys has it): two such PUTs racing on different keys both answer 200 and one of them is lost",
		Apply: wrapStore(func(s store.Store) store.Store {
			return &overwriteBlind{Store: s, read: map[string]map[uint64][]string{}}
		})})
	registerBlind(Mutant{Name: "put-resurrects-deleted", Breaks: []string{"UA-CONC-003", "UA-DEL-001"},
		Doc:   "a PUT whose versioned update finds the user's row deleted since it read falls back to inserting its merged map: a PUT racing a DELETE brings back the attributes the DELETE removed",
		Apply: wrapStore(func(s store.Store) store.Store { return resurrecting{s} })})
}

// splitAtLastEquals rewrites each pair of a PUT body that holds more than
// one '=' as the reference reads it when split at the last one (the key's
// own '=' escaped, the rest of the pair as sent).
func splitAtLastEquals(next http.Handler) http.Handler {
	return before(func(r *http.Request) bool { return routeOf(r).user(r, http.MethodPut) }, func(r *http.Request) {
		parts := strings.Split(string(readBody(r)), "&")
		for i, p := range parts {
			if at := strings.LastIndex(p, "="); at > strings.Index(p, "=") {
				parts[i] = strings.ReplaceAll(p[:at], "=", "%3D") + p[at:]
			}
		}
		replaceBody(r, []byte(strings.Join(parts, "&")))
	})(next)
}

// echoRawValues answers a successful PUT with the request's values as
// sent, undecoded.
func echoRawValues(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !routeOf(r).user(r, http.MethodPut) {
			next.ServeHTTP(w, r)
			return
		}
		raw := map[string]string{}
		for part := range strings.SplitSeq(string(readBody(r)), "&") {
			k, v, _ := strings.Cut(part, "=")
			if _, seen := raw[unescape(k)]; !seen {
				raw[unescape(k)] = v
			}
		}
		resp := capture(next, r)
		if resp.status == http.StatusOK {
			resp.editJSON(func(obj map[string]json.RawMessage) {
				var data map[string]string
				if json.Unmarshal(obj["data"], &data) != nil {
					return
				}
				for k := range data {
					if v, sent := raw[k]; sent {
						data[k] = v
					}
				}
				obj["data"], _ = json.Marshal(data)
			})
		}
		resp.send(w)
	})
}

// emptyNewKeyRefused answers 400 to a form PUT, by the admin or the user
// itself for an account of the tenant, with an empty value for a key the
// user does not have.
func emptyNewKeyRefused(c *reference.Config) func(http.Handler) http.Handler {
	s := ensureStore(c)
	t := tokensOf(c.Tenant)
	known := accounts(c.Tenant)
	off := disabledApps(c.Tenant)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rt := routeOf(r)
			allowed := t.isAdmin(r) || t.names[bearer(r)] == rt.storeUser()
			mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			form := mt == "application/x-www-form-urlencoded"
			if rt.user(r, http.MethodPut) && form && allowed && rt.org == c.Tenant.Org && known[rt.app][rt.storeUser()] && !off[rt.app] {
				if cur, err := s.Load(rt.storeKey(), rt.storeUser()); err == nil {
					for k, v := range parseForm(string(readBody(r))) {
						if _, has := cur.Attrs[k]; v == "" && !has {
							writeError(w, http.StatusBadRequest, "illegal_argument", "the value of attribute "+k+" is empty")
							return
						}
					}
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// quotaBeforeWrite refuses a write only when the app is already over its
// quota.
type quotaBeforeWrite struct{ store.Store }

func (q quotaBeforeWrite) Commit(app, user string, w store.Write) error {
	used, err := q.Usage(app)
	if err != nil {
		return err
	}
	if used > w.AppQuota {
		return store.ErrQuota
	}
	w.AppQuota = math.MaxInt64
	return q.Store.Commit(app, user, w)
}

// propertiesFoldCase adds to a batch answer the keys of each target that
// match a requested property but for case.
func propertiesFoldCase(c *reference.Config) func(http.Handler) http.Handler {
	s := ensureStore(c)
	return editBatchData(func(r *http.Request, req batchRequest, data map[string]map[string]string) {
		for _, name := range req.Targets {
			e, err := s.Load(routeOf(r).storeKey(), target.FoldName(name))
			if err != nil || !target.ValidUsername(name) {
				continue
			}
			for k, v := range e.Attrs {
				folds := slices.ContainsFunc(req.Properties, func(p string) bool { return strings.EqualFold(p, k) })
				if folds && !slices.Contains(req.Properties, k) {
					if data[name] == nil {
						data[name] = map[string]string{}
					}
					data[name][k] = v
				}
			}
		}
	})
}

// capCountsDistinct lets through, without its duplicates, a batch whose
// targets are over the cap but whose distinct targets are not.
func capCountsDistinct(c *reference.Config) func(http.Handler) http.Handler {
	limit := c.Limits.BatchTargets
	if limit == 0 {
		limit = reference.DefaultBatchTargets
	}
	return editBatchRequest(func(req map[string]json.RawMessage) {
		var targets []string
		if json.Unmarshal(req["targets"], &targets) != nil || len(targets) <= limit {
			return
		}
		distinct := slices.Clone(targets)
		slices.Sort(distinct)
		if distinct = slices.Compact(distinct); len(distinct) <= limit {
			req["targets"], _ = json.Marshal(distinct)
		}
	})
}

// staleBatchIndex keeps each user's map as its last successful PUT left
// it, and answers a batch target the reference found nothing for from
// it.
func staleBatchIndex(c *reference.Config) func(http.Handler) http.Handler {
	s := ensureStore(c)
	var mu sync.Mutex
	index := map[string]map[string]string{} // store key + "/" + user -> attributes
	fromIndex := editBatchData(func(r *http.Request, req batchRequest, data map[string]map[string]string) {
		mu.Lock()
		defer mu.Unlock()
		for _, name := range req.Targets {
			if found := only(index[routeOf(r).storeKey()+"/"+target.FoldName(name)], req.Properties); len(data[name]) == 0 && len(found) > 0 {
				data[name] = found
			}
		}
	})
	return func(next http.Handler) http.Handler {
		batch := fromIndex(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rt := routeOf(r)
			if !rt.user(r, http.MethodPut) {
				batch.ServeHTTP(w, r)
				return
			}
			resp := capture(next, r)
			if e, err := s.Load(rt.storeKey(), rt.storeUser()); err == nil && resp.status == http.StatusOK {
				mu.Lock()
				index[rt.storeKey()+"/"+rt.storeUser()] = e.Attrs
				mu.Unlock()
			}
			resp.send(w)
		})
	}
}

// only is the attributes names lists; no names means all.
func only(attrs map[string]string, names []string) map[string]string {
	if len(names) == 0 {
		return maps.Clone(attrs)
	}
	out := map[string]string{}
	for _, n := range names {
		if v, has := attrs[n]; has {
			out[n] = v
		}
	}
	return out
}

// rawNameReadCache answers a successful GET with the data cached under
// the path's username as written; PUT and DELETE evict their own
// spelling only.
func rawNameReadCache(next http.Handler) http.Handler {
	var mu sync.Mutex
	cache := map[string]json.RawMessage{} // store key + "/" + username as written -> data
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt := routeOf(r)
		if !rt.ok || rt.batch(r) || rt.capacity(r) {
			next.ServeHTTP(w, r)
			return
		}
		key := rt.storeKey() + "/" + rt.rest
		resp := capture(next, r)
		if resp.status == http.StatusOK {
			mu.Lock()
			switch r.Method {
			case http.MethodGet:
				if data, hit := cache[key]; hit {
					resp.editJSON(func(obj map[string]json.RawMessage) { obj["data"] = data })
				} else {
					resp.editJSON(func(obj map[string]json.RawMessage) { cache[key] = obj["data"] })
				}
			case http.MethodPut, http.MethodDelete:
				delete(cache, key)
			}
			mu.Unlock()
		}
		resp.send(w)
	})
}

// selfCheckCaseSensitive refuses a user token on its own username spelled
// in another case.
func selfCheckCaseSensitive(c *reference.Config) func(http.Handler) http.Handler {
	t := tokensOf(c.Tenant)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rt := routeOf(r)
			self, user := t.names[bearer(r)]
			if user && rt.ok && !rt.batch(r) && !rt.capacity(r) && rt.storeUser() == self && rt.rest != self {
				writeError(w, http.StatusUnauthorized, "metadata_error", "auth error")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// userPutUnknown404 answers 404 to a user token's PUT for a username
// without an account in the tenant.
func userPutUnknown404(c *reference.Config) func(http.Handler) http.Handler {
	t := tokensOf(c.Tenant)
	known := accounts(c.Tenant)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rt := routeOf(r)
			if _, user := t.names[bearer(r)]; user && rt.user(r, http.MethodPut) && !known[rt.app][rt.storeUser()] {
				writeError(w, http.StatusNotFound, "service_resource_not_found", "Service resource not found")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// durationMicros sets the duration of success answers to the time taken
// in microseconds.
func durationMicros(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		resp := capture(next, r)
		if resp.status == http.StatusOK {
			resp.editJSON(func(obj map[string]json.RawMessage) {
				if _, has := obj["duration"]; has {
					obj["duration"] = json.RawMessage(jsonInt(time.Since(start).Microseconds()))
				}
			})
		}
		resp.send(w)
	})
}

// pairsUsage reports as the app's usage the bytes of its keys and values.
type pairsUsage struct {
	store.Store
	mu   sync.Mutex
	used map[string]int64
}

func pairsSize(attrs map[string]string) int64 {
	var n int64
	for k, v := range attrs {
		n += int64(len(k) + len(v))
	}
	return n
}

func (p *pairsUsage) Commit(app, user string, w store.Write) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	old, err := p.Store.Load(app, user)
	if err != nil {
		return err
	}
	if err := p.Store.Commit(app, user, w); err != nil {
		return err
	}
	p.used[app] += pairsSize(w.Attrs) - pairsSize(old.Attrs)
	return nil
}

func (p *pairsUsage) Delete(app, user string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	old, err := p.Store.Load(app, user)
	if err != nil {
		return err
	}
	if err := p.Store.Delete(app, user); err != nil {
		return err
	}
	p.used[app] -= pairsSize(old.Attrs)
	return nil
}

func (p *pairsUsage) Usage(app string) (int64, error) {
	if _, err := p.Store.Usage(app); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.used[app], nil
}

// overwriteBlind remembers the keys each user had at each version read,
// and commits without the version check a write whose keys are exactly
// those it read (a PUT that added no key).
type overwriteBlind struct {
	store.Store
	mu   sync.Mutex
	read map[string]map[uint64][]string // app + "/" + user -> version -> sorted keys
}

func (o *overwriteBlind) Load(app, user string) (store.Entry, error) {
	e, err := o.Store.Load(app, user)
	if err != nil {
		return e, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	seen := o.read[app+"/"+user]
	if seen == nil {
		seen = map[uint64][]string{}
		o.read[app+"/"+user] = seen
	}
	seen[e.Version] = slices.Sorted(maps.Keys(e.Attrs))
	for v := range seen { // a write reads shortly before it commits; bounded
		if v+64 < e.Version {
			delete(seen, v)
		}
	}
	return e, nil
}

func (o *overwriteBlind) Commit(app, user string, w store.Write) error {
	err := o.Store.Commit(app, user, w)
	if !errors.Is(err, store.ErrConflict) {
		return err
	}
	o.mu.Lock()
	keys, known := o.read[app+"/"+user][w.Version]
	o.mu.Unlock()
	if !known || len(keys) == 0 || !slices.Equal(keys, slices.Sorted(maps.Keys(w.Attrs))) {
		return err
	}
	cur, lerr := o.Store.Load(app, user)
	if lerr != nil {
		return err
	}
	w.Version = cur.Version
	return o.Store.Commit(app, user, w)
}

// resurrecting commits a conflicting write anyway when the user's
// attributes were deleted since it read.
type resurrecting struct{ store.Store }

func (r resurrecting) Commit(app, user string, w store.Write) error {
	err := r.Store.Commit(app, user, w)
	if !errors.Is(err, store.ErrConflict) {
		return err
	}
	cur, lerr := r.Load(app, user)
	if lerr != nil || len(cur.Attrs) > 0 {
		return err
	}
	w.Version = cur.Version
	return r.Store.Commit(app, user, w)
}

func registerBlind(m Mutant) {
	m.Blind = true
	register(m)
}
