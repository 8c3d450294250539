package gateway

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// Limits bound what one connection or one client address may do. A zero
// field takes its default; a negative one turns that limit off.
type Limits struct {
	// FramesPerSecond and FrameBurst bound the frames one connection may
	// send (a token bucket). Default 50 per second, bursts of 200: far
	// above what a person types, far below a flood.
	FramesPerSecond float64
	FrameBurst      int
	// ConnsPerAddress bounds the open websockets from one client address.
	// Default 1000 (offices and mobile carriers put many people behind
	// one address).
	ConnsPerAddress int
	// ChatRequestsPerMinute and ChatRequestBurst bound the chats visitors
	// from one client address may ask for. Default 30 a minute, bursts
	// of 10.
	ChatRequestsPerMinute float64
	ChatRequestBurst      int
	// HellosPerMinute and HelloBurst bound the new visitor sessions (Hello
	// without a resume token) one client address may open: each one is a
	// visitor actor. Default 60 a minute, bursts of 30.
	HellosPerMinute float64
	HelloBurst      int
	// FrameBytesPerAddress bounds the bytes of frames being read, at once,
	// over every socket of one client address: a socket that would pass
	// it is closed (1008). Default 8 MiB, eight frames of the hard limit.
	FrameBytesPerAddress int64
	// HTTPConnsPerAddress bounds the open TCP connections (HTTP requests
	// and websockets alike) from one peer address; trusted proxies are
	// exempt. Default 1100: ConnsPerAddress websockets and some room for
	// API calls.
	HTTPConnsPerAddress int
}

func (l *Limits) fill() {
	if l.FramesPerSecond == 0 {
		l.FramesPerSecond = 50
	}
	if l.FrameBurst == 0 {
		l.FrameBurst = 200
	}
	if l.ConnsPerAddress == 0 {
		l.ConnsPerAddress = 1000
	}
	if l.ChatRequestsPerMinute == 0 {
		l.ChatRequestsPerMinute = 30
	}
	if l.ChatRequestBurst == 0 {
		l.ChatRequestBurst = 10
	}
	if l.HellosPerMinute == 0 {
		l.HellosPerMinute = 60
	}
	if l.HelloBurst == 0 {
		l.HelloBurst = 30
	}
	if l.FrameBytesPerAddress == 0 {
		l.FrameBytesPerAddress = 8 << 20
	}
	if l.HTTPConnsPerAddress == 0 {
		l.HTTPConnsPerAddress = 1100
	}
}

// bucket is a token bucket; the caller serializes access.
type bucket struct {
	tokens float64
	last   time.Time
}

// allow takes a token if there is one. rate is tokens per second; a
// negative rate means no limit.
func (b *bucket) allow(now time.Time, rate float64, burst int) bool {
	if rate < 0 || burst < 0 {
		return true
	}
	b.refill(now, rate, burst)
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

func (b *bucket) refill(now time.Time, rate float64, burst int) {
	if b.last.IsZero() {
		b.tokens = float64(burst)
	} else if d := now.Sub(b.last); d > 0 {
		b.tokens = min(float64(burst), b.tokens+d.Seconds()*rate)
	}
	b.last = now
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

// full reports whether b holds burst tokens (or has no limit): such a
// bucket behaves as a new one.
func full(b *bucket, now time.Time, rate float64, burst int) bool {
	if burst < 0 || rate < 0 {
		return true
	}
	b.refill(now, rate, burst)
	return b.tokens >= float64(burst)
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
		if full(&st.chats, now, l.ChatRequestsPerMinute/60, l.ChatRequestBurst) && full(&st.hellos, now, l.HellosPerMinute/60, l.HelloBurst) {
			delete(t.m, addr)
		}
	}
}

// clientAddr is the client's address, which limits, allow-lists and the
// audit log use: the peer's IP, or, when the peer is a trusted proxy, the
// last address in the forwarded header that is not a trusted proxy.
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if !s.trusted(host) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values(s.cfg.ForwardedHeader), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop == "" {
			continue
		}
		if _, err := netip.ParseAddr(hop); err != nil {
			break // not an address: trust nothing further left
		}
		if !s.trusted(hop) {
			return hop
		}
		host = hop
	}
	return host
}

func (s *Server) trusted(addr string) bool {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	for _, p := range s.proxies {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

func rateLimited(format string, args ...any) *messages.Error {
	return messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_RATE_LIMITED, format, args...)
}
