package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/attrconform/attrconform/internal/bundled"
	"github.com/attrconform/attrconform/internal/mutant"
	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/report"
	"github.com/attrconform/attrconform/target"
)

// oldTarget serves the bundled tenant in this process as OLD, faithful or
// with a mutant, under another org, other app names and other tokens
// (requests are mapped by role and user name), committing at once and
// unthrottled; it returns its target file.
func oldTarget(t *testing.T, defect string) (file string, tg *target.Target) {
	t.Helper()
	tg, err := reference.BundledTarget()
	if err != nil {
		t.Fatal(err)
	}
	unthrottled(tg)
	tg.Org = "oldorg"
	for _, role := range tg.Roles() {
		a := tg.AppByRole(role)
		a.Name, a.AdminToken = "old"+a.Name, a.AdminToken+"-old"
		for i := range a.Users {
			if a.Users[i].Token != "" {
				a.Users[i].Token += "-old"
			}
		}
	}
	o := bundled.Options{RaceWindow: reference.NoRaceWindow}
	if defect != "" {
		if o.Defect, err = mutant.Defect(defect); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := bundled.Start(tg, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	tg.BaseURL = srv.URL
	return targetFile(t, tg), tg
}

// compareArgs explore the bundled reference in this process as NEW,
// against the target file of OLD, with a short budget.
func compareArgs(old string, more ...string) []string {
	return append([]string{"explore", "--compare", old, "--reference", "inprocess", "--race-window", "0", "--time", "5s", "--shrink-time", "10s"}, more...)
}

// Two faithful references: exit 0, no difference, the seed printed, and
// neither target's tokens in the output.
func TestCompareFaithfulTargetsAgree(t *testing.T) {
	t.Parallel()
	old, tg := oldTarget(t, "")
	dir := t.TempDir()
	res := runRunner(t, compareArgs(old, "--seed", "7", "--steps", "400", "--report-dir", dir)...)
	if res.code != 0 || !strings.Contains(res.stdout, "NEW kept every alternative OLD showed (seed 7)") || !strings.Contains(res.stdout, "compared with OLD") {
		t.Fatalf("exit %d (want 0, no difference, seed 7)\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if strings.Contains(res.stdout, "DIFFERENCE") || !strings.Contains(res.stdout, "alternatives OLD showed: ") {
		t.Errorf("want no difference and OLD's alternatives listed\n%s", res.stdout)
	}
	if m := regexp.MustCompile(`(\d+) generated requests`).FindStringSubmatch(res.stdout); m == nil || m[1] == "0" {
		t.Errorf("no generated request: %v\n%s", m, res.stdout)
	}
	assertNoSecrets(t, res, dir, tg)
}

// NEW serves the legacy profile's alternatives, which the documents allow
// as OLD's are (the lenient profile), but not OLD's: exit 1, a DIFFERENCE
// naming the choice and both alternatives, with the exchanges that showed
// each, both answers of each request of a short minimal sequence, and the
// counterexample in the report directory.
func TestCompareFindsADifferentAlternative(t *testing.T) {
	t.Parallel()
	old, tg := oldTarget(t, "")
	legacy, err := reference.BundledTarget()
	if err != nil {
		t.Fatal(err)
	}
	legacy.Profile = "legacy"
	dir := t.TempDir()
	res := runRunner(t, compareArgs(old, "--fixture", targetFile(t, legacy), "--seed", "3", "--steps", "3000", "--report-dir", dir)...)
	if res.code != 1 || strings.Contains(res.stdout, "DISAGREEMENT") {
		t.Fatalf("exit %d (want 1 and no disagreement)\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	text, err := os.ReadFile(filepath.Join(dir, "counterexample.txt"))
	if err != nil {
		t.Fatal(err)
	}
	report := string(text)
	m := regexp.MustCompile(`DIFFERENCE between the targets: (\S+)(?: \((?:D|OQ)-\d+\))?: OLD showed (\S+), NEW (\S+)\n`).FindStringSubmatch(report)
	if m == nil || m[2] == m[3] || !strings.Contains(res.stdout, m[0]) {
		t.Fatalf("no difference of two alternatives of one choice in the report, or not on stdout: %q\n%s", m, report)
	}
	for _, w := range []string{"OLD showed " + m[1] + "=" + m[2] + " by ", "NEW showed " + m[1] + "=" + m[3] + " by ", "the documents allow:", "the answers were judged on UA-", "seed 3, group all"} {
		if !strings.Contains(report, w) {
			t.Errorf("the report has no %q\n%s", w, report)
		}
	}
	// The minimal sequence: each request with both answers, each side at
	// its own org and app.
	steps := regexp.MustCompile(`(?m)^  (\d+)\. OLD \S+ /oldorg/old\S+ .* -> \d+ .*\n +NEW \S+ /acme/\S+ .* -> \d+ `).FindAllStringSubmatch(report, -1)
	if len(steps) == 0 || len(steps) > 4 || steps[len(steps)-1][1] != strconv.Itoa(len(steps)) {
		t.Fatalf("want a minimal sequence of 1 to 4 requests, each with both answers; got %d\n%s", len(steps), report)
	}
	assertNoSecrets(t, res, dir, tg)
}

// Either target breaking a rule (a PUT replaces the user's map instead of
// merging): exit 1, the disagreement names that target and the
// requirement, with both answers of each request, and the requirement
// fails in the report family with that target's answer.
func TestCompareReportsADisagreementOfEitherTarget(t *testing.T) {
	t.Parallel()
	for _, side := range []string{"OLD", "NEW"} {
		t.Run(side, func(t *testing.T) {
			t.Parallel()
			oldDefect, more := "", []string{"--mutant", "put-replaces"}
			if side == "OLD" {
				oldDefect, more = "put-replaces", nil
			}
			old, _ := oldTarget(t, oldDefect)
			dir := t.TempDir()
			res := runRunner(t, compareArgs(old, append(more, "--group", "write", "--seed", "11", "--steps", "3000", "--report-dir", dir)...)...)
			if res.code != 1 || !regexp.MustCompile(`DISAGREEMENT of `+side+` \(http://127\.0\.0\.1:\d+\) with the documents' model: .*UA-PUT-004`).MatchString(res.stdout) {
				t.Fatalf("exit %d (want 1, a disagreement of %s naming UA-PUT-004)\n%s\n%s", res.code, side, res.stdout, res.stderr)
			}
			if !regexp.MustCompile(`(?m)^  1\. OLD .*\n +NEW `).MatchString(res.stdout) || !strings.Contains(res.stdout, side+" answered ") {
				t.Errorf("the report does not show both answers and %s's\n%s", side, res.stdout)
			}
			r := requirement(readSummary(t, filepath.Join(dir, "requirements.json")), "UA-PUT-004")
			org := map[string]string{"OLD": "/oldorg/", "NEW": "/acme/"}[side]
			if r.Verdict != report.Fail || len(r.Failures) == 0 || r.Failures[0].Exchange == nil || !strings.HasPrefix(r.Failures[0].Exchange.Path, org) {
				t.Errorf("UA-PUT-004: %s, want FAIL with %s's exchange: %+v", r.Verdict, side, r.Failures)
			}
		})
	}
}

// assertNoSecrets checks that neither target's tokens show in the output
// or the reports.
func assertNoSecrets(t *testing.T, res runResult, dir string, old *target.Target) {
	t.Helper()
	bundledTarget, err := reference.BundledTarget()
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{"stdout": res.stdout, "stderr": res.stderr}
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		outputs[f.Name()] = string(data)
	}
	for _, secret := range append(old.Secrets(), bundledTarget.Secrets()...) {
		for name, text := range outputs {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows a token", name)
			}
		}
	}
}

// Target files of different shapes, or --compare with --clients: exit 2
// with the reason, before any request.
func TestCompareRefusesMismatchedTargets(t *testing.T) {
	t.Parallel()
	shape := func(edit func(*target.Target)) string {
		tg, err := reference.BundledTarget()
		if err != nil {
			t.Fatal(err)
		}
		tg.BaseURL = "http://127.0.0.1:1" // never contacted
		edit(tg)
		return targetFile(t, tg)
	}
	cases := []struct {
		name, file string
		more       []string
		want       string
	}{
		{"a user missing", shape(func(tg *target.Target) { tg.Users = tg.Users[:len(tg.Users)-1] }), nil,
			`app role main: NEW lists the user "u0123456789abcdefghijklmnopqrstuvwxyz_-.0123456789abcdefghijklmn", OLD does not`},
		{"a token on one side", shape(func(tg *target.Target) { tg.Users[3].Token = "YWMtOnlyOnOneSide-0000000000" }), nil,
			`app role main: user "dave" has a token on one target only (OLD: true, NEW: false)`},
		{"an app missing", shape(func(tg *target.Target) { tg.ExtraApps.SmallQuota = nil }), nil,
			"the targets have different apps: OLD has the roles main, second, disabled, rate_limited, NEW main, second, small_quota, disabled, rate_limited"},
		{"with --clients", shape(func(*target.Target) {}), []string{"--clients", "2"}, "--compare with --clients"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := runRunner(t, append([]string{"explore", "--compare", c.file, "--reference", "inprocess"}, c.more...)...)
			if res.code != 2 || !strings.Contains(res.stderr, c.want) || strings.Contains(res.stdout, "explore: NEW") {
				t.Fatalf("exit %d (want 2 before any request, saying %q)\n%s\n%s", res.code, c.want, res.stdout, res.stderr)
			}
		})
	}
}
