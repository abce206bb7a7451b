package suiterun

import (
	"fmt"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/attrconform/attrconform/evidence"
)

// FindingsContainer and the text of each requirement's spec name the
// specs of FindingSpecs, as a Describe and its Its would; the names
// stay the same from run to run, as CI tools that follow a test case's
// history need.
const FindingsContainer = "Every exchange of the run, judged by the single-exchange rules,"

// keptPlaces is how many places a finding's message names.
const keptPlaces = 5

// FindingSpecs are the failed specs that report the findings of the
// run's exchanges (framework.Env.Findings, one per requirement and
// place): one per requirement broken, labelled with it, failing with what
// was wrong, the first exchange that broke it and where that was made,
// naming the other places, and carrying the exchange. Added to Ginkgo's
// report of the run, they make every report of it (the matrix,
// requirements.json, junit.xml and the conformance report computed from
// it) hold each finding as a FAIL of its own requirement, beside the
// verdicts of the specs that made the exchanges.
func FindingSpecs(findings []evidence.Finding) types.SpecReports {
	var ids []string
	byID := map[string][]evidence.Finding{}
	for _, f := range findings {
		if byID[f.Requirement] == nil {
			ids = append(ids, f.Requirement)
		}
		byID[f.Requirement] = append(byID[f.Requirement], f)
	}
	var out types.SpecReports
	for _, id := range ids {
		first := byID[id][0]
		sr := types.SpecReport{
			ContainerHierarchyTexts: []string{FindingsContainer},
			LeafNodeText:            "keeps " + id,
			LeafNodeType:            types.NodeTypeIt,
			LeafNodeLabels:          []string{id},
			State:                   types.SpecStateFailed,
			Failure:                 types.Failure{Message: findingMessage(byID[id])},
		}
		if first.Exchange != nil {
			sr.ReportEntries = types.ReportEntries{{Name: evidence.EntryExchange, Value: types.WrapEntryValue(*first.Exchange), Visibility: types.ReportEntryVisibilityNever}}
		}
		out = append(out, sr)
	}
	return out
}

// findingMessage says what was wrong, on which exchange and where, and
// where else exchanges broke the same requirement.
func findingMessage(fs []evidence.Finding) string {
	first := fs[0]
	var b strings.Builder
	b.WriteString(first.Problem)
	if first.Exchange != nil {
		fmt.Fprintf(&b, "\n  exchange: %s", first.Exchange)
	}
	fmt.Fprintf(&b, "\n  made in: %s", first.In)
	total := 0
	var places []string
	for _, f := range fs {
		total += f.Count
		if len(places) < keptPlaces {
			places = append(places, fmt.Sprintf("%s (%d)", f.In, f.Count))
		}
	}
	if total > 1 {
		more := ""
		if len(fs) > keptPlaces {
			more = fmt.Sprintf(", and %d places more", len(fs)-keptPlaces)
		}
		fmt.Fprintf(&b, "\n  %d exchanges broke it, in: %s%s", total, strings.Join(places, "; "), more)
	}
	return b.String()
}
