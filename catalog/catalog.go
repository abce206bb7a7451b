// Package catalog reads the requirement catalogue (fixtures/requirements.yaml):
// every requirement the suite reports on, with its level and whether it
// can be checked from outside the server.
package catalog

import (
	"fmt"
	"regexp"

	"sigs.k8s.io/yaml"

	attrconform "github.com/attrconform/attrconform"
)

// Requirement is one entry of the catalogue.
type Requirement struct {
	ID            string   `json:"id"`
	Level         string   `json:"level"`
	Title         string   `json:"title"`
	Text          string   `json:"text"`
	Statuses      []int    `json:"statuses,omitempty"`
	Operations    []string `json:"operations,omitempty"`
	Knobs         []string `json:"knobs,omitempty"`
	Testable      bool     `json:"testable"`
	Needs         []string `json:"needs,omitempty"`
	WhyUntestable string   `json:"why_untestable,omitempty"`
	Sources       []string `json:"sources,omitempty"`
}

// Divergence is a documented disagreement between the vendor documents.
type Divergence struct {
	ID           string            `json:"id"`
	Point        string            `json:"point"`
	Alternatives map[string]string `json:"alternatives,omitempty"`
	Knob         string            `json:"knob,omitempty"`
	Treatment    string            `json:"treatment"`
}

// OpenQuestion is a point the documents leave open, with the default taken.
type OpenQuestion struct {
	ID       string `json:"id"`
	Question string `json:"question"`
	Default  string `json:"default"`
}

// Catalog is the whole catalogue.
type Catalog struct {
	Version       int               `json:"version"`
	Sources       map[string]string `json:"sources"`
	Requirements  []Requirement     `json:"requirements"`
	Divergences   []Divergence      `json:"divergences"`
	OpenQuestions []OpenQuestion    `json:"open_questions"`
}

// IDPattern is the form of a requirement ID, e.g. UA-PUT-004.
var IDPattern = regexp.MustCompile(`^UA-[A-Z]+-[0-9]{3}$`)

// Load parses the catalogue embedded in the module.
func Load() (*Catalog, error) { return Parse(attrconform.Requirements) }

// Parse decodes and checks a catalogue: IDs well formed and unique.
func Parse(data []byte) (*Catalog, error) {
	var c Catalog
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, fmt.Errorf("requirement catalogue: %w", err)
	}
	seen := map[string]bool{}
	for _, r := range c.Requirements {
		if !IDPattern.MatchString(r.ID) {
			return nil, fmt.Errorf("requirement catalogue: malformed ID %q", r.ID)
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("requirement catalogue: %s is listed twice", r.ID)
		}
		seen[r.ID] = true
	}
	return &c, nil
}

// Get finds a requirement by ID.
func (c *Catalog) Get(id string) (Requirement, bool) {
	for _, r := range c.Requirements {
		if r.ID == id {
			return r, true
		}
	}
	return Requirement{}, false
}
