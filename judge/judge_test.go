package judge_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	attrconform "github.com/attrconform/attrconform"
	"github.com/attrconform/attrconform/catalog"
	"github.com/attrconform/attrconform/contract"
	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/judge"
	"github.com/attrconform/attrconform/redact"
	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/target"
)

const base = "http://127.0.0.1:1"

// The bundled tenant: size_metric json, body_metric raw, limits 2048 user
// bytes, 4096 body bytes, 100 targets.
func tenant(t testing.TB) *target.Target {
	t.Helper()
	tg, err := reference.BundledTarget()
	if err != nil {
		t.Fatal(err)
	}
	tg.BaseURL = base
	return tg
}

func newJudge(t testing.TB, tg *target.Target) *judge.Judge {
	t.Helper()
	c, err := contract.Load(attrconform.Contract, tg.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	j, err := judge.New(tg, c, redact.New(tg.Secrets()...).Redact)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// exchange is a request as a client sends it and the target's answer.
type exchange struct {
	method, path, token, contentType, body string
	status                                 int
	header                                 http.Header
	answer                                 string
}

func (e exchange) judged(t *testing.T, j *judge.Judge) judge.Verdict {
	t.Helper()
	sent := http.Header{}
	if e.token != "" {
		sent.Set("Authorization", "Bearer "+e.token)
	}
	if e.contentType != "" {
		sent.Set("Content-Type", e.contentType)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	for k, v := range e.header {
		h[k] = v
	}
	return j.Judge(evidence.Exchange{Method: e.method, URL: base + e.path, RequestHeader: sent, RequestBody: e.body, RequestSize: int64(len(e.body)),
		Status: e.status, Header: h, ResponseBody: e.answer})
}

const (
	admin    = "YWMtChatAdmin-3f9c2a71d8e54b6a"
	bobToken = "YWMtUserBob-c24d8e17f0a3b596"
	lobby    = "YWMtLobbyAdmin-81c6d2e4a09b7f35"
	userPath = "/acme/chat/metadata/user/alice"
	form     = "application/x-www-form-urlencoded"
	okBody   = `{"timestamp":1716268800123,"duration":1,"data":{"a":"1"}}`
)

func errBody(kind, text string) string {
	return fmt.Sprintf(`{"error":%q,"error_description":%q,"desc":%q,"timestamp":1716268800123,"duration":0}`, kind, text, text)
}

func put(body string, status int, answer string) exchange {
	return exchange{method: "PUT", path: userPath, token: admin, contentType: form, body: body, status: status, answer: answer}
}

func batch(n, status int, answer string) exchange {
	targets := make([]string, n)
	for i := range targets {
		targets[i] = fmt.Sprintf("%q", fmt.Sprintf("u%d", i))
	}
	body := `{"targets":[` + strings.Join(targets, ",") + `],"properties":["a"]}`
	return exchange{method: "POST", path: "/acme/chat/metadata/user/get", token: admin, contentType: "application/json", body: body, status: status, answer: answer}
}

// escaped is a form body of n raw bytes whose value decodes to about a
// third of it: over the body limit, under the per-user limit.
func escaped(n int) string {
	body := "k="
	for len(body)+3 <= n {
		body += "%41"
	}
	return body + strings.Repeat("A", n-len(body))
}

var (
	userOver     = "k=" + strings.Repeat("v", 2100) // {"k":"vvv…"}: 2108 bytes
	sizeText     = "size of metadata for this single user exceeds the user defined limit, 2048Bytes"
	batchRefusal = errBody("BAD_REQUEST", "exceed allowed batch size 100")
)

func TestRules(t *testing.T) {
	keep := func(*target.Target) {}
	current := func(tg *target.Target) { tg.Profile = "current" }
	cases := []struct {
		name   string
		edit   func(*target.Target)
		x      exchange
		broken []string // requirements violated, exactly
		held   []string // requirements judged and kept, at least
		alt    string   // an alternative recorded, if any
	}{
		{"a conforming PUT", keep, put("a=1", 200, okBody), nil, []string{"UA-GEN-002", "UA-GEN-003", "UA-GEN-005", "UA-GEN-006"}, ""},
		{"a success with an error member, reported once", keep, put("a=1", 200, `{"timestamp":1716268800123,"duration":1,"data":{},"error":"x"}`), []string{"UA-GEN-005"}, []string{"UA-GEN-006"}, ""},
		{"a success that is not a JSON object", keep, exchange{method: "GET", path: userPath, token: admin, status: 200, answer: `ok`}, []string{"UA-GEN-006"}, nil, ""},
		{"a success without integer milliseconds", keep, exchange{method: "GET", path: userPath, token: admin, status: 200, answer: `{"timestamp":1.7e12,"duration":1,"data":{}}`}, []string{"UA-GEN-003"}, []string{"UA-GEN-005"}, ""},
		{"success answered 204", keep, exchange{method: "DELETE", path: userPath, token: admin, status: 204, answer: ``}, []string{"UA-GEN-002", "UA-GEN-006"}, nil, ""},
		{"an undocumented error status", keep, exchange{method: "GET", path: userPath, token: admin, status: 418, answer: errBody("teapot", "no")}, []string{"UA-ERR-002"}, []string{"UA-ERR-001"}, ""},
		{"an HTML error page", keep, exchange{method: "GET", path: userPath, token: admin, status: 500, header: http.Header{"Content-Type": {"text/html"}}, answer: `<html>oops</html>`}, []string{"UA-GEN-006"}, nil, ""},
		{"an error without its text", keep, exchange{method: "GET", path: userPath, token: admin, status: 500, answer: `{"error":"x","timestamp":1716268800123,"duration":0}`}, []string{"UA-ERR-001"}, nil, ""},
		{"a 429 without Retry-After", keep, exchange{method: "GET", path: userPath, token: admin, status: 429, answer: errBody("reach_limit", "This request has reached api limit")}, []string{"UA-RATE-003"}, []string{"UA-ERR-002"}, "error_text_style=current"},
		{"a 429 whose Retry-After is a ban", keep, exchange{method: "GET", path: userPath, token: admin, status: 429, header: http.Header{"Retry-After": {"3600"}}, answer: errBody("reach_limit", "This request has reached api limit")}, []string{"UA-RATE-003"}, nil, ""},
		{"a generic member of the wrong type", keep, exchange{method: "GET", path: userPath, token: admin, status: 200, answer: `{"timestamp":1716268800123,"duration":1,"data":{},"uri":5}`}, []string{"UA-GEN-004"}, []string{"UA-GEN-005"}, ""},
		{"the older documents' 404 of a user without an account", keep, exchange{method: "GET", path: userPath, token: admin, status: 404, answer: `{"timestamp":1716268800123,"data":{},"duration":0}`}, nil, []string{"UA-ERR-001"}, ""},
		{"a 404 of a read that carries attributes", keep, exchange{method: "GET", path: userPath, token: admin, status: 404, answer: `{"timestamp":1716268800123,"data":{"a":"1"},"duration":0}`}, []string{"UA-GET-003"}, nil, ""},
		{"a 429 with Retry-After", keep, exchange{method: "GET", path: userPath, token: admin, status: 429, header: http.Header{"Retry-After": {"1"}}, answer: errBody("reach_limit", "This request has reached api limit")}, nil, []string{"UA-RATE-003"}, ""},

		{"a PUT over the user limit answered 200", keep, put(userOver, 200, okBody), []string{"UA-LIMIT-001"}, nil, ""},
		{"a PUT over the user limit refused with 403", keep, put(userOver, 403, errBody("FORBIDDEN", sizeText)), nil, []string{"UA-LIMIT-001", "UA-ERR-002"}, "error_text_style=current (profile allows current|legacy)"},
		{"the same under the pairs metric", func(tg *target.Target) { tg.SizeMetric = "pairs" }, put(userOver, 200, okBody), []string{"UA-LIMIT-001"}, nil, ""},
		{"the same without a declared metric is not judged", func(tg *target.Target) { tg.SizeMetric = "" }, put(userOver, 200, okBody), nil, nil, ""},
		{"only the shortest of a repeated key counts", keep, put("k=a&"+userOver, 200, okBody), nil, nil, ""},
		{"an empty value may remove its key, so it does not count", keep, put(strings.Repeat("k", 2100)+"=", 200, okBody), nil, nil, ""},
		{"at the user limit answered 200", keep, put("k="+strings.Repeat("v", 2040), 200, okBody), nil, []string{"UA-GEN-003"}, ""},
		{"a body over the body limit answered 200", keep, put(escaped(4097), 200, okBody), []string{"UA-LIMIT-002"}, nil, ""},
		{"a body over the body limit refused with 413", keep, put(escaped(4097), 413, errBody("request_entity_too_large", sizeText)), nil, []string{"UA-LIMIT-002"}, "body_limit_status=413"},
		{"413 where the profile pins 403", current, put(escaped(4097), 413, errBody("request_entity_too_large", sizeText)), []string{"UA-LIMIT-002"}, nil, ""},
		{"a body within the limit refused with 413", keep, put(escaped(4096), 413, errBody("request_entity_too_large", sizeText)), []string{"UA-LIMIT-002"}, nil, ""},
		{"a legacy text where the profile pins current", current, put(userOver, 403, errBody("FORBIDDEN", "user metadata length exceed the limit")), []string{"UA-ERR-002"}, []string{"UA-LIMIT-001"}, "error_text_style=legacy (profile allows current)"},
		{"a 409 without the concurrent-update text", keep, put("a=1", 409, errBody("CONFLICT", "try again")), []string{"UA-CONC-002"}, nil, ""},
		{"a 409 with it", keep, put("a=1", 409, errBody("CONFLICT", "Failed to update userMetadata. Concurrent updates not allowed")), nil, []string{"UA-CONC-002"}, ""},

		{"101 targets answered 200", keep, batch(101, 200, `{"timestamp":1716268800123,"duration":1,"data":{}}`), []string{"UA-BATCH-006"}, nil, ""},
		{"101 targets refused with 400", keep, batch(101, 400, batchRefusal), nil, []string{"UA-BATCH-006"}, "batch_over_limit_status=400"},
		{"101 targets refused with 400 where legacy pins 403", func(tg *target.Target) { tg.Profile = "legacy" }, batch(101, 400, batchRefusal), []string{"UA-BATCH-006"}, nil, ""},
		{"101 targets refused naming another limit", keep, batch(101, 400, errBody("BAD_REQUEST", "exceed allowed batch size 1000")), []string{"UA-BATCH-006"}, nil, ""},
		{"100 targets answered 200", keep, batch(100, 200, `{"timestamp":1716268800123,"duration":1,"data":{}}`), nil, []string{"UA-BATCH-005"}, ""},
		{"100 targets refused for size", keep, batch(100, 400, batchRefusal), []string{"UA-BATCH-005"}, nil, ""},
		{"a declared lower cap moves the edge", func(tg *target.Target) { tg.Limits.BatchTargets = 10 }, batch(11, 200, `{"timestamp":1716268800123,"duration":1,"data":{}}`), []string{"UA-BATCH-006"}, nil, ""},

		{"no token answered 200", keep, exchange{method: "GET", path: userPath, status: 200, answer: okBody}, []string{"UA-AUTH-001"}, nil, ""},
		{"no token answered 401", keep, exchange{method: "GET", path: userPath, status: 401, answer: errBody("unauthorized", "Unable to authenticate due to expired access token")}, nil, []string{"UA-AUTH-001", "UA-ERR-001"}, ""},
		{"bob's token writing alice answered 200", keep, exchange{method: "PUT", path: userPath, token: bobToken, contentType: form, body: "a=1", status: 200, answer: okBody}, []string{"UA-AUTH-004"}, nil, ""},
		{"bob's token writing alice refused with the wrong text", keep, exchange{method: "PUT", path: userPath, token: bobToken, contentType: form, body: "a=1", status: 401, answer: errBody("unauthorized", "go away")}, []string{"UA-ERR-002"}, []string{"UA-AUTH-004"}, ""},
		{"bob's token writing Bob", keep, exchange{method: "PUT", path: "/acme/chat/metadata/user/Bob", token: bobToken, contentType: form, body: "a=1", status: 200, answer: okBody}, nil, nil, ""},
		{"another app's admin token answered 200", keep, exchange{method: "GET", path: userPath, token: lobby, status: 200, answer: okBody}, []string{"UA-AUTH-010"}, nil, ""},
		{"a user token refused a batch read", keep, exchange{method: "POST", path: "/acme/chat/metadata/user/get", token: bobToken, contentType: "application/json", body: `{"targets":["alice"],"properties":["a"]}`, status: 401, answer: errBody("unauthorized", "auth error")}, []string{"UA-AUTH-007"}, nil, ""},
		{"a user token's batch read answered", keep, exchange{method: "POST", path: "/acme/chat/metadata/user/get", token: bobToken, contentType: "application/json", body: `{"targets":["alice"],"properties":["a"]}`, status: 200, answer: `{"timestamp":1716268800123,"duration":1,"data":{}}`}, nil, []string{"UA-AUTH-007"}, ""},
		{"capacity with a decimal point", keep, exchange{method: "GET", path: "/acme/chat/metadata/user/capacity", token: admin, status: 200, answer: `{"timestamp":1716268800123,"duration":1,"data":123.0}`}, []string{"UA-CAP-001"}, nil, ""},
		{"capacity as an integer", keep, exchange{method: "GET", path: "/acme/chat/metadata/user/capacity", token: admin, status: 200, answer: `{"timestamp":1716268800123,"duration":1,"data":123}`}, nil, []string{"UA-CAP-001"}, ""},
		{"capacity for a user token where current pins 401", current, exchange{method: "GET", path: "/acme/chat/metadata/user/capacity", token: bobToken, status: 200, answer: `{"timestamp":1716268800123,"duration":1,"data":0}`}, []string{"UA-AUTH-006", "UA-CAP-002"}, nil, ""},

		{"an undefined method answered 405", keep, exchange{method: "POST", path: userPath, token: admin, contentType: form, body: "a=1", status: 405, answer: errBody("method_not_allowed", "no")}, nil, []string{"UA-GEN-009", "UA-GEN-006"}, ""},
		{"an undefined method answered 200", keep, exchange{method: "POST", path: userPath, token: admin, contentType: form, body: "a=1", status: 200, answer: okBody}, []string{"UA-GEN-009"}, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := tenant(t)
			c.edit(tg)
			v := c.x.judged(t, newJudge(t, tg))
			var broken []string
			for _, f := range v.Violations {
				broken = append(broken, f.Requirement)
				if f.Problem == "" || strings.Contains(f.Problem, "\n") {
					t.Errorf("%s: problem %q is not one line", f.Requirement, f.Problem)
				}
			}
			if !slices.Equal(broken, c.broken) {
				t.Errorf("violated %v, want %v\n%+v", broken, c.broken, v.Violations)
			}
			for _, id := range c.held {
				if !slices.Contains(v.Held, id) {
					t.Errorf("%s not held; held %v", id, v.Held)
				}
			}
			for _, id := range broken {
				if slices.Contains(v.Held, id) {
					t.Errorf("%s is both held and violated", id)
				}
			}
			var alts []string
			for _, a := range v.Alternatives {
				alts = append(alts, a...)
			}
			if c.alt != "" && !strings.Contains(strings.Join(alts, "\n"), c.alt) {
				t.Errorf("alternatives %q lack %q", alts, c.alt)
			}
		})
	}
}

// Every requirement a rule names is in the catalogue, and has a
// description for reports of traffic that did not exercise it.
// The contract's own finding is reported only when no rule names the
// problem more precisely, and the verdict says which it is: the suite's
// transport leaves it out, the contract failing the spec instead.
func TestTheContractsOwnFindingIsMarked(t *testing.T) {
	j := newJudge(t, tenant(t))
	v := exchange{method: "GET", path: userPath, token: admin, status: 200, answer: `{"timestamp":1716268800123,"duration":1,"data":["a"]}`}.judged(t, j)
	if v.Contract == nil || len(v.Violations) != 1 || *v.Contract != v.Violations[0] || v.Contract.Requirement != "UA-GEN-003" {
		t.Fatalf("contract %+v, violations %+v: want the contract's finding, marked", v.Contract, v.Violations)
	}
	v = put(userOver, 200, `{"timestamp":1716268800123,"duration":1,"data":5}`).judged(t, j)
	if v.Contract != nil || len(v.Violations) != 1 || v.Violations[0].Requirement != "UA-LIMIT-001" {
		t.Fatalf("contract %+v, violations %+v: a rule named the problem, so the contract's finding is not reported", v.Contract, v.Violations)
	}
}

func TestJudgedRequirementsAreCatalogued(t *testing.T) {
	cat, err := catalogIDs()
	if err != nil {
		t.Fatal(err)
	}
	for id, when := range judge.Judged {
		if !cat[id] || when == "" {
			t.Errorf("%s: catalogued %v, description %q", id, cat[id], when)
		}
	}
}

func TestRequestsBreakingTheContractAreTheClientsAndStillJudged(t *testing.T) {
	j := newJudge(t, tenant(t))
	v := batch(101, 200, `{"timestamp":1716268800123,"duration":1,"data":{}}`).judged(t, j)
	if v.ClientFinding == "" || len(v.Violations) != 1 || v.Violations[0].Requirement != "UA-BATCH-006" {
		t.Fatalf("client finding %q, violations %+v: want the request's finding and UA-BATCH-006 held against the target", v.ClientFinding, v.Violations)
	}
	if v.Operation != "batchGetUserAttributes" || v.Principal.String() != "admin" {
		t.Fatalf("operation %q, principal %q", v.Operation, v.Principal)
	}
}

func TestExchangesOutsideTheAPIAreNotJudged(t *testing.T) {
	j := newJudge(t, tenant(t))
	v := exchange{method: "POST", path: "/acme/chat/token", status: 200, answer: `{"access_token":"x"}`}.judged(t, j)
	if !v.Outside || len(v.Violations)+len(v.Held) != 0 {
		t.Fatalf("token endpoint: %+v, want outside and unjudged", v)
	}
}

func TestProblemsNeverQuoteTokens(t *testing.T) {
	j := newJudge(t, tenant(t))
	v := exchange{method: "GET", path: userPath, token: admin, status: 200, answer: `{"timestamp":1716268800123,"duration":1,"data":{"a":5},"echo":"` + admin + `"}`}.judged(t, j)
	if len(v.Violations) == 0 {
		t.Fatal("a non-string value passed the contract")
	}
	for _, f := range v.Violations {
		if strings.Contains(f.Problem, admin) {
			t.Errorf("%s quotes the admin token: %s", f.Requirement, f.Problem)
		}
	}
}

func TestPrincipalsAreNamedWithoutTokens(t *testing.T) {
	tg := tenant(t)
	for auth, want := range map[string]string{
		"Bearer " + admin:    "admin",
		"Bearer " + bobToken: "user bob",
		"Bearer " + lobby:    "admin (extra app second)",
		"Bearer nope":        "an unlisted token",
		"Basic eDp5":         "an unlisted token",
		"":                   "no token",
	} {
		p := judge.Identify(tg, auth)
		if p.String() != want {
			t.Errorf("%q: %q, want %q", auth, p, want)
		}
		if tok, ok := p.Token(tg); ok != (p.Kind == judge.KindAdmin || p.Kind == judge.KindUser) || (ok && "Bearer "+tok != auth) {
			t.Errorf("%q: Token gives %v, %v", auth, tok != "", ok)
		}
	}
}

func catalogIDs() (map[string]bool, error) {
	cat, err := catalog.Load()
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, r := range cat.Requirements {
		ids[r.ID] = r.Testable
	}
	return ids, nil
}
