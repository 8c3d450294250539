package gateway

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// bucket is a token bucket (golang.org/x/time/rate's, made on first use,
// so that an address or a connection that never asks costs nothing).
// rate.Limiter starts full, as a new bucket here always did. The caller
// serializes access.
type bucket struct {
	lim *rate.Limiter
}

// allow takes a token if there is one. perSecond is tokens per second; a
// negative rate or burst means no limit.
func (b *bucket) allow(now time.Time, perSecond float64, burst int) bool {
	if perSecond < 0 || burst < 0 {
		return true
	}
	if b.lim == nil {
		b.lim = rate.NewLimiter(rate.Limit(perSecond), burst)
	}
	return b.lim.AllowN(now, 1)
}

// full reports whether b holds burst tokens (or has no limit): such a
// bucket behaves as a new one.
func (b *bucket) full(now time.Time, perSecond float64, burst int) bool {
	if burst < 0 || perSecond < 0 || b.lim == nil {
		return true
	}
	return b.lim.TokensAt(now) >= float64(burst)
}

// addrTable keeps, per client address, its open connections, its chat
// request and Hello buckets and the frame bytes being read.
type addrTable struct {
	mu    sync.Mutex
	m     map[string]*addrState
	ops   int
	limit Limits
}

type addrState struct {
	conns   int          // open websockets
	peers   int          // open TCP connections (Listener)
	chats   bucket       // chat requests
	hellos  bucket       // new visitor sessions
	reading atomic.Int64 // bytes of frames being read, over every socket
}

func (t *addrTable) get(addr string) *addrState {
	addr = actors.AddressKey(addr)
	if t.m == nil {
		t.m = map[string]*addrState{}
	}
	st := t.m[addr]
	if st == nil {
		st = &addrState{}
		t.m[addr] = st
	}
	return st
}

// acquire counts a new websocket from addr, unless it has too many. The
// state it returns stays in the table until release.
func (t *addrTable) acquire(addr string) (*addrState, bool) {
	return t.count(addr, func(st *addrState) *int { return &st.conns }, t.limit.ConnsPerAddress)
}

// release ends a websocket from addr.
func (t *addrTable) release(addr string, now time.Time) {
	t.uncount(addr, func(st *addrState) *int { return &st.conns }, now)
}

// count adds one to the counter field picks of addr, unless it reached
// limit (a negative limit is none).
func (t *addrTable) count(addr string, pick func(*addrState) *int, limit int) (*addrState, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.get(addr)
	n := pick(st)
	if limit > 0 && *n >= limit {
		return nil, false
	}
	*n++
	return st, true
}

func (t *addrTable) uncount(addr string, pick func(*addrState) *int, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.m[actors.AddressKey(addr)]; st != nil {
		*pick(st)--
	}
	t.sweep(now)
}

// allowChat takes a chat request token of addr.
func (t *addrTable) allowChat(addr string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.get(addr).chats.allow(now, t.limit.ChatRequestsPerMinute/60, t.limit.ChatRequestBurst)
}

// allowHello takes a new-visitor-session token of addr.
func (t *addrTable) allowHello(addr string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.get(addr).hellos.allow(now, t.limit.HellosPerMinute/60, t.limit.HelloBurst)
}

// sweep forgets, now and then, addresses with no connection and full
// buckets: they would behave the same as new ones.
func (t *addrTable) sweep(now time.Time) {
	t.ops++
	if t.ops%1024 != 0 {
		return
	}
	l := t.limit
	for addr, st := range t.m {
		if st.conns > 0 || st.peers > 0 {
			continue
		}
		if st.chats.full(now, l.ChatRequestsPerMinute/60, l.ChatRequestBurst) && st.hellos.full(now, l.HellosPerMinute/60, l.HelloBurst) {
			delete(t.m, addr)
		}
	}
}

// clientAddr is the client's address (Forwarding.ClientAddr).
func (s *Server) clientAddr(r *http.Request) string { return s.fwd.ClientAddr(r) }

func (s *Server) trusted(addr string) bool { return s.fwd.Trusted(addr) }

func rateLimited(format string, args ...any) *messages.Error {
	return messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_RATE_LIMITED, format, args...)
}
