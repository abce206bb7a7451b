// Package boltstore keeps the reference server's data in one bbolt file:
// durable, for one server process at a time. It is a package of its own so
// that only what serves with --store bolt links bbolt.
package boltstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/attrconform/attrconform/reference/store"
)

// Store is a store.Store kept in one bbolt file (pure Go, so the statically
// linked server keeps working). Every Commit and Delete is one bbolt
// read-write transaction, written and fsynced before it returns: a write
// the server acknowledged survives a crash of the process (kill -9) and,
// as far as the disk honours fsync, of the machine. Attributes, versions
// and the app totals all live in the file, so a restarted server carries
// on with the same versions and capacity.
//
// It also implements store.Accounts: the users registered and the tokens
// issued at run time survive a restart too.
type Store struct {
	db *bolt.DB
}

// Layout of the file: one bucket per kind of record, and in attrs and
// accounts one nested bucket per app.
var (
	bucketMeta     = []byte("meta")     // "schema" -> schemaVersion
	bucketAttrs    = []byte("attrs")    // app -> user -> entryRecord (JSON)
	bucketUsage    = []byte("usage")    // app -> total size (JSON integer)
	bucketAccounts = []byte("accounts") // app -> user -> store.Account (JSON)
	bucketTokens   = []byte("tokens")   // token -> tokenRecord (JSON)
	keySchema      = []byte("schema")
)

const schemaVersion = "1"

// entryRecord is a store.Entry as stored.
type entryRecord struct {
	Version uint64            `json:"v"`
	Size    int64             `json:"s"`
	Attrs   map[string]string `json:"a,omitempty"`
}

// Open opens (or creates) the data file at path. Only one process may
// hold a file at a time; a second one fails after a short wait instead of
// blocking.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 3 * time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("store: %s is in use by another process", path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketAttrs, bucketUsage, bucketAccounts, bucketTokens} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		switch v := meta.Get(keySchema); {
		case v == nil:
			return meta.Put(keySchema, []byte(schemaVersion))
		case string(v) != schemaVersion:
			return fmt.Errorf("the file has schema %q; this server reads schema %q", v, schemaVersion)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Path is the data file.
func (b *Store) Path() string { return b.db.Path() }

func (b *Store) Load(app, user string) (store.Entry, error) {
	var rec entryRecord
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		rec, err = loadEntry(tx, app, user)
		return err
	})
	if err != nil {
		return store.Entry{}, err
	}
	e := store.Entry{Attrs: rec.Attrs, Version: rec.Version, Size: rec.Size}
	if e.Attrs == nil {
		e.Attrs = map[string]string{}
	}
	return e, nil
}

func (b *Store) Commit(app, user string, w store.Write) error {
	return b.db.Update(func(tx *bolt.Tx) error {
		old, err := loadEntry(tx, app, user)
		if err != nil {
			return err
		}
		if old.Version != w.Version {
			return store.ErrConflict
		}
		usage, err := loadUsage(tx, app)
		if err != nil {
			return err
		}
		total := usage - old.Size + w.Size
		if w.Size > old.Size && total > w.AppQuota {
			return store.ErrQuota
		}
		rec := entryRecord{Version: old.Version + 1, Size: w.Size, Attrs: maps.Clone(w.Attrs)}
		if err := putEntry(tx, app, user, rec); err != nil {
			return err
		}
		return putUsage(tx, app, total)
	})
}

func (b *Store) Delete(app, user string) error {
	return b.db.Update(func(tx *bolt.Tx) error {
		users := tx.Bucket(bucketAttrs).Bucket([]byte(app))
		if users == nil || users.Get([]byte(user)) == nil {
			return nil // as Memory: deleting a user never written changes nothing
		}
		old, err := loadEntry(tx, app, user)
		if err != nil {
			return err
		}
		usage, err := loadUsage(tx, app)
		if err != nil {
			return err
		}
		// Keep the version so that a write which read before the delete conflicts.
		if err := putEntry(tx, app, user, entryRecord{Version: old.Version + 1}); err != nil {
			return err
		}
		return putUsage(tx, app, usage-old.Size)
	})
}

func (b *Store) Usage(app string) (int64, error) {
	var n int64
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = loadUsage(tx, app)
		return err
	})
	return n, err
}

// Close releases the file.
func (b *Store) Close() error { return b.db.Close() }

func loadEntry(tx *bolt.Tx, app, user string) (entryRecord, error) {
	var rec entryRecord
	users := tx.Bucket(bucketAttrs).Bucket([]byte(app))
	if users == nil {
		return rec, nil
	}
	raw := users.Get([]byte(user))
	if raw == nil {
		return rec, nil
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return rec, fmt.Errorf("store: the record of %s/%s is damaged: %w", app, user, err)
	}
	return rec, nil
}

func putEntry(tx *bolt.Tx, app, user string, rec entryRecord) error {
	users, err := tx.Bucket(bucketAttrs).CreateBucketIfNotExists([]byte(app))
	if err != nil {
		return err
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return users.Put([]byte(user), raw)
}

func loadUsage(tx *bolt.Tx, app string) (int64, error) {
	raw := tx.Bucket(bucketUsage).Get([]byte(app))
	if raw == nil {
		return 0, nil
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("store: the total of %s is damaged: %w", app, err)
	}
	return n, nil
}

func putUsage(tx *bolt.Tx, app string, n int64) error {
	raw, _ := json.Marshal(n)
	return tx.Bucket(bucketUsage).Put([]byte(app), raw)
}

func (b *Store) AddAccounts(app string, accounts []store.Account) error {
	return b.db.Update(func(tx *bolt.Tx) error {
		bucket, err := tx.Bucket(bucketAccounts).CreateBucketIfNotExists([]byte(app))
		if err != nil {
			return err
		}
		for _, a := range accounts {
			raw, err := json.Marshal(a)
			if err != nil {
				return err
			}
			if err := bucket.Put([]byte(a.Name), raw); err != nil {
				return err
			}
		}
		return nil
	})
}

func (b *Store) LoadAccounts(app string) ([]store.Account, error) {
	var out []store.Account
	err := b.db.View(func(tx *bolt.Tx) error {
		bucket := tx.Bucket(bucketAccounts).Bucket([]byte(app))
		if bucket == nil {
			return nil
		}
		return bucket.ForEach(func(k, v []byte) error {
			var a store.Account
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("store: the account %s/%s is damaged: %w", app, k, err)
			}
			out = append(out, a)
			return nil
		})
	})
	return out, err
}

func (b *Store) AddToken(t store.Token) error {
	raw, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return b.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTokens).Put([]byte(t.Token), raw)
	})
}

func (b *Store) LoadTokens() ([]store.Token, error) {
	var out []store.Token
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTokens).ForEach(func(k, v []byte) error {
			var t store.Token
			if err := json.Unmarshal(v, &t); err != nil {
				return errors.New("store: a stored token is damaged")
			}
			t.Token = string(k)
			out = append(out, t)
			return nil
		})
	})
	return out, err
}
