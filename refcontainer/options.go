package refcontainer

import (
	"errors"
	"fmt"

	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/attrconform/attrconform/profile"
)

// Option configures Run.
type Option func(*options) error

type options struct {
	profile string
	fixture string
	limits  *limits
	image   string
	logger  tclog.Logger
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

// WithImage runs an image that is already present in the Docker engine
// (for example ImageTag, built by an earlier Run) instead of building one.
// The image must hold the reference server at /reference. It is never pulled: Run
// fails if the engine does not have it.
func WithImage(tag string) Option {
	return func(o *options) error {
		if tag == "" {
			return errors.New("WithImage: empty tag")
		}
		o.image = tag
		return nil
	}
}

// WithLogger sends testcontainers-go's progress messages to l. By default
// they are discarded, so that the runner's output stays its own; errors are
// returned by Run either way.
func WithLogger(l tclog.Logger) Option {
	return func(o *options) error {
		o.logger = l
		return nil
	}
}
