package report

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/attrconform/attrconform/evidence"
)

// requirements.json names its format. A reader reads the current format
// and upgrades the first (snake_case fields, with apiVersion v1 or none:
// files from before versioning), so that `runner diff` compares runs
// across the rename; it refuses any other format or kind, naming the
// versions it reads.
func TestRequirementsJSONIsVersioned(t *testing.T) {
	dir := t.TempDir()
	written := filepath.Join(dir, "written.json")
	s := Summary{SuiteVersion: "0.1.0", ContractSHA256: "abc", Duration: 3, SetupFailure: "BeforeSuite: boom",
		Requirements: []Requirement{{ID: "UA-GEN-002", Verdict: Fail, Failures: []Failure{{Spec: "s", Exchange: &evidence.Exchange{RequestBody: "q", ContentType: "text/plain", ResponseBody: "a"}}}}},
		Specs:        []Spec{{Name: "s", Duration: 2}},
		Baseline:     &BaselineResult{File: "b.yaml", NotJudged: []string{"UA-GEN-003"}},
		Traffic:      &Traffic{ClientFindings: 4},
	}
	if err := s.WriteJSON(written); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(written)
	for _, want := range []string{`"apiVersion": "attrconform.dev/v2"`, `"kind": "RequirementsReport"`, `"suiteVersion"`, `"contractSHA256"`, `"durationNanoseconds"`, `"setupFailure"`, `"notJudged"`, `"clientFindings"`, `"requestBody"`, `"contentType"`, `"responseBody"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("requirements.json lacks %s", want)
		}
	}
	if snake := regexp.MustCompile(`"[a-z0-9]+_[a-z0-9_]+":`).FindString(string(data)); snake != "" {
		t.Errorf("requirements.json has a snake_case field: %s", snake)
	}
	v1 := `"suite_version":"0.1.0","contract_sha256":"abc","duration_ns":3,"setup_failure":"BeforeSuite: boom",
		"requirements":[{"id":"UA-GEN-002","level":"","title":"","verdict":"FAIL","failures":[{"spec":"s","exchange":{"method":"","path":"","principal":"","request_body":"q","status":0,"content_type":"text/plain","response_body":"a"}}]}],
		"specs":[{"name":"s","ids":null,"verdict":"","duration_ns":2}],
		"baseline":{"file":"b.yaml","not_judged":["UA-GEN-003"]},"traffic":{"exchanges":0,"judged":0,"violating":0,"client_findings":4,"unanswered":0,"unread":0}`
	for _, c := range []struct{ name, body, err string }{
		{"v2, as written", string(data), ""},
		{"v1", `{"apiVersion":"attrconform.dev/v1","kind":"RequirementsReport",` + v1 + `}`, ""},
		{"unversioned (v1)", `{` + v1 + `}`, ""},
		{"a later version", `{"apiVersion":"attrconform.dev/v9","kind":"RequirementsReport","requirements":[{"id":"UA-GEN-002"}]}`,
			`format "attrconform.dev/v9" kind "RequirementsReport"; this runner reads kind RequirementsReport of attrconform.dev/v2 or attrconform.dev/v1`},
		{"another kind", `{"apiVersion":"attrconform.dev/v2","kind":"TrafficRecord","requirements":[{"id":"UA-GEN-002"}]}`,
			`kind "TrafficRecord"; this runner reads kind RequirementsReport`},
		{"v1 named by kind only", `{"kind":"RequirementsReport",` + v1 + `}`, `format "" kind "RequirementsReport"`},
		{"not JSON", `<testsuites/>`, "not a requirements.json this runner reads"},
	} {
		path := filepath.Join(dir, "requirements.json")
		os.WriteFile(path, []byte(c.body), 0o644)
		got, err := ReadSummary(path)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got.TypeMeta = TypeMeta{}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("%s: read\n%+v\nwant\n%+v", c.name, got, s)
		}
	}
}
