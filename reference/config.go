package reference

import (
	"fmt"
	"time"

	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/reference/store"
	"github.com/attrconform/attrconform/target"
)

// Documented defaults (S1, E1, E8, E9): 2 KB per user, 4 KB per request
// body, 10 GB per app, 100 targets per batch, 100 requests/s per app and
// operation.
const (
	DefaultUserBytes     = 2048
	DefaultBodyBytes     = 4096
	DefaultAppBytes      = 10 << 30
	DefaultBatchTargets  = 100
	DefaultRatePerSecond = 100
	// DefaultRaceWindow is how long a PUT waits between reading a user's
	// version and committing. It makes the optimistic-locking window wide
	// enough that concurrent writers really collide, as they do against a
	// database-backed service.
	DefaultRaceWindow = 10 * time.Millisecond
	// NoRaceWindow commits right after reading, as a fast database would.
	NoRaceWindow time.Duration = -1
)

// Limits are the server's size and count limits. App quotas and request
// budgets are per app (target.App) and fall back to AppBytes and
// RatePerSecond.
type Limits struct {
	UserBytes     int64
	BodyBytes     int64
	AppBytes      int64
	BatchTargets  int
	RatePerSecond float64
}

// DefaultLimits are the documented limits.
func DefaultLimits() Limits {
	return Limits{DefaultUserBytes, DefaultBodyBytes, DefaultAppBytes, DefaultBatchTargets, DefaultRatePerSecond}
}

// Config configures a Server. The zero value of every field but Tenant
// means its default.
type Config struct {
	Tenant target.Tenant
	// Profile picks one alternative per divergence; default current.
	Profile profile.Profile
	Limits  Limits
	// SizeMetric measures a user's attributes: MetricJSON (default) or MetricPairs.
	SizeMetric Metric
	// BodyMetric measures a PUT body against Limits.BodyBytes: BodyRaw
	// (default) or BodyJSON.
	BodyMetric BodyMetric
	// RaceWindow is the pause between reading a user's version and
	// committing a PUT: 0 means DefaultRaceWindow, NoRaceWindow (any
	// negative value) none.
	RaceWindow time.Duration
	// Store holds the data; default an in-memory store.
	Store store.Store
	// Now is the clock; default time.Now.
	Now func() time.Time
	// FaultHooks lets a request ask for a failure with the wire.FaultHeader
	// header, so that the suite can check the 500 and 503 answers. Off by
	// default: a server that injects faults on request is only for tests.
	FaultHooks bool
}

func (c *Config) fill() error {
	if c.Tenant.Org == "" || len(c.Tenant.Apps) == 0 {
		return fmt.Errorf("reference: the tenant needs an org and at least one app")
	}
	if c.Profile.Name == "" {
		c.Profile, _ = profile.Named(profile.Current)
	}
	d := DefaultLimits()
	if c.Limits.UserBytes == 0 {
		c.Limits.UserBytes = d.UserBytes
	}
	if c.Limits.BodyBytes == 0 {
		c.Limits.BodyBytes = d.BodyBytes
	}
	if c.Limits.AppBytes == 0 {
		c.Limits.AppBytes = d.AppBytes
	}
	if c.Limits.BatchTargets == 0 {
		c.Limits.BatchTargets = d.BatchTargets
	}
	if c.Limits.RatePerSecond == 0 {
		c.Limits.RatePerSecond = d.RatePerSecond
	}
	if c.SizeMetric == "" {
		c.SizeMetric = MetricJSON
	}
	if _, err := c.SizeMetric.Measure(nil); err != nil {
		return err
	}
	if c.BodyMetric == "" {
		c.BodyMetric = BodyRaw
	}
	if err := c.BodyMetric.check(); err != nil {
		return err
	}
	if c.RaceWindow == 0 {
		c.RaceWindow = DefaultRaceWindow
	}
	if c.RaceWindow < 0 {
		c.RaceWindow = 0
	}
	if c.Store == nil {
		c.Store = store.NewMemory()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// RaceWindowOf is the RaceWindow for a window given on a command line,
// where 0 means no window at all rather than the default.
func RaceWindowOf(d time.Duration) time.Duration {
	if d == 0 {
		return NoRaceWindow
	}
	return d
}
