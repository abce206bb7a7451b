package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func page(t *testing.T, s Summary) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestHTMLMatrixIsOneSelfContainedPage(t *testing.T) {
	html := page(t, sample())
	// Nothing is loaded from elsewhere and nothing runs.
	for _, re := range []string{`(?i)<script`, `(?i)<link`, `(?i)<img`, `(?i)<iframe`, `(?i)\bsrc=`, `(?i)url\(`, `(?i)@import`, `(?i)href="(https?:)?//`} {
		if regexp.MustCompile(re).MatchString(html) {
			t.Errorf("the page matches %s", re)
		}
	}
	for _, want := range []string{
		"<style>", ":root {",
		`<span class="outcome error" id="outcome">INCOMPLETE</span>`,
		`<dt>Contract</dt><dd title="5ab5c536e17786717ca92de6c7a2f2bcb36fd76bb369a79aa5d525c21e4a881d"><code>openapi.yaml sha256 5ab5c536e17786717ca92de6c7a2f2bcb36fd76bb369a79aa5d525c21e4a881d</code></dd>`,
		`<dt>Target</dt><dd>http://127.0.0.1:8080</dd>`,
		`<dt>Started</dt><dd>2026-11-22 20:28:33 UTC</dd>`,
		`<tr class="req fail" id="UA-BATCH-006" data-verdict="FAIL">`,
		`<span class="badge fail">✗ FAIL</span>`,
		`<tr class="req pass" id="UA-GEN-001" data-verdict="PASS">`,
		`<p>Answers 404 with <code>organization_application_not_found</code> for <code>Bearer &lt;token&gt;</code> | pipes</p>`,
		`<pre class="request">POST /acme/chat/metadata/user/get  (as admin of chat)`,
		`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`,
		`<td class="miss" title="413 is documented for setUserAttributes but no exchange answered it">0</td>`,
		`<code>setUserAttributes 413</code>`,
		`<div class="artifact">See <a href="history-7-round-1.html">history-7-round-1.html</a></div>`,
		`<p class="attention" id="attention">Failed: <a href="#UA-BATCH-006">UA-BATCH-006</a> <a href="#UA-CONC-001">UA-CONC-001</a></p>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(html, hostile) {
		t.Error("the target's answer reaches the page unescaped")
	}
}
