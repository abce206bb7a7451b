package suiterun

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/attrconform/attrconform/catalog"
	"github.com/attrconform/attrconform/report"
)

// Conformance computes the conformance report of the suite run whose
// junit.xml is at path, grouping its verdicts by the catalogue this
// runner embeds; a run judged with another catalogue is an error.
func Conformance(path string) (report.ConformanceReport, error) {
	r, run, err := ReadRunJUnit(path)
	if err != nil {
		return report.ConformanceReport{}, err
	}
	if run.CatalogSHA256 != report.CatalogHash() {
		return report.ConformanceReport{}, fmt.Errorf("%s: the run used another requirement catalogue than this runner's (suite %s): use the runner that wrote it", path, run.SuiteVersion)
	}
	cat, err := catalog.Load()
	if err != nil {
		return report.ConformanceReport{}, err
	}
	return report.BuildConformance(Build(r, cat, func(s string) string { return s }), run), nil
}

const conformanceHeader = "# The conformance report of a run of the attrconform suite, computed from\n" +
	"# the junit.xml beside it. Check that it was not edited: runner verify-report DIR\n"

// WriteConformance writes dir's conformance-report.yaml from its junit.xml.
func WriteConformance(dir string) error {
	c, err := Conformance(filepath.Join(dir, report.JUnitFile))
	if err != nil {
		return err
	}
	data, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, report.ConformanceFile), append([]byte(conformanceHeader), data...), 0o644)
}

// VerifyConformance computes dir's conformance report again from its
// junit.xml and compares it with conformance-report.yaml, field by field:
// it returns one line per difference, or an error when it cannot compare
// (a file missing or unreadable, of another format, or from a run this
// runner cannot recompute).
func VerifyConformance(dir string) (report.ConformanceReport, []string, error) {
	path := filepath.Join(dir, report.ConformanceFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return report.ConformanceReport{}, nil, err
	}
	var tm report.TypeMeta
	var got any
	if err := yaml.Unmarshal(data, &tm); err != nil {
		return report.ConformanceReport{}, nil, fmt.Errorf("%s: not a conformance report: %w", path, err)
	}
	if tm != (report.TypeMeta{APIVersion: report.APIVersion, Kind: report.ConformanceKind}) {
		return report.ConformanceReport{}, nil, fmt.Errorf("%s: format %q kind %q; this runner verifies kind %s of %s", path, tm.APIVersion, tm.Kind, report.ConformanceKind, report.APIVersion)
	}
	yaml.Unmarshal(data, &got) // it parsed above
	want, err := Conformance(filepath.Join(dir, report.JUnitFile))
	if err != nil {
		return want, nil, err
	}
	var wantDoc any
	data, _ = yaml.Marshal(want)
	yaml.Unmarshal(data, &wantDoc)
	var diffs []string
	differences("", wantDoc, got, &diffs)
	return want, diffs, nil
}

// differences lists where got differs from want, by path: lists of
// objects with a name or an id are matched by it ("groups[BATCH]"),
// other lists by index.
func differences(path string, want, got any, out *[]string) {
	switch w := want.(type) {
	case map[string]any:
		if g, ok := got.(map[string]any); ok {
			members(w, g, func(k string) string { return strings.TrimPrefix(path+"."+k, ".") }, out)
			return
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			break
		}
		if wk, gk := keyed(w), keyed(g); wk != nil && gk != nil {
			members(wk, gk, func(k string) string { return path + "[" + k + "]" }, out)
			return
		}
		if len(w) == len(g) {
			for i := range w {
				differences(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], out)
			}
			return
		}
	}
	if !reflect.DeepEqual(want, got) {
		*out = append(*out, fmt.Sprintf("%s: the report says %s; junit.xml gives %s", path, show(got), show(want)))
	}
}

// members compares two objects member by member, each named by name.
func members(want, got map[string]any, name func(string) string, out *[]string) {
	all := map[string]any{}
	maps.Copy(all, want)
	maps.Copy(all, got)
	for _, k := range slices.Sorted(maps.Keys(all)) {
		wv, inWant := want[k]
		gv, inGot := got[k]
		switch {
		case !inGot:
			*out = append(*out, fmt.Sprintf("%s: missing; junit.xml gives %s", name(k), show(wv)))
		case !inWant:
			*out = append(*out, fmt.Sprintf("%s: the report says %s, which junit.xml does not give", name(k), show(gv)))
		default:
			differences(name(k), wv, gv, out)
		}
	}
}

// keyed is a list of objects as a map by their name or id, or nil when
// not every element has one of its own.
func keyed(list []any) map[string]any {
	out := map[string]any{}
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil
		}
		k, ok := m["name"].(string)
		if !ok {
			if k, ok = m["id"].(string); !ok {
				return nil
			}
		}
		if _, dup := out[k]; dup {
			return nil
		}
		out[k] = e
	}
	return out
}

// show is a value as a difference line quotes it: one line, cut.
func show(v any) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := strings.Join(strings.Fields(string(bytes.TrimSpace(data))), " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
