package refcontainer

import (
	"errors"
	"fmt"

	"github.com/testcontainers/testcontainers-go"

	"github.com/attrconform/attrconform/profile"
)

// Option is one of this module's own options. It is a
// testcontainers.ContainerCustomizer, so that callers mix it with
// testcontainers-go's customizers in one list; Run reads it to write the
// tenant the container serves, and its Customize does nothing.
type Option func(*options) error

var _ testcontainers.ContainerCustomizer = Option(nil)

// Customize does nothing: Run applies the options itself.
func (Option) Customize(*testcontainers.GenericContainerRequest) error { return nil }

type options struct {
	profile string
	fixture string
	limits  *limits
}

type limits struct {
	userBytes, bodyBytes int64
	batchTargets         int
}

// WithProfile starts the reference following the named profile (lenient,
// current or legacy), as the reference's --profile does. The profile is
// also written into the fixture that Container.Target returns.
func WithProfile(name string) Option {
	return func(o *options) error {
		if _, err := profile.Named(name); err != nil {
			return fmt.Errorf("WithProfile: %w", err)
		}
		o.profile = name
		return nil
	}
}

// WithFixture serves the tenant described by the target file at path
// instead of the bundled fixtures/reference.yaml. The file is read on the
// host (its ${VAR} references expanded from the host's environment),
// validated, and copied into the container, where it is passed as
// --fixture. Its base_url, if any, is ignored.
func WithFixture(path string) Option {
	return func(o *options) error {
		if path == "" {
			return errors.New("WithFixture: empty path")
		}
		o.fixture = path
		return nil
	}
}

// WithLimits overrides the fixture's limits block: the per-user attribute
// size, the request-body size (bytes) and the batch cap (targets). A zero
// keeps the fixture's value for that limit; negative values are refused.
// The container serves a modified copy of the fixture, and
// Container.Target reports the same limits.
func WithLimits(userBytes, bodyBytes int64, batchTargets int) Option {
	return func(o *options) error {
		if userBytes < 0 || bodyBytes < 0 || batchTargets < 0 {
			return fmt.Errorf("WithLimits: limits must not be negative (got %d, %d, %d)", userBytes, bodyBytes, batchTargets)
		}
		o.limits = &limits{userBytes: userBytes, bodyBytes: bodyBytes, batchTargets: batchTargets}
		return nil
	}
}
