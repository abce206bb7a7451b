package attrconform_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/attrconform/attrconform"

// The layout's arrows run one way: specs -> harness (framework, the
// explorer, the histories) -> judge -> contract
// -> evidence; the reference -> contract/wire, profile, target (and the
// module's embedded files, "" below); the model of the documents ->
// profile, target, contract/wire only (a reading of its own, no client, no
// server), and the judge, the harness and the specs take the documents'
// facts from it; tools -> anything; redact, which every output passes, ->
// nothing of the module, so that anything may use it; evidence, what the
// judge, the harness, the proxy and the reports share, -> profile and
// redact only. The reports do not depend on the harness, and what judges
// single exchanges (the judge, the proxy, the contract, the reports but
// report/suiterun, which reads Ginkgo's reports) links no Ginkgo. The
// shipped runner and the harness carry no mutants, and the harness does
// not depend on the server it judges. The runner links no database
// client: the reference's etcd and bolt stores are packages of their own,
// linked by the reference binary, the tools and tests only.
func TestLayoutArrowsRunOneWay(t *testing.T) {
	deps := map[string][]string{}   // package -> its module dependencies, transitively
	linked := map[string][]string{} // package -> every dependency, transitively
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		linked[fields[0]] = fields[1:]
		for _, d := range fields[1:] {
			if strings.HasPrefix(d, module+"/") || d == module {
				deps[fields[0]] = append(deps[fields[0]], strings.TrimPrefix(strings.TrimPrefix(d, module), "/"))
			}
		}
	}
	if len(deps) == 0 {
		t.Fatal("go list found no package of the module")
	}
	under := func(pkg, dir string) bool { return pkg == dir || strings.HasPrefix(pkg, dir+"/") }
	for pkg, ds := range linked {
		p := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
		if !(under(p, "judge") || under(p, "proxy") || under(p, "contract") || p == "report" || p == "evidence" || p == "model") {
			continue
		}
		for _, d := range ds {
			if under(d, "github.com/onsi") {
				t.Errorf("%s links %s: what judges single exchanges and reports them links no Ginkgo or Gomega (report/suiterun reads Ginkgo's reports)", p, d)
				break
			}
		}
	}
	for pkg, ds := range linked {
		if !under(pkg, module+"/runner") {
			continue
		}
		var db []string
		for _, d := range ds {
			if under(d, "go.etcd.io") || under(d, "google.golang.org/grpc") {
				db = append(db, d)
			}
		}
		if len(db) > 0 {
			t.Errorf("%s links %d etcd, bbolt or gRPC packages (%s, ...): the runner links no database client; the stores that need one are reference/store/etcdstore and boltstore", pkg, len(db), db[0])
		}
	}
	for pkg, ds := range deps {
		p := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
		for _, d := range ds {
			switch {
			case (under(p, "framework") || under(p, "suites") || under(p, "runner") || under(p, "explore") || under(p, "history") || under(p, "model")) && under(d, "internal/mutant"):
				t.Errorf("%s depends on %s: the harness, the specs and the shipped runner carry no mutants", p, d)
			case (under(p, "framework") || under(p, "suites") || under(p, "contract") || under(p, "explore") || under(p, "history")) && under(d, "reference"):
				t.Errorf("%s depends on %s: the harness does not depend on the server it judges", p, d)
			case p == "redact":
				t.Errorf("redact depends on %s: it stands on the standard library alone", d)
			case p == "evidence" && d != "profile" && d != "redact":
				t.Errorf("evidence depends on %s: it stands on profile and redact only", d)
			case (under(p, "contract") || under(p, "judge") || under(p, "report") || under(p, "proxy")) && under(d, "framework"):
				t.Errorf("%s depends on %s: the judge, the contract, the reports and the proxy do not depend on the harness", p, d)
			case under(p, "contract") && !(under(d, "contract") || d == "evidence" || d == "profile" || d == "redact"):
				t.Errorf("%s depends on %s: the contract stands on evidence (and what it stands on) only", p, d)
			case under(p, "model") && !(d == "contract/wire" || d == "profile" || d == "target"):
				t.Errorf("%s depends on %s: the model stands on profile, target and contract/wire only", p, d)
			case under(p, "reference") && !(under(d, "reference") || under(d, "contract/wire") || d == "profile" || d == "target" || d == ""):
				t.Errorf("%s depends on %s: the reference stands on contract/wire, profile, target and the module's embedded files only", p, d)
			}
		}
	}
}
