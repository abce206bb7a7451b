// Package etcdstore keeps the reference server's data in an etcd cluster,
// so that several server processes behave as one. It is a package of its
// own so that only what serves with --store etcd (the reference binary,
// the tools and their tests) links the etcd client and gRPC: the runner
// does not.
package etcdstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/attrconform/attrconform/reference/store"
)

// Store is a store.Store kept in an etcd cluster, so that any number of
// reference servers over the same cluster (and prefix) behave as one: the
// attributes, versions, app totals, registered accounts and issued tokens
// all live in etcd, and nothing a decision depends on is kept in a
// server's memory.
//
// A Commit reads the user's record and the app's total in one consistent
// read, checks the version and the quota, and writes both in one etcd
// transaction that compares their ModRevisions with what it read: a write
// committed in between by any server fails the comparison. If the user's
// record changed, the write conflicts (store.ErrConflict); if only the
// app's total changed (a write to another user of the app), the read and the
// transaction are tried again, a bounded number of times. Every write
// carries a random ID kept in the user's record (the last few of them), so
// that a transaction whose answer was lost (a member stopped while it was
// in flight) is recognised as applied when tried again, never answered
// 409 after it took effect.
//
// Reads are linearizable (etcd's default): a read on any server sees every
// write acknowledged before it. An operation that cannot reach a quorum
// within the timeout returns an error wrapping store.ErrUnavailable.
type Store struct {
	cli     *clientv3.Client
	prefix  string
	timeout time.Duration
}

// Options say which cluster to use and where in it.
type Options struct {
	// Endpoints are the client URLs of the members, e.g.
	// http://127.0.0.1:2379; at least one.
	Endpoints []string
	// Prefix is put before every key, so that tenants can share a
	// cluster; default DefaultPrefix. A missing trailing "/" is added.
	Prefix string
	// Timeout bounds each operation, retries included; default 5 s.
	Timeout time.Duration
}

// DefaultPrefix is the key prefix when none is given.
const DefaultPrefix = "/attrconform/"

// schemaVersion is the layout of the keys below; a prefix holding
// another is refused, not read.
const schemaVersion = "1"

// Bounds of the retries of one operation.
const (
	etcdMaxAttempts   = 200
	etcdAttemptLimit  = 2 * time.Second
	etcdRecentWrites  = 8
	etcdDefaultTimout = 5 * time.Second
)

// Layout of the keys under the prefix.
const (
	etcdSchemaKey = "schema"    // -> schemaVersion
	etcdAttrs     = "attrs/"    // app/user -> etcdRecord (JSON)
	etcdUsage     = "usage/"    // app -> total size (decimal)
	etcdAccounts  = "accounts/" // app/user -> store.Account (JSON)
	etcdTokens    = "tokens/"   // token -> store.Token (JSON)
)

// etcdRecord is a store.Entry as stored, with the IDs of the last writes
// that changed it.
type etcdRecord struct {
	Version uint64            `json:"v"`
	Size    int64             `json:"s"`
	Attrs   map[string]string `json:"a,omitempty"`
	Recent  []string          `json:"r,omitempty"`
}

// ParseEndpoints splits a comma-separated list of member URLs and
// checks each: http or https, a host and a port, nothing else.
func ParseEndpoints(list string) ([]string, error) {
	var out []string
	for _, e := range strings.Split(list, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Port() == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return nil, fmt.Errorf("%q is not an etcd client URL such as http://127.0.0.1:2379", e)
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	if len(out) == 0 {
		return nil, errors.New("no endpoint given; list the members' client URLs, e.g. http://127.0.0.1:2379,http://127.0.0.1:2381")
	}
	return out, nil
}

// Open connects to the cluster and checks that it answers within the
// timeout and that the prefix holds data of this schema (or none).
func Open(o Options) (*Store, error) {
	if len(o.Endpoints) == 0 {
		return nil, errors.New("store: etcd: no endpoints")
	}
	if o.Timeout <= 0 {
		o.Timeout = etcdDefaultTimout
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(o.Prefix, "\x00\n") {
		return nil, fmt.Errorf("store: etcd prefix %q has a control character", o.Prefix)
	}
	if !strings.HasSuffix(o.Prefix, "/") {
		o.Prefix += "/"
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   o.Endpoints,
		DialTimeout: o.Timeout,
		Logger:      zap.NewNop(),
		// Dead members are noticed between requests, not during them.
		DialKeepAliveTime:    2 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("store: etcd at %s: %w", strings.Join(o.Endpoints, ","), err)
	}
	s := &Store{cli: cli, prefix: o.Prefix, timeout: o.Timeout}
	var schema string
	err = s.do(func(ctx context.Context) (bool, error) {
		key := s.prefix + etcdSchemaKey
		resp, err := cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, schemaVersion)).
			Else(clientv3.OpGet(key)).Commit()
		if err != nil {
			return false, err
		}
		schema = schemaVersion
		if !resp.Succeeded {
			if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
				schema = string(kvs[0].Value)
			}
		}
		return true, nil
	})
	switch {
	case err != nil:
		cli.Close()
		return nil, fmt.Errorf("store: no etcd member at %s answered: %w", strings.Join(o.Endpoints, ","), err)
	case schema != schemaVersion:
		cli.Close()
		return nil, fmt.Errorf("store: etcd prefix %q holds schema %q; this server reads schema %q", o.Prefix, schema, schemaVersion)
	}
	return s, nil
}

// Prefix is the key prefix in use, with its trailing "/".
func (s *Store) Prefix() string { return s.prefix }

// Close releases the connections; the data stays in the cluster.
func (s *Store) Close() error { return s.cli.Close() }

func (s *Store) userKey(app, user string) string {
	return s.prefix + etcdAttrs + url.PathEscape(app) + "/" + url.PathEscape(user)
}

func (s *Store) usageKey(app string) string { return s.prefix + etcdUsage + url.PathEscape(app) }

func (s *Store) accountKey(app, user string) string {
	return s.prefix + etcdAccounts + url.PathEscape(app) + "/" + url.PathEscape(user)
}

func (s *Store) tokenKey(token string) string { return s.prefix + etcdTokens + url.PathEscape(token) }

// do runs attempt until it reports done, a bounded number of times within
// the timeout. An attempt that is not done and returns an error that may
// pass (no leader, a member gone, a timeout) is tried again after a short
// pause; one not done without an error (a comparison lost to another
// writer) at once. Any other error ends the operation. When time runs out
// the error wraps store.ErrUnavailable.
func (s *Store) do(attempt func(ctx context.Context) (done bool, err error)) error {
	deadline := time.Now().Add(s.timeout)
	pause := 10 * time.Millisecond
	var last error
	for n := 0; n < etcdMaxAttempts; n++ {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		ctx, cancel := context.WithTimeout(context.Background(), min(left, etcdAttemptLimit))
		done, err := attempt(ctx)
		cancel()
		if done {
			return err
		}
		if err == nil {
			continue
		}
		if !transient(err) {
			return fmt.Errorf("store: etcd: %w", err)
		}
		last = err
		time.Sleep(min(pause, time.Until(deadline)))
		pause = min(2*pause, 250*time.Millisecond)
	}
	if last == nil {
		last = errors.New("other writers kept changing the app's total")
	}
	return fmt.Errorf("%w: etcd did not answer within %v: %v", store.ErrUnavailable, s.timeout, last)
}

// transient reports whether an etcd error may pass by itself: the cluster
// has no leader or quorum for now, a member went away, or time ran out.
func transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	code := status.Code(err)
	var etcdErr rpctypes.EtcdError // the client's form of the server's errors
	if errors.As(err, &etcdErr) {
		code = etcdErr.Code()
	}
	switch code {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Aborted:
		return true
	}
	return false
}

func newWriteID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// snapshot is a user's record and the app's total read at one revision,
// with the ModRevisions the transaction compares (0: the key is absent).
type snapshot struct {
	rec               etcdRecord
	exists            bool
	recRev, usageRev  int64
	usage             int64
	userKey, usageKey string
}

func (s *Store) read(ctx context.Context, app, user string) (snapshot, error) {
	sn := snapshot{userKey: s.userKey(app, user), usageKey: s.usageKey(app)}
	resp, err := s.cli.Txn(ctx).Then(clientv3.OpGet(sn.userKey), clientv3.OpGet(sn.usageKey)).Commit()
	if err != nil {
		return sn, err
	}
	if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
		if err := json.Unmarshal(kvs[0].Value, &sn.rec); err != nil {
			return sn, fmt.Errorf("the record of %s/%s is damaged: %w", app, user, err)
		}
		sn.exists, sn.recRev = true, kvs[0].ModRevision
	}
	if kvs := resp.Responses[1].GetResponseRange().Kvs; len(kvs) > 0 {
		n, err := strconv.ParseInt(string(kvs[0].Value), 10, 64)
		if err != nil {
			return sn, fmt.Errorf("the total of %s is damaged: %w", app, err)
		}
		sn.usage, sn.usageRev = n, kvs[0].ModRevision
	}
	return sn, nil
}

// write puts rec and the app's new total if neither key changed since sn
// was read; it reports whether the comparison held.
func (s *Store) write(ctx context.Context, sn snapshot, rec etcdRecord, usage int64) (bool, error) {
	raw, err := json.Marshal(rec)
	if err != nil {
		return false, err
	}
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(sn.userKey), "=", sn.recRev),
			clientv3.Compare(clientv3.ModRevision(sn.usageKey), "=", sn.usageRev)).
		Then(clientv3.OpPut(sn.userKey, string(raw)), clientv3.OpPut(sn.usageKey, strconv.FormatInt(usage, 10))).
		Commit()
	if err != nil {
		return false, err
	}
	return resp.Succeeded, nil
}

func withRecent(recent []string, id string) []string {
	out := append(slices.Clone(recent), id)
	if len(out) > etcdRecentWrites {
		out = out[len(out)-etcdRecentWrites:]
	}
	return out
}

func (s *Store) Load(app, user string) (store.Entry, error) {
	var rec etcdRecord
	err := s.do(func(ctx context.Context) (bool, error) {
		resp, err := s.cli.Get(ctx, s.userKey(app, user))
		if err != nil {
			return false, err
		}
		rec = etcdRecord{}
		if len(resp.Kvs) > 0 {
			if err := json.Unmarshal(resp.Kvs[0].Value, &rec); err != nil {
				return true, fmt.Errorf("store: the record of %s/%s is damaged: %w", app, user, err)
			}
		}
		return true, nil
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

func (s *Store) Commit(app, user string, w store.Write) error {
	id := newWriteID()
	return s.do(func(ctx context.Context) (bool, error) {
		sn, err := s.read(ctx, app, user)
		switch {
		case err != nil:
			return false, err
		case slices.Contains(sn.rec.Recent, id):
			return true, nil // an earlier attempt took effect; its answer was lost
		case sn.rec.Version != w.Version:
			return true, store.ErrConflict
		}
		total := sn.usage - sn.rec.Size + w.Size
		if w.Size > sn.rec.Size && total > w.AppQuota {
			return true, store.ErrQuota
		}
		rec := etcdRecord{Version: sn.rec.Version + 1, Size: w.Size, Attrs: maps.Clone(w.Attrs), Recent: withRecent(sn.rec.Recent, id)}
		return s.write(ctx, sn, rec, total)
	})
}

func (s *Store) Delete(app, user string) error {
	id := newWriteID()
	return s.do(func(ctx context.Context) (bool, error) {
		sn, err := s.read(ctx, app, user)
		switch {
		case err != nil:
			return false, err
		case !sn.exists, slices.Contains(sn.rec.Recent, id):
			return true, nil // as store.Memory: deleting a user never written changes nothing
		}
		// Keep the version so that a write which read before the delete conflicts.
		rec := etcdRecord{Version: sn.rec.Version + 1, Recent: withRecent(sn.rec.Recent, id)}
		return s.write(ctx, sn, rec, sn.usage-sn.rec.Size)
	})
}

func (s *Store) Usage(app string) (int64, error) {
	var n int64
	err := s.do(func(ctx context.Context) (bool, error) {
		resp, err := s.cli.Get(ctx, s.usageKey(app))
		if err != nil {
			return false, err
		}
		n = 0
		if len(resp.Kvs) > 0 {
			if n, err = strconv.ParseInt(string(resp.Kvs[0].Value), 10, 64); err != nil {
				return true, fmt.Errorf("store: the total of %s is damaged: %w", app, err)
			}
		}
		return true, nil
	})
	return n, err
}

// AddAccounts stores the accounts if none of their names is taken; if one
// is (another server registered it), it adds nothing and returns
// ErrAccountExists.
func (s *Store) AddAccounts(app string, accounts []store.Account) error {
	var cmps []clientv3.Cmp
	var puts []clientv3.Op
	for _, a := range accounts {
		raw, err := json.Marshal(a)
		if err != nil {
			return err
		}
		key := s.accountKey(app, a.Name)
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(key), "=", 0))
		puts = append(puts, clientv3.OpPut(key, string(raw)))
	}
	if len(puts) == 0 {
		return nil
	}
	return s.do(func(ctx context.Context) (bool, error) {
		resp, err := s.cli.Txn(ctx).If(cmps...).Then(puts...).Commit()
		if err != nil {
			return false, err
		}
		if !resp.Succeeded {
			return true, store.ErrAccountExists
		}
		return true, nil
	})
}

func (s *Store) LoadAccounts(app string) ([]store.Account, error) {
	var out []store.Account
	err := s.do(func(ctx context.Context) (bool, error) {
		resp, err := s.cli.Get(ctx, s.prefix+etcdAccounts+url.PathEscape(app)+"/", clientv3.WithPrefix())
		if err != nil {
			return false, err
		}
		out = nil
		for _, kv := range resp.Kvs {
			var a store.Account
			if err := json.Unmarshal(kv.Value, &a); err != nil {
				return true, fmt.Errorf("store: an account of %s is damaged: %w", app, err)
			}
			out = append(out, a)
		}
		return true, nil
	})
	return out, err
}

// LookupAccount finds one account of an app, for a server that does not
// know a name another server registered.
func (s *Store) LookupAccount(app, name string) (store.Account, bool, error) {
	var a store.Account
	var found bool
	err := s.do(func(ctx context.Context) (bool, error) {
		resp, err := s.cli.Get(ctx, s.accountKey(app, name))
		if err != nil {
			return false, err
		}
		found = len(resp.Kvs) > 0
		if found {
			if err := json.Unmarshal(resp.Kvs[0].Value, &a); err != nil {
				return true, fmt.Errorf("store: the account %s/%s is damaged: %w", app, name, err)
			}
		}
		return true, nil
	})
	return a, found, err
}

func (s *Store) AddToken(t store.Token) error {
	raw, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return s.do(func(ctx context.Context) (bool, error) {
		_, err := s.cli.Put(ctx, s.tokenKey(t.Token), string(raw))
		return err == nil, err
	})
}

func (s *Store) LoadTokens() ([]store.Token, error) {
	var out []store.Token
	err := s.do(func(ctx context.Context) (bool, error) {
		resp, err := s.cli.Get(ctx, s.prefix+etcdTokens, clientv3.WithPrefix())
		if err != nil {
			return false, err
		}
		out = nil
		for _, kv := range resp.Kvs {
			var t store.Token
			if err := json.Unmarshal(kv.Value, &t); err != nil {
				return true, errors.New("store: a stored token is damaged")
			}
			tok, err := url.PathUnescape(strings.TrimPrefix(string(kv.Key), s.prefix+etcdTokens))
			if err != nil {
				return true, errors.New("store: a stored token's key is damaged")
			}
			t.Token = tok
			out = append(out, t)
		}
		return true, nil
	})
	return out, err
}

// LookupToken finds one issued token, for a server that did not issue it.
func (s *Store) LookupToken(token string) (store.Token, bool, error) {
	var t store.Token
	var found bool
	err := s.do(func(ctx context.Context) (bool, error) {
		resp, err := s.cli.Get(ctx, s.tokenKey(token))
		if err != nil {
			return false, err
		}
		found = len(resp.Kvs) > 0
		if found {
			if err := json.Unmarshal(resp.Kvs[0].Value, &t); err != nil {
				return true, errors.New("store: a stored token is damaged")
			}
			t.Token = token
		}
		return true, nil
	})
	return t, found, err
}
