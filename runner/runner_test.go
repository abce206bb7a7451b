package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/attrconform/attrconform/internal/bundled"
	"github.com/attrconform/attrconform/internal/mutant"
	"github.com/attrconform/attrconform/refcontainer"
	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/report"
	"github.com/attrconform/attrconform/target"
)

var runnerBin string

func TestMain(m *testing.M) {
	// The container tests ask the engine from this process too.
	refcontainer.ApplyLocalDefaults()
	dir, err := os.MkdirTemp("", "runner-test")
	if err != nil {
		panic(err)
	}
	runnerBin = filepath.Join(dir, "runner")
	if out, err := exec.Command("go", "build", "-tags", "mutants", "-o", runnerBin, ".").CombinedOutput(); err != nil {
		panic("building the runner: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	closeClusterEtcd()
	os.RemoveAll(dir)
	os.Exit(code)
}

type runResult struct {
	code   int
	stdout string
	stderr string
	// maxRSS is the peak resident memory of the process, in bytes.
	maxRSS int64
}

func runRunner(t *testing.T, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(runnerBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := runResult{stdout: stdout.String(), stderr: stderr.String()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && cmd.ProcessState != nil {
		res.maxRSS = ru.Maxrss << 10 // KB on Linux
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running %v: %v", args, err)
	}
	return res
}

var closing = regexp.MustCompile(`(?m)^(\d+) passed, (\d+) failed, (\d+) skipped\n?$`)

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestBundledReferencePassesEverySpec(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := runRunner(t, "--report-dir", dir)
	if res.code != 0 {
		t.Fatalf("exit %d against the faithful reference\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	m := closing.FindStringSubmatch(lastLine(res.stdout))
	// One node: the specs of a deployment of several nodes skip, saying so.
	if m == nil || m[1] == "0" || m[2] != "0" || m[3] != fmt.Sprint(expectedSkips(t, filepath.Join(dir, "requirements.json"), true)) {
		var skipped []string
		for _, sp := range readSummary(t, filepath.Join(dir, "requirements.json")).Specs {
			if sp.Verdict == report.Skip {
				skipped = append(skipped, sp.Name+": "+sp.Reason)
			}
		}
		t.Fatalf("last line %q: want every spec passed, none failed or skipped but those needing several nodes or not observed; skipped:\n%s", lastLine(res.stdout), strings.Join(skipped, "\n"))
	}
	for _, f := range []string{"junit.xml", "report.json", "requirements.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("report %s missing or empty: %v", f, err)
		}
	}
}

// The suite fails against each mutant, and a spec of a requirement the
// mutant breaks is among the failures.
func TestSuiteCatchesMutants(t *testing.T) {
	for _, name := range []string{"no-version-check", "leaky-conflict", "batch-cap-101", "user-limit-plus-one", "foreign-token-write"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m, err := mutant.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			res := runRunner(t, "--mutant", name, "--report-dir", dir)
			if res.code != 1 {
				t.Fatalf("exit %d, want 1 (a spec failed)\n%s", res.code, res.stdout)
			}
			failed := failedRequirements(t, filepath.Join(dir, "requirements.json"))
			if !slices.ContainsFunc(m.Breaks, func(id string) bool { return slices.Contains(failed, id) }) {
				t.Fatalf("failed requirements %v include none of %v, which the mutant breaks", failed, m.Breaks)
			}
			for _, id := range m.Breaks {
				if slices.Contains(failed, id) && !strings.Contains(res.stdout, "FAIL  "+id) {
					t.Errorf("the terminal summary does not show %s as FAIL", id)
				}
			}
		})
	}
}

func readSummary(t *testing.T, path string) report.Summary {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s report.Summary
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func requirement(s report.Summary, id string) report.Requirement {
	for _, r := range s.Requirements {
		if r.ID == id {
			return r
		}
	}
	return report.Requirement{}
}

func failedRequirements(t *testing.T, path string) []string {
	t.Helper()
	s := readSummary(t, path)
	var out []string
	for _, r := range s.Requirements {
		if r.Verdict == report.Fail {
			out = append(out, r.ID)
		}
	}
	return out
}

func TestConfigurationErrorsExit2(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	badField := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badField, []byte("base_url: http://127.0.0.1:1\norg: o\napp: a\nadmin_tokn: x\n"), 0o644)
	missingEnv := filepath.Join(dir, "env.yaml")
	os.WriteFile(missingEnv, []byte("base_url: http://127.0.0.1:1\norg: o\napp: a\nadmin_token: ${ATTRCONFORM_TEST_UNSET}\nusers: [{name: a}, {name: b}, {name: c}]\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--target", filepath.Join(dir, "absent.yaml")}, "no such file"},
		{[]string{"--target", badField}, `unknown field "admin_tokn"`},
		{[]string{"--target", missingEnv}, "admin_token: environment variable ATTRCONFORM_TEST_UNSET is not set"},
		{[]string{"--profile", "strictest"}, `unknown profile "strictest"`},
		{[]string{"--project-version", "v1.0.0"}, "with the flags given: implementation.organization: missing"},
		{[]string{"--mutant", "no-such-mutant"}, `unknown mutant "no-such-mutant"`},
		{[]string{"--reference", "inprocess", "--label-filter", "no-spec-has-this-label"}, "0 passed, 0 failed, 0 skipped"},
		{[]string{"--reference", "vm"}, `--reference "vm": use auto, container or inprocess`},
		{[]string{"--label-filter", "write &&"}, `--label-filter "write &&": Syntax Error Parsing Label Filter: Unexpected EOF.`},
		{[]string{"--reference", "container", "--mutant", "batch-cap-101"}, "--mutant and --race-window run the reference in-process"},
		{[]string{"--race-window", "-1ms"}, "--race-window -1ms: give a duration of 0 or more"},
		{[]string{"--race-window", "1ms", "--target", missingEnv}, "--race-window applies to the bundled reference only"},
		{[]string{"--fixture", "../fixtures/variants/minimal.yaml", "--target", badField}, "--fixture is the tenant of the bundled reference; leave out --target"},
		{[]string{"--reference", "inprocess", "--fixture", filepath.Join(dir, "absent.yaml")}, "no such file"},
		{[]string{"--reference", "inprocess", "--fixture", badField}, `unknown field "admin_tokn"`},
	} {
		res := runRunner(t, c.args...)
		if res.code != 2 || !strings.Contains(res.stdout+res.stderr, c.want) {
			t.Errorf("%v: exit %d, output without %q:\n%s%s", c.args, res.code, c.want, res.stdout, res.stderr)
		}
	}
}

// The bundled reference serves a variant tenant with --fixture and the
// suite judges it by the same file: every spec passes or skips, none fails.
func TestFixtureVariants(t *testing.T) {
	for _, file := range []string{"minimal.yaml", "pairs-json.yaml"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("..", "fixtures", "variants", file)
			res := runRunner(t, "--reference", "inprocess", "--fixture", path)
			m := closing.FindStringSubmatch(lastLine(res.stdout))
			if res.code != 0 || m == nil || m[1] == "0" || m[2] != "0" {
				t.Fatalf("exit %d, last line %q: want every selected spec passed\n%s%s", res.code, lastLine(res.stdout), res.stdout, res.stderr)
			}
			if !strings.Contains(res.stdout, "serving "+path) {
				t.Errorf("the run does not say which tenant the reference serves:\n%s", res.stdout)
			}
		})
	}
}

func TestLabelFilterSelectsSpecs(t *testing.T) {
	t.Parallel()
	// The exploration's spec of UA-PUT-008 carries the ID too.
	res := runRunner(t, "--reference", "inprocess", "--label-filter", "UA-PUT-008 && !explore")
	m := closing.FindStringSubmatch(lastLine(res.stdout))
	if res.code != 0 || m == nil || m[1] != "1" {
		t.Fatalf("exit %d, last line %q: want exactly the one empty-PUT spec to run and pass\n%s", res.code, lastLine(res.stdout), res.stdout)
	}
}

// startReference serves the bundled tenant in this process, changed by
// edit, and writes a target file for it, changed by targetEdit.
func startReference(t *testing.T, edit, targetEdit func(*target.Target)) string {
	t.Helper()
	tg, err := reference.BundledTarget()
	if err != nil {
		t.Fatal(err)
	}
	edit(tg)
	srv, err := bundled.Start(tg, bundled.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	tg.BaseURL = srv.URL
	targetEdit(tg)
	return targetFile(t, tg)
}

// targetFile writes tg as a target file.
func targetFile(t *testing.T, tg *target.Target) string {
	t.Helper()
	data, err := yaml.Marshal(tg)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "target.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestTargetFileProfilesAndMetrics(t *testing.T) {
	keep := func(*target.Target) {}
	cases := []struct {
		name         string
		server, file func(*target.Target)
		code         int
		want         string
	}{
		{"lenient accepts the legacy reference", func(t *target.Target) { t.Profile = "legacy" }, func(t *target.Target) { t.Profile = "lenient" }, 0, "saw get_unknown_user=404"},
		{"current refuses the legacy reference", func(t *target.Target) { t.Profile = "legacy" }, func(t *target.Target) { t.Profile = "current" }, 1, `get_unknown_user (D-02): the target chose "404" but profile current accepts only 200`},
		{"a pinned knob refuses the other alternative", keep, func(t *target.Target) { t.Knobs = map[string]string{"batch_over_limit_status": "403"} }, 1, "FAIL  UA-BATCH-006"},
		{"pairs metric on both sides", func(t *target.Target) { t.SizeMetric = "pairs" }, keep, 0, ""},
		{"declared json against a pairs server", func(t *target.Target) { t.SizeMetric = "pairs" }, func(t *target.Target) { t.SizeMetric = "json" }, 1, "FAIL  UA-LIMIT-001"},
		{"no declared metric tests with margins", keep, func(t *target.Target) { t.SizeMetric, t.BodyMetric = "", "" }, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			file := startReference(t, c.server, c.file)
			res := runRunner(t, "--target", file)
			if res.code != c.code || !strings.Contains(res.stdout, c.want) {
				t.Fatalf("exit %d (want %d), output without %q:\n%s%s", res.code, c.code, c.want, res.stdout, res.stderr)
			}
		})
	}
}
