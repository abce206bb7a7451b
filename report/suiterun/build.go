// Package suiterun reads a run of the suite's specs into a
// report.Summary: Ginkgo's report of the run, as the run hands it over or
// as it comes back from the run's junit.xml. It writes what a run
// publishes beside the reports of package report: Ginkgo's own reports,
// junit.xml stamped with what judged the run, the conformance report
// computed from it; and it prints the run's progress. It is the only part
// of the reports that links Ginkgo, so that what reports judged traffic
// (the proxy) does not.
package suiterun

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/attrconform/attrconform/catalog"
	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/report"
)

// Build classifies every spec of r and aggregates verdicts per requirement
// of cat. redact removes secrets from every message kept.
func Build(r types.Report, cat *catalog.Catalog, redact func(string) string) report.Summary {
	s := report.Summary{Start: r.StartTime, Duration: r.RunTime, Interrupted: redact(interruption(r))}
	selected, err := types.ParseLabelFilter(r.SuiteConfig.LabelFilter)
	if err != nil {
		selected = func([]string) bool { return false }
	}
	for _, sr := range r.SpecReports {
		if sr.LeafNodeType.Is(types.NodeTypesForSuiteLevelNodes) {
			if sr.State.Is(types.SpecStateFailureStates) {
				msg := strings.TrimPrefix(report.FirstLines(sr.Failure.Message, 6), evidence.HarnessErrorPrefix)
				if sr.LeafNodeType.Is(afterSpecs) {
					s.CleanupFailure += redact(fmt.Sprintf("%s: %s\n", sr.LeafNodeType, msg))
				} else {
					s.SetupFailure += redact(fmt.Sprintf("%s: %s\n", sr.LeafNodeType, msg))
				}
			}
			continue
		}
		if sr.LeafNodeType != types.NodeTypeIt {
			continue
		}
		sp := report.Spec{Name: sr.FullText(), Verdict: specVerdict(sr), Duration: sr.RunTime}
		for _, l := range sr.Labels() {
			if catalog.IDPattern.MatchString(l) {
				sp.IDs = append(sp.IDs, l)
			}
		}
		switch {
		case sp.Verdict == report.Disabled && sr.Failure.Message == "" && s.Interrupted != "" && selected(sr.Labels()):
			sp.Verdict, sp.Reason = report.Skip, report.NotRun+s.Interrupted
		case sp.Verdict == report.Disabled && sr.Failure.Message == "":
			sp.Reason = report.NotSelected
		case sp.Verdict != report.Pass:
			msg := strings.TrimPrefix(report.FirstLines(sr.Failure.Message, 8), evidence.HarnessErrorPrefix)
			sp.Reason = redact(strings.TrimPrefix(msg, evidence.DisabledPrefix))
		}
		for _, e := range sr.ReportEntries {
			if e.Name == evidence.EntryExchange {
				if x, ok := exchangeOf(e, redact); ok {
					sp.Exchange = x
					continue
				}
			}
			v := redact(e.StringRepresentation())
			list, item := &sp.Notes, e.Name+": "+v
			switch e.Name {
			case evidence.EntryAlternative:
				list, item = &sp.Alternatives, v
			case evidence.EntryArtifact:
				list, item = &sp.Artifacts, v
			}
			if !slices.Contains(*list, item) {
				*list = append(*list, item)
			}
		}
		s.Specs = append(s.Specs, sp)
	}
	s.Aggregate(cat)
	return s
}

// afterSpecs are the suite-level nodes that run after the specs.
const afterSpecs = types.NodeTypeAfterSuite | types.NodeTypeSynchronizedAfterSuite | types.NodeTypeReportAfterSuite | types.NodeTypeCleanupAfterSuite

// interruption is why the run ended before all its specs ran, or "": the
// message of the spec that aborted the suite, else Ginkgo's reason.
func interruption(r types.Report) string {
	for _, sr := range r.SpecReports {
		if sr.State == types.SpecStateAborted {
			return strings.TrimPrefix(report.FirstLines(sr.Failure.Message, 1), evidence.HarnessErrorPrefix)
		}
	}
	for _, reason := range r.SpecialSuiteFailureReasons {
		switch {
		case reason == "Suite Timeout Elapsed":
			return "the run's deadline (--timeout) passed"
		case strings.HasPrefix(reason, "Interrupted"):
			return "interrupted (Ctrl-C or SIGTERM)"
		}
	}
	return ""
}

func specVerdict(sr types.SpecReport) report.Verdict {
	switch {
	case sr.State == types.SpecStatePassed:
		return report.Pass
	case sr.State.Is(types.SpecStateFailureStates):
		// A timeout or an interrupt is the harness's limit, not the target's fault.
		if strings.HasPrefix(sr.Failure.Message, evidence.HarnessErrorPrefix) || sr.State.Is(types.SpecStateInterrupted|types.SpecStateAborted|types.SpecStateTimedout) {
			return report.Error
		}
		return report.Fail
	case sr.State == types.SpecStateSkipped && (sr.Failure.Message == "" || strings.HasPrefix(sr.Failure.Message, evidence.DisabledPrefix)):
		return report.Disabled
	default:
		return report.Skip
	}
}

// exchangeOf reads the exchange a failed spec recorded: the value itself
// in this process, its JSON when the report was decoded. Every field is
// redacted again, so that a report never depends on the recorder alone.
func exchangeOf(e types.ReportEntry, redact func(string) string) (*evidence.Exchange, bool) {
	var x evidence.Exchange
	switch v := e.Value.GetRawValue().(type) {
	case evidence.Exchange:
		x = v
	case *evidence.Exchange:
		if v == nil {
			return nil, false
		}
		x = *v
	default:
		if e.Value.AsJSON == "" || json.Unmarshal([]byte(e.Value.AsJSON), &x) != nil {
			return nil, false
		}
	}
	x.Method, x.Path, x.Principal = redact(x.Method), redact(x.Path), redact(x.Principal)
	x.RequestBody, x.ContentType, x.ResponseBody = redact(x.RequestBody), redact(x.ContentType), redact(x.ResponseBody)
	return &x, true
}
