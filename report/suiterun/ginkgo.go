package suiterun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
)

// WriteGinkgoReports writes Ginkgo's own reports of a suite run, junit.xml
// and report.json (one entry per spec), into dir. They are written from a
// copy of r whose every string went through safe (redacted and capped):
// left to Ginkgo, they would quote whatever a failure or a report entry
// quoted.
func WriteGinkgoReports(r types.Report, dir string, safe func(string) string) error {
	clean, err := cleanCopy(r, safe)
	if err != nil {
		return fmt.Errorf("redacting Ginkgo's report: %w", err)
	}
	if err := reporters.GenerateJUnitReport(clean, filepath.Join(dir, "junit.xml")); err != nil {
		return fmt.Errorf("writing junit.xml: %w", err)
	}
	if err := reporters.GenerateJSONReport(clean, filepath.Join(dir, "report.json")); err != nil {
		return fmt.Errorf("writing report.json: %w", err)
	}
	return nil
}

// cleanCopy is r with safe applied to every string it holds, through its
// JSON form (the form Ginkgo's own tools read reports back from).
func cleanCopy(r types.Report, safe func(string) string) (types.Report, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return types.Report{}, err
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return types.Report{}, err
	}
	if data, err = json.Marshal(cleanStrings(tree, safe)); err != nil {
		return types.Report{}, err
	}
	var out types.Report
	err = json.Unmarshal(data, &out)
	return out, err
}

func cleanStrings(v any, safe func(string) string) any {
	switch v := v.(type) {
	case string:
		return safe(v)
	case []any:
		for i := range v {
			v[i] = cleanStrings(v[i], safe)
		}
	case map[string]any:
		for k := range v {
			v[k] = cleanStrings(v[k], safe)
		}
	}
	return v
}
