package report

import (
	"time"

	"github.com/attrconform/attrconform/contract"
	"github.com/attrconform/attrconform/evidence"
)

// hostile is what a misbehaving target might answer; no report may run it.
const hostile = `<script>alert("x")</script> | ` + "```" + ` end`

// sample is a run with one requirement of each verdict, a failure with
// its exchange, and coverage with a documented code never answered.
func sample() Summary {
	failing := &evidence.Exchange{
		Method: "POST", Path: "/acme/chat/metadata/user/get", Principal: "admin of chat",
		RequestBody: `{"targets":["a|b"]}`, Status: 200, ContentType: "application/json", ResponseBody: hostile,
	}
	s := Summary{
		SuiteVersion: "0.1.0+abc", ContractSHA256: "5ab5c536e17786717ca92de6c7a2f2bcb36fd76bb369a79aa5d525c21e4a881d",
		Target: "http://127.0.0.1:8080", Profile: "lenient",
		Start:    time.Date(2026, 11, 22, 20, 28, 33, 0, time.UTC),
		Duration: 5712 * time.Millisecond,
		Passed:   3, Failed: 1, Errored: 1, Skipped: 1, Disabled: 1,
		Requirements: []Requirement{
			{ID: "UA-GEN-001", Level: "SHOULD", Title: "Unknown org or app answers 404", Verdict: Pass,
				Text:         "Answers 404 with `organization_application_not_found` for `Bearer <token>` | pipes",
				Alternatives: []string{"get_unknown_user=200 (profile allows 200|404)"}, Operations: []string{"getUserAttributes", "setUserAttributes"}},
			{ID: "UA-BATCH-006", Level: "MUST", Title: "More than 100 targets is refused", Verdict: Fail,
				Text:       "A batch with more than 100 targets is refused.",
				Reason:     "batch refuses 101 targets: expected status 400 or 403, got 200",
				Operations: []string{"batchGetUserAttributes"},
				Failures:   []Failure{{Spec: "batch refuses 101 targets", Reason: "expected status 400 or 403, got 200", Exchange: failing}}},
			{ID: "UA-CONC-001", Level: "MUST", Title: "Racing PUTs never corrupt data", Verdict: Error,
				Reason: "race: the request budget ran out", Operations: []string{"setUserAttributes"},
				Failures:  []Failure{{Spec: "race", Reason: "the request budget ran out"}},
				Artifacts: []string{"history-7-round-1.html"}},
			{ID: "UA-AUTH-008", Level: "MUST", Title: "User tokens are scoped", Verdict: Skip,
				Reason: "auth: the target lists fewer than two user tokens", Operations: []string{"getUserAttributes"}},
			{ID: "UA-RATE-002", Level: "MUST", Title: "Calls over the rate limit answer 429", Verdict: Disabled,
				Reason: "not selected by the label filter", Operations: []string{"getUserAttributes"}},
			{ID: "UA-GEN-010", Level: "MUST", Title: "Reference fixtures provide accounts", Verdict: Untestable,
				Reason: "concerns the reference's own fixtures"},
			{ID: "UA-DEL-001", Level: "MUST", Title: "DELETE removes all attributes", Verdict: Pass, Operations: []string{"deleteUserAttributes"}},
		},
	}
	s.Coverage = BuildCoverage([]contract.Operation{
		{ID: "setUserAttributes", Method: "PUT", Path: "/{org_name}/{app_name}/metadata/user/{username}", Statuses: []int{200, 400, 413}},
		{ID: "batchGetUserAttributes", Method: "POST", Path: "/{org_name}/{app_name}/metadata/user/get", Statuses: []int{200, 400}},
		{ID: "deleteUserAttributes", Method: "DELETE", Path: "/{org_name}/{app_name}/metadata/user/{username}", Statuses: []int{200}},
		{ID: "getUserAttributes", Method: "GET", Path: "/{org_name}/{app_name}/metadata/user/{username}", Statuses: []int{200, 404}},
	}, map[string]map[int]int{
		"setUserAttributes":      {200: 12, 400: 1},
		"batchGetUserAttributes": {200: 3, 400: 2},
		"deleteUserAttributes":   {200: 4},
		"getUserAttributes":      {200: 9, 404: 1},
	})
	return s
}
