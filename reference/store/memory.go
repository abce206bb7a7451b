package store

import (
	"maps"
	"sync"
)

// Memory is the in-memory Store. Entries are copied in and out so callers
// can never alias stored maps.
type Memory struct {
	mu    sync.Mutex
	users map[string]map[string]Entry // app -> user -> entry
	usage map[string]int64
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{users: map[string]map[string]Entry{}, usage: map[string]int64{}}
}

func (m *Memory) Load(app, user string) (Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.users[app][user]
	e.Attrs = maps.Clone(e.Attrs)
	if e.Attrs == nil {
		e.Attrs = map[string]string{}
	}
	return e, nil
}

func (m *Memory) Commit(app, user string, w Write) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.users[app][user]
	if old.Version != w.Version {
		return ErrConflict
	}
	total := m.usage[app] - old.Size + w.Size
	if w.Size > old.Size && total > w.AppQuota {
		return ErrQuota
	}
	if m.users[app] == nil {
		m.users[app] = map[string]Entry{}
	}
	m.users[app][user] = Entry{Attrs: maps.Clone(w.Attrs), Version: old.Version + 1, Size: w.Size}
	m.usage[app] = total
	return nil
}

func (m *Memory) Delete(app, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.users[app][user]
	if !ok {
		return nil
	}
	m.usage[app] -= old.Size
	// Keep the version so that a write which read before the delete conflicts.
	m.users[app][user] = Entry{Version: old.Version + 1}
	return nil
}

func (m *Memory) Usage(app string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.usage[app], nil
}

func (m *Memory) Close() error { return nil }
