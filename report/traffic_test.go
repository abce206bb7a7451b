package report

import (
	"bytes"
	"encoding/xml"
	"regexp"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/reporters"

	"github.com/attrconform/attrconform/contract"
	"github.com/attrconform/attrconform/evidence"
)

func trafficSample(t *testing.T) Summary {
	t.Helper()
	x := &evidence.Exchange{Method: "POST", Path: "/acme/chat/metadata/user/get", Principal: "admin",
		RequestBody: `{"targets":[…101…]}`, Status: 200, ContentType: "application/json", ResponseBody: "{\"data\":{}}\x00\x1b[31m"}
	judged := map[string]Judged{
		"UA-BATCH-006": {Held: 1, Violated: 2, Failures: []Failure{{Spec: "exchange 7: POST /acme/chat/metadata/user/get as admin", Reason: "101 targets, over the limit of 100, were answered 200", Exchange: x}},
			Artifacts: []string{"history-1-round-2.html"}},
		"UA-GEN-003": {Held: 5, Alternatives: []string{"error_text_style=current (profile allows current|legacy)"}},
	}
	s := BuildTraffic(testCatalog(t), judged, func(id string) string { return "not judged: " + id }, Traffic{Exchanges: 9, Judged: 8, Violating: 2, ClientFindings: 2})
	s.Target, s.Profile = "http://127.0.0.1:8080", "lenient"
	s.Coverage = BuildCoverage([]contract.Operation{
		{ID: "batchGetUserAttributes", Method: "POST", Path: "/{org_name}/{app_name}/metadata/user/get", Statuses: []int{200, 400}},
		{ID: "getUserAttributes", Method: "GET", Path: "/{org_name}/{app_name}/metadata/user/{username}", Statuses: []int{200, 404}},
	}, map[string]map[int]int{"batchGetUserAttributes": {200: 3}})
	return s
}

// Traffic that never exercised a requirement never passes it.
func TestBuildTrafficJudgesOnlyWhatTheTrafficExercised(t *testing.T) {
	s := trafficSample(t)
	for id, want := range map[string]Verdict{"UA-BATCH-006": Fail, "UA-GEN-003": Pass, "UA-BATCH-005": Skip, "UA-GEN-010": Untestable} {
		if r := requirementOf(s, id); r.Verdict != want {
			t.Errorf("%s: %s, want %s (%s)", id, r.Verdict, want, r.Reason)
		}
	}
	if r := requirementOf(s, "UA-BATCH-005"); r.Reason != "not judged: UA-BATCH-005" {
		t.Errorf("a skipped requirement's reason: %q", r.Reason)
	}
	if r := requirementOf(s, "UA-BATCH-006"); !strings.Contains(r.Reason, "violated by 2") || len(r.Failures) != 1 || len(r.Artifacts) != 1 {
		t.Errorf("UA-BATCH-006: %+v", r)
	}
	if s.Passed != 1 || s.Failed != 1 || s.ExitCode() != 1 {
		t.Errorf("passed %d, failed %d, exit %d", s.Passed, s.Failed, s.ExitCode())
	}
	quiet := BuildTraffic(testCatalog(t), nil, func(string) string { return "" }, Traffic{})
	if quiet.ExitCode() != 0 || quiet.Passed != 0 {
		t.Errorf("no traffic: exit %d, %d passed; want 0 and nothing passed", quiet.ExitCode(), quiet.Passed)
	}
	if md := markdown(t, quiet); !strings.HasPrefix(md, "# User-attributes conformance of observed traffic: NOTHING JUDGED\n") {
		t.Errorf("no traffic: %q", md[:80])
	}
}

func TestTrafficMatrixSaysWhatWasJudged(t *testing.T) {
	s := trafficSample(t)
	md := markdown(t, s)
	for _, want := range []string{
		"# User-attributes conformance of observed traffic: FAILED",
		"| Traffic | 9 exchanges, 8 of the API judged, 2 with violations; off contract (the client's): 2, unanswered by the target: 0, unread by the client: 0 |",
		"| UA-BATCH-005 | MUST | ⏭️ SKIP |",
		"Seen in: `exchange 7: POST /acme/chat/metadata/user/get as admin`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if html := page(t, s); !strings.Contains(html, "<h1>User-attributes conformance of observed traffic <span") {
		t.Error("the page does not say it judged traffic")
	}
}

// The JUnit file has a case per requirement, and stays well-formed XML
// whatever bytes the target answered (the sample's answer has control
// characters).
func TestJUnitHasOneCasePerRequirement(t *testing.T) {
	s := trafficSample(t)
	var b bytes.Buffer
	if err := s.WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	var doc reporters.JUnitTestSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not JUnit XML: %v\n%s", err, b.String())
	}
	suite := doc.TestSuites[0]
	if suite.Tests != len(s.Requirements) || suite.Failures != 1 || doc.Failures != 1 {
		t.Fatalf("%d cases, %d failures; want %d and 1", suite.Tests, suite.Failures, len(s.Requirements))
	}
	for _, tc := range suite.TestCases {
		switch {
		case strings.HasPrefix(tc.Name, "UA-BATCH-006:"):
			if tc.Failure == nil || !strings.Contains(tc.Failure.Description, "HTTP 200") || tc.Classname != "batchGetUserAttributes" {
				t.Errorf("the violated requirement: %+v", tc)
			}
		case strings.HasPrefix(tc.Name, "UA-GEN-003:"):
			if tc.Failure != nil || tc.Skipped != nil {
				t.Errorf("the kept requirement: %+v", tc)
			}
		case strings.HasPrefix(tc.Name, "UA-BATCH-005:"):
			if tc.Skipped == nil || !strings.Contains(tc.Skipped.Message, "SKIP: not judged") {
				t.Errorf("the unexercised requirement: %+v", tc)
			}
		}
	}
}

func TestTerminalSummaryOfTrafficCountsWhatItDidNotJudge(t *testing.T) {
	var b bytes.Buffer
	trafficSample(t).WriteTerminal(&b)
	out := b.String()
	for _, want := range []string{"Traffic: 9 exchanges, 8 of the API judged", "FAIL  UA-BATCH-006", "requirements not judged by this traffic (reasons in requirements.md)", "1 passed, 1 failed, "} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal summary lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^  getUserAttributes +0 +0 +0 +0 +0  `).MatchString(out) || !regexp.MustCompile(`(?m)^  batchGetUserAttributes +1 +1 `).MatchString(out) {
		t.Errorf("an operation the traffic never called has verdicts:\n%s", out)
	}
	if strings.Contains(out, "Skipped requirements") {
		t.Errorf("the summary lists every requirement the traffic did not judge:\n%s", out)
	}
}
