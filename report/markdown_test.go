package report

import (
	"bytes"
	"strings"
	"testing"
)

func markdown(t *testing.T, s Summary) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestMarkdownMatrix(t *testing.T) {
	md := markdown(t, sample())
	for _, want := range []string{
		"# User-attributes conformance: INCOMPLETE",
		"| Suite | `0.1.0+abc` |",
		"| Contract | `openapi.yaml sha256 5ab5c536e17786717ca92de6c7a2f2bcb36fd76bb369a79aa5d525c21e4a881d` |",
		"| Profile | lenient |",
		"| Target | http://127.0.0.1:8080 |",
		"| Started | 2026-11-22 20:28:33 UTC |",
		"| Duration | 5.7s |",
		"| Result | 3 passed, 2 failed, 1 skipped |",
		"| ID | Level | Verdict | Requirement | Alternative seen (profile allows) |",
		// Code spans keep their text; outside them HTML is escaped and pipes never end a cell.
		"| UA-GEN-001 | SHOULD | ✅ PASS | **Unknown org or app answers 404**<br>Answers 404 with `organization_application_not_found` for `Bearer <token>` \\| pipes | get_unknown_user=200 (profile allows 200\\|404) |",
		"| UA-BATCH-006 | MUST | **❌ FAIL** |",
		"| UA-AUTH-008 | MUST | ⏭️ SKIP | **User tokens are scoped**<br>*SKIP:* auth: the target lists fewer than two user tokens |",
		"*See:* [history-7-round-1.html](history-7-round-1.html)<br>*See Failures below.*",
		"### ❌ FAIL UA-BATCH-006: More than 100 targets is refused",
		"Spec: `batch refuses 101 targets`",
		"```http\nPOST /acme/chat/metadata/user/get  (as admin of chat)\n\n{\"targets\":[\"a|b\"]}\n```",
		// The body holds ``` itself, so its fence is longer.
		"````http\nHTTP 200  application/json\n\n" + hostile + "\n````",
		"| Operation | 200 | 400 | 404 | 413 | exercised |",
		"| `setUserAttributes` `PUT /{org_name}/{app_name}/metadata/user/{username}` | 12 | 1 | — | **0** | 2/3 |",
		"Documented but not exercised: setUserAttributes 413.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
}

func TestMarkdownOutcome(t *testing.T) {
	s := sample()
	s.Errored = 0
	if md := markdown(t, s); !strings.HasPrefix(md, "# User-attributes conformance: FAILED\n") {
		t.Errorf("with a failure: %q", md[:60])
	}
	s.ApplyBaseline(&Baseline{Failures: []BaselineEntry{{ID: "UA-BATCH-006", Reason: "ticket 12"}}}, "base.yaml")
	md := markdown(t, s)
	for _, want := range []string{"# User-attributes conformance: PASSED\n", "| Baseline | base.yaml: 1 known failures accepted, 0 new, 0 stale |",
		"**❌ FAIL** (known failure)", "Baseline: known failure (ticket 12)"} {
		if !strings.Contains(md, want) {
			t.Errorf("with the failure in the baseline, markdown lacks %q", want)
		}
	}
}
