// Package store holds the reference server's attribute data behind an
// interface, so that the in-memory default and a durable store keep the
// same guarantees: versioned compare-and-swap per user, and an app total
// that never exceeds its quota.
package store

import "errors"

// ErrConflict means the user's version changed since it was read.
var ErrConflict = errors.New("store: version conflict")

// ErrQuota means the write would push the app's total over its quota.
var ErrQuota = errors.New("store: app quota exceeded")

// ErrUnavailable wraps the error of a store that could not reach its data
// in time (a shared store that lost its quorum): the operation may be
// tried again later. The server answers 503.
var ErrUnavailable = errors.New("store: unavailable")

// ErrAccountExists means an account to add exists already (a shared store
// where another server registered the name first); nothing was added.
var ErrAccountExists = errors.New("store: account exists")

// Entry is one user's attributes. Version grows with every committed write
// or delete; a user never written has version 0.
type Entry struct {
	Attrs   map[string]string
	Version uint64
	Size    int64
}

// Write replaces a user's attributes if the user is still at Version, and
// if the app's total after the write stays within AppQuota.
type Write struct {
	Version  uint64
	Attrs    map[string]string
	Size     int64
	AppQuota int64
}

// Store keeps attributes per app and user. App and user keys are opaque
// to the store; callers fold usernames before using them.
type Store interface {
	// Load returns the user's entry; a missing user has an empty entry.
	Load(app, user string) (Entry, error)
	// Commit applies w atomically, or returns ErrConflict or ErrQuota and
	// changes nothing.
	Commit(app, user string, w Write) error
	// Delete removes the user's attributes; deleting nothing succeeds.
	Delete(app, user string) error
	// Usage is the app's total attribute size.
	Usage(app string) (int64, error)
	Close() error
}
