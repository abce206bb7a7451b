package attrconform_test

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/attrconform/attrconform/internal/bundled"
	"github.com/attrconform/attrconform/internal/mutant"
	"github.com/attrconform/attrconform/reference"
)

// The CI gates of docs/ci/ run as users copy them: their command lines,
// read from the workflow and the job files, run the suite against a
// reference in this process with the tokens in environment variables, as
// a CI passes its secrets, and the exit status is what fails the job.

// ciJob is the part of a CI file the test runs: the script that runs the
// suite, its environment, the directory the reports go to and the
// artifacts the CI publishes from it.
type ciJob struct {
	script    string
	env       map[string]string // variables the file sets; secrets as "secret:NAME"
	workspace string            // the variable naming the checkout of the user's repository
	artifacts []string          // relative to the workspace
}

func readCI(t *testing.T, file string, v any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

var secretRE = regexp.MustCompile(`^\$\{\{\s*secrets\.(\w+)\s*\}\}$`)

// githubJob reads docs/ci/github-actions.yml: the step that runs the
// suite, and the upload step that must run whatever the suite's status.
func githubJob(t *testing.T) ciJob {
	t.Helper()
	type step struct {
		Name             string            `json:"name"`
		Uses             string            `json:"uses"`
		If               string            `json:"if"`
		Run              string            `json:"run"`
		WorkingDirectory string            `json:"working-directory"`
		Env              map[string]string `json:"env"`
		With             map[string]string `json:"with"`
	}
	var wf struct {
		Jobs map[string]struct {
			Env   map[string]string `json:"env"`
			Steps []step            `json:"steps"`
		} `json:"jobs"`
	}
	readCI(t, "docs/ci/github-actions.yml", &wf)
	job, ok := wf.Jobs["conformance"]
	if !ok {
		t.Fatal("docs/ci/github-actions.yml: no job conformance")
	}
	j := ciJob{env: map[string]string{}, workspace: "GITHUB_WORKSPACE"}
	for k, v := range job.Env {
		j.env[k] = v
	}
	checkout := ""
	for _, s := range job.Steps {
		switch {
		case s.Uses == "actions/checkout@v4" && s.With["repository"] == "attrconform/attrconform":
			checkout = s.With["path"]
		case strings.Contains(s.Run, "./runner"):
			if s.WorkingDirectory != checkout || checkout == "" {
				t.Errorf("the suite runs in %q, the suite is checked out in %q", s.WorkingDirectory, checkout)
			}
			j.script = s.Run
			for k, v := range s.Env {
				if m := secretRE.FindStringSubmatch(v); m != nil {
					v = "secret:" + m[1]
				}
				j.env[k] = v
			}
		case strings.HasPrefix(s.Uses, "actions/upload-artifact@"):
			if s.If != "always()" {
				t.Errorf("the upload step runs if %q; it must run always(), when the suite failed most of all", s.If)
			}
			j.artifacts = strings.Fields(s.With["path"])
		}
	}
	if j.script == "" || len(j.artifacts) == 0 {
		t.Fatalf("docs/ci/github-actions.yml: no step running ./runner (%q) or uploading its reports (%v)", j.script, j.artifacts)
	}
	return j
}

// gitlabJob reads docs/ci/gitlab-ci.yml: the job's script (its
// before_script fetches the suite and enters its directory, which the
// test stands in for) and its artifacts.
func gitlabJob(t *testing.T) ciJob {
	t.Helper()
	var file struct {
		Conformance struct {
			Variables    map[string]string `json:"variables"`
			BeforeScript []string          `json:"before_script"`
			Script       []string          `json:"script"`
			Artifacts    struct {
				When    string            `json:"when"`
				Paths   []string          `json:"paths"`
				Reports map[string]string `json:"reports"`
			} `json:"artifacts"`
		} `json:"conformance"`
	}
	readCI(t, "docs/ci/gitlab-ci.yml", &file)
	job := file.Conformance
	if len(job.BeforeScript) == 0 || !strings.HasPrefix(job.BeforeScript[len(job.BeforeScript)-1], "cd ") {
		t.Errorf("the before_script ends %q; it must enter the suite's checkout, where the script runs", job.BeforeScript)
	}
	if job.Artifacts.When != "always" {
		t.Errorf("artifacts are kept when %q; they must be kept always, when the suite failed most of all", job.Artifacts.When)
	}
	if junit := job.Artifacts.Reports["junit"]; !slices.Contains(job.Artifacts.Paths, junit) || !strings.HasSuffix(junit, "/junit.xml") {
		t.Errorf("the JUnit report %q is not among the artifacts %v", junit, job.Artifacts.Paths)
	}
	j := ciJob{script: strings.Join(job.Script, "\n"), env: map[string]string{}, workspace: "CI_PROJECT_DIR", artifacts: job.Artifacts.Paths}
	for k, v := range job.Variables {
		j.env[k] = v
	}
	return j
}

// The target file users copy names its tokens as ${VAR}s; a job passes
// each from a secret (GitHub) or leaves it to the CI's variables (GitLab).
func TestCIJobsPassTheTargetFileItsSecrets(t *testing.T) {
	data, err := os.ReadFile("docs/ci/target.yaml")
	if err != nil {
		t.Fatal(err)
	}
	vars := regexp.MustCompile(`(?m)^[^#]*?\$\{(\w+)\}`).FindAllStringSubmatch(string(data), -1)
	if len(vars) == 0 {
		t.Fatal("docs/ci/target.yaml names no ${VAR}: its tokens must come from the CI's secrets")
	}
	gh := githubJob(t)
	for _, v := range vars {
		if gh.env[v[1]] != "secret:"+v[1] {
			t.Errorf("docs/ci/github-actions.yml passes %s as %q, want ${{ secrets.%s }}", v[1], gh.env[v[1]], v[1])
		}
	}
	for k, v := range gitlabJob(t).env {
		if strings.Contains(strings.ToLower(k), "token") || strings.Contains(v, "YWMt") {
			t.Errorf("docs/ci/gitlab-ci.yml sets %s itself; tokens belong in masked CI/CD variables", k)
		}
	}
}

// Each job, run against the faithful reference, a mutant and a reference
// that drops connections, exits as a CI gate must: 0 passes the job, 1 (a
// FAIL) and 2 (an ERROR) fail it, unless ALLOW_ERRORS lets ERRORs pass;
// the reports to publish are there whatever the status.
func TestCIJobsGateOnTheSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite six times")
	}
	jobs := map[string]ciJob{"github": githubJob(t), "gitlab": gitlabJob(t)}
	dropsBatch := &bundled.Defect{Name: "drops-batch-reads", Apply: func(*reference.Config) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// The main app's only: a flood of dropped requests (the extra
				// app's rate spec) would stop the run as a dead target.
				if r.Method == http.MethodPost && r.URL.Path == "/acme/chat/metadata/user/get" {
					if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
						conn.Close() // the client sees its request fail: an ERROR, not a FAIL
						return
					}
				}
				next.ServeHTTP(w, r)
			})
		}
	}}
	failing, err := mutant.Defect("batch-cap-101")
	if err != nil {
		t.Fatal(err)
	}
	const errored, failed = "could not judge the target", "FAIL  UA-BATCH-006"
	for _, c := range []struct {
		name, job   string
		defect      *bundled.Defect
		allowErrors string
		exit        int
		says        string // in the job's output
	}{
		{"github/faithful", "github", nil, "", 0, "0 failed"},
		{"github/fail", "github", failing, "", 1, failed},
		{"github/error", "github", dropsBatch, "", 2, errored},
		{"github/error allowed", "github", dropsBatch, "true", 0, errored},
		{"gitlab/faithful", "gitlab", nil, "", 0, "0 failed"},
		{"gitlab/fail", "gitlab", failing, "", 1, failed},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if out := runJob(t, jobs[c.job], c.defect, c.allowErrors, c.exit); !strings.Contains(out, c.says) {
				t.Errorf("the job's output does not say %q:\n%s", c.says, lastLines(out, 40))
			}
		})
	}
}

// runJob runs a job's script against the reference started with defect
// (nil: faithful), checks its exit status and its artifacts, and returns
// its output.
func runJob(t *testing.T, j ciJob, defect *bundled.Defect, allowErrors string, exit int) string {
	tg, srv, err := bundled.StartTarget(bundled.Options{Defect: defect})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// The user's repository: its target file names the tokens as ${VAR}s.
	secrets := map[string]string{"CHAT_ADMIN_TOKEN": tg.AdminToken, "CONFORM1_TOKEN": tg.Users[0].Token, "CONFORM2_TOKEN": tg.Users[1].Token}
	data, err := yaml.Marshal(tg)
	if err != nil {
		t.Fatal(err)
	}
	file := string(data)
	for name, token := range secrets {
		if token == "" || !strings.Contains(file, token) {
			t.Fatalf("the bundled tenant has no token for %s", name)
		}
		file = strings.ReplaceAll(file, token, "${"+name+"}")
	}
	workspace := t.TempDir()
	if err := os.MkdirAll(filepath.Join(workspace, "conformance"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(workspace, "conformance", "target.yaml"), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", j.script)
	cmd.Env = append(os.Environ(), j.workspace+"="+workspace, "RUNNER_TEMP="+t.TempDir())
	for k, v := range j.env {
		if name, ok := strings.CutPrefix(v, "secret:"); ok {
			v = secrets[name]
		}
		if k == "ALLOW_ERRORS" && allowErrors != "" {
			v = allowErrors
		}
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if j.workspace == "CI_PROJECT_DIR" { // GitLab passes its CI/CD variables as they are
		for name, token := range secrets {
			cmd.Env = append(cmd.Env, name+"="+token)
		}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	got := cmd.ProcessState.ExitCode()
	if got != exit {
		t.Errorf("the job's script exited %d (%v), want %d; its output:\n%s", got, err, exit, lastLines(out.String(), 40))
	}
	for _, a := range j.artifacts {
		report, err := os.ReadFile(filepath.Join(workspace, a))
		if err != nil {
			t.Errorf("artifact %s: %v", a, err)
			continue
		}
		for _, token := range secrets {
			if bytes.Contains(report, []byte(token)) {
				t.Errorf("artifact %s holds a token", a)
			}
		}
	}
	for _, token := range secrets {
		if strings.Contains(out.String(), token) {
			t.Error("the job's output holds a token")
		}
	}
	return out.String()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
