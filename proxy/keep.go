package proxy

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"sync"

	"github.com/attrconform/attrconform/contract"
)

// What the proxy keeps of bodies for judging is bounded twice: keptBytes
// of one body (a longer one is passed on whole and judged too long, as
// the suite judges it), and memoryBytes over every exchange in flight, so
// that many large bodies at once cannot take the proxy's memory: a body
// that finds no room left passes through unjudged, and the proxy says so.
const (
	keptBytes   = contract.MaxBodyBytes
	memoryBytes = 64 << 20
	readAhead   = 32 << 10 // what a request's body is read ahead by at a time
)

// memory is the budget of bytes the proxy holds for judging.
type memory struct {
	mu   sync.Mutex
	free int
}

func (m *memory) take(n int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n > m.free {
		return false
	}
	m.free -= n
	return true
}

func (m *memory) give(n int) {
	m.mu.Lock()
	m.free += n
	m.mu.Unlock()
}

// kept is the start of one body kept for judging, in memory taken from
// the proxy's budget, and what became of the rest.
type kept struct {
	mem  *memory
	mu   sync.Mutex
	held int // bytes taken from mem: cap(data)
	// expect is the body's declared length (Content-Length), or -1: the
	// memory is then taken at once rather than grown into.
	expect int64
	body
}

// body is what the proxy knows of one body.
type body struct {
	data    []byte
	size    int64 // bytes that went through, kept or not
	over    bool  // longer than keptBytes: the rest was passed on, not kept
	starved bool  // the budget had no room: the rest was passed on, not kept
	ended   bool  // the body was read to its end
	err     error // a read of it failed: the sender's doing
}

// whole reports whether all of the body is kept.
func (b body) whole() bool { return b.ended && !b.over && !b.starved && b.err == nil }

// add keeps what it can of p, the next bytes of the body, and returns how
// many of them it kept.
func (k *kept) add(p []byte) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.size += int64(len(p))
	if k.over || k.starved {
		return 0
	}
	if room := keptBytes - len(k.data); len(p) > room {
		k.over, p = true, p[:room]
	}
	if need := len(k.data) + len(p); need > cap(k.data) {
		grown := min(max(need, 2*cap(k.data), 4<<10, int(min(k.expect, keptBytes))), keptBytes)
		if !k.mem.take(grown - k.held) {
			k.starved = true
			return 0
		}
		k.held = grown
		k.data = append(make([]byte, 0, grown), k.data...)
	}
	k.data = append(k.data, p...)
	return len(p)
}

// read notes how a read of the body ended.
func (k *kept) read(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case err == io.EOF:
		k.ended = true
	case err != nil && k.err == nil:
		k.err = err
	}
}

// release gives the memory back; the kept bytes are gone.
func (k *kept) release() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.mem.give(k.held)
	k.held, k.data = 0, nil
}

// state is a copy of what k knows, safe to read while the body is still
// being forwarded.
func (k *kept) state() body {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.body
}

// keepRequest reads the request's body ahead, as far as the limits allow,
// so that the rules see all of it, and forwards it byte for byte: what is
// not kept streams on behind what is, counted. A read that fails (a
// client that stops sending, or drips past --client-timeout) is a
// *clientError.
func (p *Proxy) keepRequest(out *http.Request) (*kept, error) {
	k := &kept{mem: p.memory, expect: out.ContentLength}
	if out.Body == nil || out.Body == http.NoBody {
		k.ended = true
		return k, nil
	}
	buf := make([]byte, readAhead)
	for {
		n, err := out.Body.Read(buf)
		taken := k.add(buf[:n])
		if err != nil && err != io.EOF {
			k.release()
			return nil, &clientError{err}
		}
		if taken < n {
			rest := out.Body
			out.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(k.data), bytes.NewReader(slices.Clone(buf[taken:n])), &passing{r: rest, k: k}), rest}
			return k, nil
		}
		if err == io.EOF {
			k.read(err)
			out.Body.Close()
			out.Body = io.NopCloser(bytes.NewReader(k.data))
			return k, nil
		}
	}
}

// passing forwards the rest of a body the proxy no longer keeps,
// counting it and noting how it ended.
type passing struct {
	r io.Reader
	k *kept
}

func (s *passing) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	s.k.add(b[:n])
	s.k.read(err)
	return n, err
}

// clientError is a request body the client did not send whole.
type clientError struct{ err error }

func (e *clientError) Error() string { return "the client's request body broke off: " + e.err.Error() }
func (e *clientError) Unwrap() error { return e.err }
