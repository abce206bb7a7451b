// Package report turns a Ginkgo report into verdicts per requirement: the
// unit users read ("UA-BATCH-006: FAIL"), not a list of specs.
package report

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/attrconform/attrconform/catalog"
	"github.com/attrconform/attrconform/evidence"
)

// Verdict is the outcome of a spec or a requirement.
type Verdict string

const (
	Pass Verdict = "PASS"
	Fail Verdict = "FAIL"
	// Skip: the spec could not run against this target (the reason says why).
	Skip Verdict = "SKIP"
	// Disabled: turned off by configuration (label filter, opt-in groups).
	Disabled Verdict = "DISABLED"
	// Error: the harness or the network failed; the target was not judged.
	Error Verdict = "ERROR"
	// Untestable requirements cannot be checked from outside the server.
	Untestable Verdict = "NOT TESTABLE"
)

// NotSelected is the reason of specs the label filter left out.
const NotSelected = "not selected by the label filter"

// NotRun starts the reason of specs an interrupted run did not reach.
const NotRun = "not run (interrupted): "

// Spec is one spec's outcome.
type Spec struct {
	Name         string   `json:"name"`
	IDs          []string `json:"ids"`
	Verdict      Verdict  `json:"verdict"`
	Reason       string   `json:"reason,omitempty"`
	Alternatives []string `json:"alternatives,omitempty"`
	Notes        []string `json:"notes,omitempty"`
	// Artifacts are files the spec left in the report directory to show
	// what it found (a history's visualization), relative to it.
	Artifacts []string      `json:"artifacts,omitempty"`
	Duration  time.Duration `json:"durationNanoseconds"`
	// Exchange is the last exchange of a failed spec, redacted.
	Exchange *evidence.Exchange `json:"exchange,omitempty"`
}

// Requirement is one catalogue entry with the verdict of its specs.
type Requirement struct {
	ID           string   `json:"id"`
	Level        string   `json:"level"`
	Title        string   `json:"title"`
	Verdict      Verdict  `json:"verdict"`
	Reason       string   `json:"reason,omitempty"`
	Alternatives []string `json:"alternatives,omitempty"`
	Specs        []string `json:"specs,omitempty"`
	// Text is the catalogue's statement of the requirement.
	Text string `json:"text,omitempty"`
	// Observed are the notes of its specs: what they saw and how they
	// tested (a race's rounds and send spread, a flood's size, margins).
	Observed []string `json:"observed,omitempty"`
	// Operations are the operations the requirement is about.
	Operations []string `json:"operations,omitempty"`
	// Artifacts are the files of its specs in the report directory
	// (relative to it), linked from its row: a history's visualization.
	Artifacts []string `json:"artifacts,omitempty"`
	// Failures are the failed (or errored) specs behind a FAIL (ERROR)
	// verdict, each with its reason and its failing exchange.
	Failures []Failure `json:"failures,omitempty"`
	// Baseline says how a --baseline file judged the verdict.
	Baseline *BaselineMark `json:"baseline,omitempty"`
}

// Failure is one failed spec of a requirement.
type Failure struct {
	Spec     string             `json:"spec"`
	Reason   string             `json:"reason,omitempty"`
	Exchange *evidence.Exchange `json:"exchange,omitempty"`
}

// RequirementsKind is the kind of requirements.json (see APIVersion).
const RequirementsKind = "RequirementsReport"

// requirementsV1 renames the fields of requirements.json that changed
// from APIVersionV1.
var requirementsV1 = map[string]string{
	"suite_version": "suiteVersion", "contract_sha256": "contractSHA256", "duration_ns": "durationNanoseconds",
	"setup_failure": "setupFailure", "not_judged": "notJudged", "client_findings": "clientFindings",
	"request_body": "requestBody", "content_type": "contentType", "response_body": "responseBody",
}

// Summary is a whole run.
type Summary struct {
	// TypeMeta names the format; WriteJSON sets it.
	TypeMeta
	// SuiteVersion is the suite's version (see SuiteVersion).
	SuiteVersion string `json:"suiteVersion,omitempty"`
	// ContractSHA256 is the SHA-256 of the openapi.yaml the run validated against.
	ContractSHA256 string        `json:"contractSHA256,omitempty"`
	Target         string        `json:"target"`
	Profile        string        `json:"profile"`
	Start          time.Time     `json:"start"`
	Duration       time.Duration `json:"durationNanoseconds"`
	// SetupFailure is why the specs could not start (a failed BeforeSuite).
	SetupFailure string `json:"setupFailure,omitempty"`
	// CleanupFailure is the step that failed after the specs ran (a failed
	// AfterSuite: restoring the listed users, the leak check).
	CleanupFailure string `json:"cleanupFailure,omitempty"`
	// Interrupted is why the run ended before all its specs ran (a
	// signal, its deadline, a target that stopped answering), or "".
	Interrupted  string        `json:"interrupted,omitempty"`
	Requirements []Requirement `json:"requirements"`
	Specs        []Spec        `json:"specs"`
	Passed       int           `json:"passed"`
	Failed       int           `json:"failed"`
	Errored      int           `json:"errored"`
	Skipped      int           `json:"skipped"`
	Disabled     int           `json:"disabled"`
	// Coverage is every documented (operation, status) pair with the
	// number of validated exchanges that answered it.
	Coverage []OperationCoverage `json:"coverage,omitempty"`
	// Baseline is the outcome of --baseline, when one was given.
	Baseline *BaselineResult `json:"baseline,omitempty"`
	// Traffic, when set, says the report judged real traffic (runner
	// proxy, runner replay) rather than the suite's specs.
	Traffic *Traffic `json:"traffic,omitempty"`
}

// Aggregate counts s's specs by verdict and gives every requirement of
// cat the verdict of its specs.
func (s *Summary) Aggregate(cat *catalog.Catalog) {
	for _, sp := range s.Specs {
		switch sp.Verdict {
		case Pass:
			s.Passed++
		case Fail:
			s.Failed++
		case Error:
			s.Errored++
		case Skip:
			s.Skipped++
		case Disabled:
			s.Disabled++
		}
	}
	for _, req := range cat.Requirements {
		s.Requirements = append(s.Requirements, aggregate(req, s.Specs))
	}
}

// aggregate: a requirement fails if any of its specs failed; else it is an
// error if any errored; else it passes if any passed; else it is skipped.
func aggregate(req catalog.Requirement, specs []Spec) Requirement {
	out := Requirement{ID: req.ID, Level: req.Level, Title: req.Title, Text: strings.TrimSpace(req.Text), Operations: req.Operations}
	if !req.Testable {
		out.Verdict, out.Reason = Untestable, req.WhyUntestable
		return out
	}
	counts := map[Verdict]int{}
	var reasons = map[Verdict][]string{}
	for _, sp := range specs {
		if !slices.Contains(sp.IDs, req.ID) {
			continue
		}
		out.Specs = append(out.Specs, sp.Name)
		counts[sp.Verdict]++
		if sp.Reason != "" {
			reasons[sp.Verdict] = append(reasons[sp.Verdict], sp.Name+": "+sp.Reason)
		}
		for _, a := range sp.Alternatives {
			out.Alternatives = appendNew(out.Alternatives, a)
		}
		for _, n := range sp.Notes {
			out.Observed = appendNew(out.Observed, n)
		}
		for _, a := range sp.Artifacts {
			out.Artifacts = appendNew(out.Artifacts, a)
		}
	}
	for _, v := range []Verdict{Fail, Error, Pass, Skip, Disabled} {
		if counts[v] > 0 {
			out.Verdict = v
			break
		}
	}
	if out.Verdict == "" {
		out.Verdict, out.Reason = Skip, "no spec checks it"
	}
	if rs := reasons[out.Verdict]; len(rs) > 0 {
		out.Reason = strings.Join(rs, "\n")
	}
	if out.Verdict == Fail || out.Verdict == Error {
		for _, sp := range specs {
			if sp.Verdict == out.Verdict && slices.Contains(sp.IDs, req.ID) {
				out.Failures = append(out.Failures, Failure{Spec: sp.Name, Reason: sp.Reason, Exchange: sp.Exchange})
			}
		}
	}
	return out
}

// ExitCode is 0 when every selected spec passed, 1 when a spec failed, 2
// on a harness error, a failed setup or cleanup, an interrupted run, or
// when nothing ran. With a
// baseline applied, failures the baseline accepts do not count; a failure
// outside it or a stale entry (its requirement now passes) gives 1.
// Judged traffic gives 1 when a requirement was violated, else 0: traffic
// that exercised nothing violated nothing.
func (s Summary) ExitCode() int {
	switch {
	case s.Traffic != nil && s.Failed > 0:
		return 1
	case s.Traffic != nil:
		return 0
	case s.SetupFailure != "" || s.CleanupFailure != "" || s.Interrupted != "" || s.Errored > 0 || s.Passed+s.Failed == 0:
		return 2
	case s.Baseline != nil:
		if len(s.Baseline.New)+len(s.Baseline.Stale) > 0 {
			return 1
		}
		return 0
	case s.Failed > 0:
		return 1
	}
	return 0
}

// ReadSummary reads a requirements.json the runner wrote, in the current
// format or the first (see Upgrade).
func ReadSummary(path string) (Summary, error) {
	var s Summary
	data, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	if data, err = Upgrade(data, RequirementsKind, requirementsV1); err != nil {
		return s, fmt.Errorf("%s: not a requirements.json this runner reads: %w", path, err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("%s: not a requirements.json of the runner: %w", path, err)
	}
	if len(s.Requirements) == 0 {
		return s, fmt.Errorf("%s: no requirements in it; is it the runner's requirements.json?", path)
	}
	return s, nil
}

// WriteJSON writes the summary as JSON.
func (s Summary) WriteJSON(path string) error {
	s.TypeMeta = TypeMeta{APIVersion, RequirementsKind}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// FirstLines is s cut to its first n lines, "…" marking the cut: how a
// report quotes a message.
func FirstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n")
}

func appendNew(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}
