package contract_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	attrconform "github.com/attrconform/attrconform"
	"github.com/attrconform/attrconform/contract"
	"github.com/attrconform/attrconform/evidence"
)

const secret = "Bearer-secret-token-123"

// serve answers every request with the given status, content type and body.
func serve(status int, contentType, body string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
}

func client(t *testing.T, srv *httptest.Server) (*http.Client, *contract.Coverage) {
	t.Helper()
	c, err := contract.Load(attrconform.Contract, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	cov := &contract.Coverage{}
	redact := func(s string) string { return strings.ReplaceAll(s, secret, "[REDACTED]") }
	return &http.Client{Transport: &contract.Transport{Contract: c, Redact: redact, Coverage: cov}}, cov
}

func get(ctx context.Context, url string) *http.Request {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	return req
}

func TestConformingExchangePassesAndIsCounted(t *testing.T) {
	srv := serve(200, "application/json", `{"timestamp":1620445147011,"data":{"a":"1"},"duration":3}`)
	defer srv.Close()
	c, cov := client(t, srv)
	resp, err := c.Do(get(context.Background(), srv.URL+"/acme/chat/metadata/user/alice"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cov.Seen()["getUserAttributes"][200] != 1 {
		t.Fatalf("coverage: %v", cov.Seen())
	}
}

func TestViolationsNameTheFindingAndRedactTokens(t *testing.T) {
	cases := []struct {
		name, contentType, body string
		status                  int
		want                    string
	}{
		{"value not a string", "application/json", `{"timestamp":1,"data":{"a":1},"duration":3,"echo":"` + secret + `"}`, 200, "data"},
		{"undocumented status", "application/json", `{"timestamp":1,"duration":1,"error_description":"x"}`, 418, "418"},
		{"html error", "text/html", `<html>` + secret + `</html>`, 500, "Content-Type"},
		{"error key on success", "application/json", `{"timestamp":1,"data":{},"duration":3,"error":"x"}`, 200, "error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(tc.status, tc.contentType, tc.body)
			defer srv.Close()
			c, _ := client(t, srv)
			_, err := c.Do(get(context.Background(), srv.URL+"/acme/chat/metadata/user/alice"))
			var v *contract.Violation
			if !errors.As(err, &v) {
				t.Fatalf("want a violation, got %v", err)
			}
			msg := v.Error()
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "GET /acme/chat/metadata/user/alice") || strings.Contains(msg, secret) {
				t.Fatalf("message %q: want %q, the method and path, and no token", msg, tc.want)
			}
		})
	}
}

func TestRequestsAreValidatedUnlessDeliberatelyOffContract(t *testing.T) {
	srv := serve(405, "application/json", `{"timestamp":1,"duration":0,"error":"method_not_allowed","error_description":"no"}`)
	defer srv.Close()
	c, _ := client(t, srv)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/acme/chat/metadata/user/alice", strings.NewReader("a=1"))
	req.Header.Set("Authorization", "Bearer "+secret)
	if _, err := c.Do(req); err == nil || !strings.Contains(err.Error(), "request") {
		t.Fatalf("an undocumented method was sent without complaint: %v", err)
	}
	req, _ = http.NewRequestWithContext(contract.OffContract(context.Background(), "testing 405"), http.MethodPost, srv.URL+"/acme/chat/metadata/user/alice", strings.NewReader("a=1"))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("off-contract request with an error envelope answer: %v", err)
	}
	resp.Body.Close()
	noToken, _ := http.NewRequest(http.MethodGet, srv.URL+"/acme/chat/metadata/user/alice", nil)
	if _, err := c.Do(noToken); err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("a request without a token passed request validation: %v", err)
	}
}

func TestOperationsListDocumentedStatuses(t *testing.T) {
	c, err := contract.Load(attrconform.Contract, "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]contract.Operation{}
	for _, o := range c.Operations() {
		ops[o.ID] = o
	}
	for _, id := range []string{"setUserAttributes", "getUserAttributes", "batchGetUserAttributes", "getAttributeCapacity", "deleteUserAttributes"} {
		if len(ops[id].Statuses) < 5 {
			t.Errorf("%s documents %v", id, ops[id].Statuses)
		}
	}
}

// Every pair of a form body reaches the schema: a contract that allows one
// attribute refuses a body with two.
func TestFormBodiesAreValidatedPairByPair(t *testing.T) {
	doc := `openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /u:
    put:
      requestBody:
        required: true
        content:
          application/x-www-form-urlencoded:
            schema: {type: object, maxProperties: 1, additionalProperties: {type: string}}
      responses:
        "200": {description: ok}
`
	srv := serve(200, "application/json", `{}`)
	defer srv.Close()
	c, err := contract.Load([]byte(doc), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &contract.Transport{Contract: c}}
	for body, ok := range map[string]bool{"a=1": true, "a=1&b=2": false} {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/u", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_, err := client.Do(req)
		if (err == nil) != ok {
			t.Errorf("body %q: error %v, want ok=%v", body, err, ok)
		}
	}
}

// Routes are remembered per method and path, so a path seen before must not
// lend its parameters to another: the 65-character username is refused
// between two accepted requests for alice.
func TestRememberedRoutesKeepTheirOwnParameters(t *testing.T) {
	srv := serve(200, "application/json", `{"timestamp":1620445147011,"data":{"a":"1"},"duration":3}`)
	defer srv.Close()
	c, _ := client(t, srv)
	for i, user := range []string{"alice", strings.Repeat("a", 65), "alice"} {
		resp, err := c.Do(get(context.Background(), srv.URL+"/acme/chat/metadata/user/"+user))
		if i == 1 {
			if err == nil || !strings.Contains(err.Error(), "request") {
				t.Fatalf("a 65-character username passed request validation: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("request %d for alice: %v", i, err)
		}
		resp.Body.Close()
	}
}

// The request budget is kept per operation, so every route must name its
// operation; "get" and "capacity" are operations before they are usernames.
func TestOperationIDNamesTheOperationOfARequest(t *testing.T) {
	c, err := contract.Load(attrconform.Contract, "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ method, path, want string }{
		{http.MethodPut, "/acme/chat/metadata/user/alice", "setUserAttributes"},
		{http.MethodGet, "/acme/chat/metadata/user/alice", "getUserAttributes"},
		{http.MethodDelete, "/acme/chat/metadata/user/alice", "deleteUserAttributes"},
		{http.MethodPost, "/acme/chat/metadata/user/get", "batchGetUserAttributes"},
		{http.MethodGet, "/acme/chat/metadata/user/capacity", "getAttributeCapacity"},
		{http.MethodPost, "/acme/chat/metadata/user/alice", ""},
		{http.MethodGet, "/acme/chat/elsewhere", ""},
	} {
		req, _ := http.NewRequest(tc.method, "http://127.0.0.1:1"+tc.path, nil)
		if got := c.OperationID(req); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
}

// A request checked ahead of time is not validated again when sent (a
// race's writers pay for validation before the barrier); one that breaks
// the contract is refused by the check itself.
func TestCheckedRequestsAreNotValidatedTwice(t *testing.T) {
	srv := serve(200, "application/json", `{"timestamp":1620445147011,"data":{"a":"1"},"duration":3}`)
	defer srv.Close()
	c, err := contract.Load(attrconform.Contract, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	tr := &contract.Transport{Contract: c}
	bad, _ := http.NewRequest(http.MethodPut, srv.URL+"/acme/chat/metadata/user/alice", strings.NewReader("a=1"))
	bad.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var v *contract.Violation
	if _, err := tr.CheckRequest(bad); !errors.As(err, &v) {
		t.Fatalf("a request without a token passed the check: %v", err)
	}
	good, _ := http.NewRequest(http.MethodPut, srv.URL+"/acme/chat/metadata/user/alice", strings.NewReader("a=1"))
	good.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	good.Header.Set("Authorization", "Bearer "+secret)
	checked, err := tr.CheckRequest(good)
	if err != nil {
		t.Fatal(err)
	}
	checked.Header.Del("Authorization") // would fail validation, were it repeated
	resp, err := tr.RoundTrip(checked)
	if err != nil {
		t.Fatalf("a checked request was validated again: %v", err)
	}
	resp.Body.Close()
}

// Check judges an exchange that already happened, as a proxy sees it: each
// side on its own, the route documented or not, and no token in what it
// quotes.
func TestCheckJudgesACompletedExchange(t *testing.T) {
	c, err := contract.Load(attrconform.Contract, "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	redact := func(s string) string { return strings.ReplaceAll(s, secret, "[REDACTED]") }
	exchange := func(method, path, body string, status int, respBody string) evidence.Exchange {
		h := http.Header{"Authorization": {"Bearer " + secret}}
		if body != "" {
			h.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return evidence.Exchange{Method: method, URL: "http://127.0.0.1:1" + path, RequestHeader: h, RequestBody: body, Status: status,
			Header: http.Header{"Content-Type": {"application/json"}}, ResponseBody: respBody}
	}
	ok := `{"timestamp":1620445147011,"data":{"a":"1"},"duration":3}`
	cases := []struct {
		name            string
		x               evidence.Exchange
		op              string
		notAllowed      bool
		request, answer string // substrings of the findings; "" wants none
	}{
		{"conforming PUT", exchange("PUT", "/acme/chat/metadata/user/alice", "a=1", 200, ok), "setUserAttributes", false, "", ""},
		{"success with an error key", exchange("GET", "/acme/chat/metadata/user/alice", "", 200, `{"timestamp":1,"data":{},"duration":3,"error":"`+secret+`"}`), "getUserAttributes", false, "", "error"},
		{"off-contract request, conforming answer", exchange("GET", "/acme/chat/metadata/user/"+strings.Repeat("a", 65), "", 200, ok), "getUserAttributes", false, "username", ""},
		{"undocumented method answered 405", exchange("POST", "/acme/chat/metadata/user/alice", "a=1", 405, `{"timestamp":1,"duration":0,"error_description":"no"}`), "", true, "no documented operation", ""},
		{"undocumented method answered 200", exchange("POST", "/acme/chat/metadata/user/alice", "a=1", 200, ok), "", true, "no documented operation", "undocumented route answered 200"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Check(tc.x, redact)
			if err != nil {
				t.Fatal(err)
			}
			if got.Operation != tc.op || got.MethodNotAllowed != tc.notAllowed {
				t.Fatalf("operation %q, method not allowed %v; want %q, %v", got.Operation, got.MethodNotAllowed, tc.op, tc.notAllowed)
			}
			for side, pair := range map[string]struct {
				v    *contract.Violation
				want string
			}{"request": {got.Request, tc.request}, "response": {got.Response, tc.answer}} {
				switch {
				case pair.want == "" && pair.v != nil:
					t.Errorf("%s: unexpected finding %v", side, pair.v)
				case pair.want != "" && (pair.v == nil || !strings.Contains(pair.v.Finding, pair.want)):
					t.Errorf("%s: finding %v, want one naming %q", side, pair.v, pair.want)
				case pair.v != nil && strings.Contains(pair.v.Error(), secret):
					t.Errorf("%s: the finding quotes the token: %v", side, pair.v)
				}
			}
		})
	}
}

// The transport gives Observe every exchange the target answered, the
// answer a violation or not, with the bodies whole and what the contract
// found; a request the contract refuses is never sent, and not observed.
func TestObserveSeesEveryAnsweredExchange(t *testing.T) {
	for _, tc := range []struct {
		name, path, answer string
		observed           bool
		op                 string
		violation          bool
	}{
		{"a conforming answer", "/acme/chat/metadata/user/alice", `{"timestamp":1620445147011,"data":{"a":"1"},"duration":3}`, true, "getUserAttributes", false},
		{"an answer the contract refuses", "/acme/chat/metadata/user/alice", `{"timestamp":1620445147011,"data":[],"duration":3}`, true, "getUserAttributes", true},
		{"a request the contract refuses", "/acme/chat/metadata/user/" + strings.Repeat("a", 65), `{}`, false, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(200, "application/json", tc.answer)
			defer srv.Close()
			c, err := contract.Load(attrconform.Contract, srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			var seen []evidence.Exchange
			var checked []contract.Checked
			observe := func(x evidence.Exchange, c contract.Checked) { seen, checked = append(seen, x), append(checked, c) }
			hc := &http.Client{Transport: &contract.Transport{Contract: c, Observe: observe}}
			before := time.Now()
			resp, err := hc.Do(get(context.Background(), srv.URL+tc.path))
			if err == nil {
				resp.Body.Close()
			}
			if !tc.observed {
				if len(seen) != 0 {
					t.Fatalf("observed %+v", seen)
				}
				return
			}
			if len(seen) != 1 {
				t.Fatalf("observed %d exchanges", len(seen))
			}
			x, got := seen[0], checked[0]
			if x.Method != http.MethodGet || x.URL != srv.URL+tc.path || x.RequestHeader.Get("Authorization") != "Bearer "+secret ||
				x.Status != 200 || x.ResponseBody != tc.answer || x.Sent.Before(before) || x.Received.Before(x.Sent) {
				t.Errorf("exchange %+v", x)
			}
			if got.Operation != tc.op || (got.Response != nil) != tc.violation || (err != nil) != tc.violation {
				t.Errorf("checked %+v, error %v; want operation %s, violation %v", got, err, tc.op, tc.violation)
			}
		})
	}
}
