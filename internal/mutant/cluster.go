package mutant

import (
	"errors"
	"maps"
	"sync"

	"github.com/attrconform/attrconform/reference/store"
)

// Defects of a deployment of several nodes over one store: each node keeps
// in its own memory something that belongs in the shared store. A single
// server with one of them conforms (its memory is the whole truth); three
// nodes over one etcd cluster do not. Each wrapper serialises its node's
// store calls, so that on one node it is exact.
func init() {
	register(Mutant{Name: "node-lock", Cluster: true, Breaks: []string{"UA-CONC-001", "UA-CONC-003"},
		Doc:   "each node checks a user's version in its own memory and writes without the store's check: writers on two nodes both pass and overwrite each other",
		Apply: wrapStore(func(s store.Store) store.Store { return &nodeLock{Store: s, versions: map[string]uint64{}} })})
	register(Mutant{Name: "node-read-cache", Cluster: true, Breaks: []string{"UA-GET-001", "UA-CONC-003"},
		Doc:   "each node answers from its own cache of what it wrote or read: another node's writes never reach its readers",
		Apply: wrapStore(func(s store.Store) store.Store { return &readCache{Store: s, cache: map[string]store.Entry{}} })})
	register(Mutant{Name: "node-capacity", Cluster: true, Breaks: []string{"UA-CAP-004", "UA-CAP-003"},
		Doc:   "each node counts the app's capacity from the writes and deletes it made itself",
		Apply: wrapStore(func(s store.Store) store.Store { return &nodeUsage{Store: s, usage: map[string]int64{}} })})
}

func userKey(app, user string) string { return app + "\x00" + user }

// nodeLock versions users in the node's memory.
type nodeLock struct {
	store.Store
	mu       sync.Mutex
	versions map[string]uint64
}

func (n *nodeLock) Load(app, user string) (store.Entry, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	e, err := n.Store.Load(app, user)
	e.Version = n.versions[userKey(app, user)]
	return e, err
}

func (n *nodeLock) Commit(app, user string, w store.Write) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if w.Version != n.versions[userKey(app, user)] {
		return store.ErrConflict
	}
	cur, err := n.Store.Load(app, user)
	if err != nil {
		return err
	}
	w.Version = cur.Version // the store's own check, defeated
	if err := n.Store.Commit(app, user, w); err != nil {
		return err
	}
	n.versions[userKey(app, user)]++
	return nil
}

func (n *nodeLock) Delete(app, user string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.versions[userKey(app, user)]++
	return n.Store.Delete(app, user)
}

// readCache keeps every entry the node read or wrote and answers from it.
type readCache struct {
	store.Store
	mu    sync.Mutex
	cache map[string]store.Entry
}

func cloneEntry(e store.Entry) store.Entry {
	e.Attrs = maps.Clone(e.Attrs)
	if e.Attrs == nil {
		e.Attrs = map[string]string{}
	}
	return e
}

func (c *readCache) Load(app, user string) (store.Entry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.cache[userKey(app, user)]; ok {
		return cloneEntry(e), nil
	}
	e, err := c.Store.Load(app, user)
	if err == nil {
		c.cache[userKey(app, user)] = cloneEntry(e)
	}
	return e, err
}

func (c *readCache) Commit(app, user string, w store.Write) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.Store.Commit(app, user, w)
	switch {
	case err == nil:
		c.cache[userKey(app, user)] = cloneEntry(store.Entry{Attrs: w.Attrs, Version: w.Version + 1, Size: w.Size})
	case errors.Is(err, store.ErrConflict):
		delete(c.cache, userKey(app, user)) // a stale entry is dropped when a write shows it
	}
	return err
}

func (c *readCache) Delete(app, user string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, err := c.Store.Load(app, user)
	if err != nil {
		return err
	}
	if err := c.Store.Delete(app, user); err != nil {
		return err
	}
	c.cache[userKey(app, user)] = cloneEntry(store.Entry{Version: cur.Version + 1})
	return nil
}

// nodeUsage counts each app's total from the node's own writes, starting
// from the store's total when the node first needs it.
type nodeUsage struct {
	store.Store
	mu    sync.Mutex
	usage map[string]int64
}

func (n *nodeUsage) start(app string) error {
	if _, ok := n.usage[app]; ok {
		return nil
	}
	u, err := n.Store.Usage(app)
	if err == nil {
		n.usage[app] = u
	}
	return err
}

func (n *nodeUsage) Commit(app, user string, w store.Write) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.start(app); err != nil {
		return err
	}
	old, err := n.Store.Load(app, user)
	if err != nil {
		return err
	}
	if err := n.Store.Commit(app, user, w); err != nil {
		return err
	}
	n.usage[app] += w.Size - old.Size
	return nil
}

func (n *nodeUsage) Delete(app, user string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.start(app); err != nil {
		return err
	}
	old, err := n.Store.Load(app, user)
	if err != nil {
		return err
	}
	if err := n.Store.Delete(app, user); err != nil {
		return err
	}
	n.usage[app] -= old.Size
	return nil
}

func (n *nodeUsage) Usage(app string) (int64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.start(app); err != nil {
		return 0, err
	}
	return n.usage[app], nil
}
