package reference

import (
	"fmt"

	attrconform "github.com/attrconform/attrconform"
	"github.com/attrconform/attrconform/target"
)

// BundledTarget is the bundled tenant (fixtures/reference.yaml) as a
// target without a base URL.
func BundledTarget() (*target.Target, error) {
	t, err := target.Parse(attrconform.ReferenceTarget, func(string) (string, bool) { return "", false })
	if err != nil {
		return nil, fmt.Errorf("bundled fixture: %w", err)
	}
	return t, nil
}

// ConfigFor is the configuration that serves target t: its apps,
// users and tokens, limits, size and body metrics and profile.
func ConfigFor(t *target.Target) (Config, error) {
	p, err := t.ResolveProfile()
	if err != nil {
		return Config{}, err
	}
	return Config{
		Tenant:  t.Tenant(),
		Profile: p,
		Limits: Limits{
			UserBytes:    t.Limits.UserBytes,
			BodyBytes:    t.Limits.BodyBytes,
			BatchTargets: t.Limits.BatchTargets,
		},
		SizeMetric: Metric(t.SizeMetric),
		BodyMetric: BodyMetric(t.BodyMetric),
		FaultHooks: t.FaultHooks,
	}, nil
}
