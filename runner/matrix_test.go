package main

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// failingRun is one run against the reference with a mutant that lets
// 101 batch targets through: UA-BATCH-006 (and UA-ERR-002) fail, with
// the exchange that failed them. Tests share it.
var failingRun = sync.OnceValues(func() (string, runResult) {
	// Under the runner's build directory, which TestMain removes.
	dir, err := os.MkdirTemp(filepath.Dir(runnerBin), "failing-run")
	if err != nil {
		panic(err)
	}
	return dir, runRunnerNoT("--mutant", "batch-cap-101", "--label-filter", "batch", "--report-dir", dir)
})

// runRunnerNoT is runRunner for shared runs, outside any one test.
func runRunnerNoT(args ...string) runResult {
	cmd := exec.Command(runnerBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := runResult{stdout: stdout.String(), stderr: stderr.String()}
	if exit, ok := err.(*exec.ExitError); ok {
		res.code = exit.ExitCode()
	} else if err != nil {
		res.code, res.stderr = -1, err.Error()
	}
	return res
}

func sharedFailingRun(t *testing.T) (string, runResult) {
	t.Helper()
	dir, res := failingRun()
	if res.code != 1 {
		t.Fatalf("the mutant run: exit %d, want 1\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	return dir, res
}

func TestFailingRunReportsTheMatrixProgressAndSummary(t *testing.T) {
	t.Parallel()
	dir, res := sharedFailingRun(t)
	md, err := os.ReadFile(filepath.Join(dir, "requirements.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := readSummary(t, filepath.Join(dir, "requirements.json"))
	for _, want := range []string{
		"# User-attributes conformance: FAILED",
		"| Suite | `" + s.SuiteVersion + "` |",
		"| Contract | `openapi.yaml sha256 " + s.ContractSHA256 + "` |",
		"| Profile | lenient |",
		"| UA-BATCH-006 | MUST | **❌ FAIL** |",
		"### ❌ FAIL UA-BATCH-006: ",
		"```http\nPOST /acme/chat/metadata/user/get  (as admin of chat)",
		"```http\nHTTP 200  application/json",
		"## Status codes exercised",
		"| Operation | 200 |",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("requirements.md lacks %q", want)
		}
	}
	if s.SuiteVersion == "" || len(s.ContractSHA256) != 64 || s.Start.IsZero() || s.Duration <= 0 || len(s.Coverage) == 0 {
		t.Errorf("header fields missing from requirements.json: version %q, hash %q, start %v, duration %v, %d operations covered",
			s.SuiteVersion, s.ContractSHA256, s.Start, s.Duration, len(s.Coverage))
	}

	// Progress while running: counts, never times.
	m := closing.FindStringSubmatch(lastLine(res.stdout))
	if m == nil {
		t.Fatalf("last line %q is not the closing line", lastLine(res.stdout))
	}
	ran, _ := strconv.Atoi(m[1])
	failed, _ := strconv.Atoi(m[2])
	total := strconv.Itoa(ran + failed)
	progress := regexp.MustCompile(`(?m)^progress: (\d+)/(\d+) specs done, (\d+) failed`).FindAllStringSubmatch(res.stdout, -1)
	if len(progress) < 2 {
		t.Fatalf("no progress lines:\n%s", res.stdout)
	}
	if final := progress[len(progress)-1]; final[1] != total || final[2] != total || final[3] != m[2] {
		t.Errorf("final progress %q, want %s/%s specs done, %s failed", final[0], total, total, m[2])
	}
	if !strings.Contains(res.stdout, "failed (FAIL: UA-BATCH-006") {
		t.Errorf("no progress line names the failing requirement:\n%s", res.stdout)
	}

	// The summary: by operation, failures under their operation.
	summary := res.stdout[strings.LastIndex(res.stdout, "Summary by operation"):]
	for _, want := range []string{"status codes exercised", "  batchGetUserAttributes ", "Failed requirements\n  batchGetUserAttributes\n    FAIL  UA-BATCH-006"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
}

// chromium finds Debian's chromium (or $ATTRCONFORM_CHROMIUM) or skips.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ATTRCONFORM_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed (Debian: apt-get install -y chromium; or set ATTRCONFORM_CHROMIUM): the HTML report is not checked in a browser")
	return ""
}

// headless runs chromium as the machine's facts say, in a profile of its own.
func headless(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	// A generous bound so that a hung browser cannot hang the tests; the
	// result never depends on how long the browser took.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.Bytes()
}

// probe is appended to a copy of the report (the report itself has no
// script): it reads what the browser computed for the matrix and writes
// it into the DOM, which --dump-dom then prints.
const probe = `<script>
(() => {
  const visible = el => { const s = getComputedStyle(el), r = el.getBoundingClientRect();
    return s.display !== 'none' && s.visibility === 'visible' && parseFloat(s.opacity) > 0 && r.width > 0 && r.height > 0; };
  const row = document.getElementById('UA-BATCH-006');
  const pass = document.querySelector('#matrix tr.req.pass');
  const badge = row && row.querySelector('.badge');
  const detail = document.getElementById('UA-BATCH-006-detail');
  const out = {
    rows: document.querySelectorAll('#matrix tbody tr.req').length,
    matrixVisible: visible(document.getElementById('matrix')),
    coverageVisible: visible(document.getElementById('coverage-table')),
    failClass: row ? row.className : '',
    failBackground: row ? getComputedStyle(row).backgroundColor : '',
    passBackground: pass ? getComputedStyle(pass).backgroundColor : '',
    badgeText: badge ? badge.innerText : '',
    badgeBackground: badge ? getComputedStyle(badge).backgroundColor : '',
    badgeVisible: badge ? visible(badge) : false,
    exchangeVisible: detail ? visible(detail) && detail.innerText.includes('HTTP 200') && detail.innerText.includes('POST /acme/chat/metadata/user/get') : false,
  };
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>`

type probed struct {
	Rows            int    `json:"rows"`
	MatrixVisible   bool   `json:"matrixVisible"`
	CoverageVisible bool   `json:"coverageVisible"`
	FailClass       string `json:"failClass"`
	FailBackground  string `json:"failBackground"`
	PassBackground  string `json:"passBackground"`
	BadgeText       string `json:"badgeText"`
	BadgeBackground string `json:"badgeBackground"`
	BadgeVisible    bool   `json:"badgeVisible"`
	ExchangeVisible bool   `json:"exchangeVisible"`
}

var rgb = regexp.MustCompile(`rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)`)

// reddish: an opaque colour whose red outweighs green and blue (the pale
// row background as well as the solid badge).
func reddish(css string) bool {
	m := rgb.FindStringSubmatch(css)
	if m == nil || (m[4] != "" && m[4] == "0") {
		return false
	}
	r, _ := strconv.Atoi(m[1])
	g, _ := strconv.Atoi(m[2])
	b, _ := strconv.Atoi(m[3])
	return r >= g+20 && r >= b+20
}

// The HTML matrix renders in a real browser, shows the matrix, and marks
// the failing requirement visibly: a red row and a visible FAIL badge,
// with the failing exchange shown under it.
func TestHTMLReportInHeadlessChromium(t *testing.T) {
	t.Parallel()
	bin := chromium(t)
	dir, _ := sharedFailingRun(t)
	page, err := os.ReadFile(filepath.Join(dir, "requirements.html"))
	if err != nil {
		t.Fatal(err)
	}
	s := readSummary(t, filepath.Join(dir, "requirements.json"))

	probeFile := filepath.Join(t.TempDir(), "probe.html")
	withProbe := strings.Replace(string(page), "</body>", probe+"\n</body>", 1)
	if err := os.WriteFile(probeFile, []byte(withProbe), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := string(headless(t, bin, "--dump-dom", "file://"+probeFile))
	m := regexp.MustCompile(`<pre id="probe">(.*?)</pre>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the probe left no result; the page did not render:\n%.2000s", dom)
	}
	var got probed
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &got); err != nil {
		t.Fatalf("probe result %q: %v", m[1], err)
	}
	t.Logf("browser computed: %+v", got)
	if got.Rows != len(s.Requirements) || !got.MatrixVisible || !got.CoverageVisible {
		t.Errorf("matrix shows %d requirement rows (want %d), visible %v; coverage table visible %v", got.Rows, len(s.Requirements), got.MatrixVisible, got.CoverageVisible)
	}
	if !strings.Contains(got.FailClass, "fail") || !reddish(got.FailBackground) || got.FailBackground == got.PassBackground {
		t.Errorf("failing row: class %q, background %s (passing rows %s): want a red row", got.FailClass, got.FailBackground, got.PassBackground)
	}
	if !got.BadgeVisible || !strings.Contains(got.BadgeText, "FAIL") || !reddish(got.BadgeBackground) {
		t.Errorf("failing badge: visible %v, text %q, background %s: want a visible red FAIL", got.BadgeVisible, got.BadgeText, got.BadgeBackground)
	}
	if !got.ExchangeVisible {
		t.Error("the failing exchange (request and response) is not shown under the failing requirement")
	}

	// A screenshot of the report as it is: it paints, with red in it.
	shot := filepath.Join(t.TempDir(), "report.png")
	headless(t, bin, "--window-size=1280,1600", "--hide-scrollbars", "--screenshot="+shot, "file://"+filepath.Join(dir, "requirements.html"))
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	red, dark := 0, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			if r > g+60 && r > bl+60 {
				red++
			}
			if r < 90 && g < 90 && bl < 90 {
				dark++
			}
		}
	}
	if b.Dx() != 1280 || red < 500 || dark < 2000 {
		t.Errorf("screenshot %dx%d has %d red and %d dark (text) pixels: the page did not paint as expected", b.Dx(), b.Dy(), red, dark)
	}
}
