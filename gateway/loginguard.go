package gateway

import (
	"container/list"
	"sync"
	"time"

	"github.com/switchboard-chat/switchboard/actors"
)

// Failed-login rules. Every password attempt counts as a failure when it
// starts (so concurrent attempts are counted before any finishes), and a
// success takes it back. Counts are kept in three ways, each forgetting
// its failures after an hour without one:
//
//   - per login and address: 2 free, the 3rd and 4th wait 5 s, from the
//     5th the pair is locked 1 minute, doubling up to 15 minutes. A
//     success clears it. Someone else's failures from another address
//     never lock the owner out.
//   - per address, over all logins: 20 free, the next 10 wait 5 s, then
//     locked 1 minute doubling up to 15: an address trying many logins.
//   - per login, over all addresses: 30 free, the next 20 wait 5 s, then
//     locked 1 minute doubling up to 15: a guess spread over many
//     addresses is still slowed.
//
// The last two do not apply to an address that logged in to that login
// successfully in the last 30 days (8 such addresses kept per login): the
// owner keeps getting in from their usual places. IPv6 addresses count by
// their /64, which one client usually holds whole.
var (
	pairRule  = backoff{free: 2, slow: 2}
	addrRule  = backoff{free: 20, slow: 10}
	loginRule = backoff{free: 30, slow: 20}
)

const (
	loginQuiet   = time.Hour
	goodFor      = 30 * 24 * time.Hour
	goodPerLogin = 8
)

// backoff: after free failures, the next slow ones wait 5 s; after that
// the lock is 1 minute, doubling with each failure up to 15 minutes.
type backoff struct{ free, slow int }

func (b backoff) lockFor(fails int) time.Duration {
	switch {
	case fails <= b.free:
		return 0
	case fails <= b.free+b.slow:
		return 5 * time.Second
	}
	return min(time.Minute<<min(fails-b.free-b.slow-1, 4), 15*time.Minute)
}

// loginGuard keeps the failure counts in one table of at most max entries,
// the least recently used making room.
type loginGuard struct {
	mu  sync.Mutex
	max int
	m   map[string]*list.Element // of *guardEntry
	lru list.List                // most recently used at the front
}

type guardEntry struct {
	key   string
	fails int
	last  time.Time  // of the last counted attempt
	good  []goodAddr // per-login entries: addresses that logged in
}

type goodAddr struct {
	addr string
	at   time.Time
}

func pairKey(login, addr string) string { return "p\x00" + login + "\x00" + addr }
func addrKey(addr string) string        { return "a\x00" + addr }
func loginKey(login string) string      { return "l\x00" + login }

// fails is the entry's count now (none after an hour's quiet).
func (e *guardEntry) failsAt(now time.Time) int {
	if e == nil || now.Sub(e.last) > loginQuiet {
		return 0
	}
	return e.fails
}

// until is when the entry's lock under rule ends (zero: not locked).
func (e *guardEntry) until(rule backoff, now time.Time) time.Time {
	if n := e.failsAt(now); n > 0 {
		if d := rule.lockFor(n); d > 0 {
			return e.last.Add(d)
		}
	}
	return time.Time{}
}

// knows says whether addr logged in to this login lately.
func (e *guardEntry) knows(addr string, now time.Time) bool {
	if e == nil {
		return false
	}
	for _, g := range e.good {
		if g.addr == addr && now.Sub(g.at) <= goodFor {
			return true
		}
	}
	return false
}

func (g *loginGuard) peek(key string) *guardEntry {
	if el := g.m[key]; el != nil {
		return el.Value.(*guardEntry)
	}
	return nil
}

// touch returns key's entry, made if needed, as the most recently used.
func (g *loginGuard) touch(key string) *guardEntry {
	if g.m == nil {
		g.m = map[string]*list.Element{}
	}
	if el := g.m[key]; el != nil {
		g.lru.MoveToFront(el)
		return el.Value.(*guardEntry)
	}
	for g.lru.Len() >= max(g.max, 16) {
		old := g.lru.Back()
		g.lru.Remove(old)
		delete(g.m, old.Value.(*guardEntry).key)
	}
	e := &guardEntry{key: key}
	g.m[key] = g.lru.PushFront(e)
	return e
}

// begin says whether an attempt of login from addr may go ahead; if so it
// is counted as a failure already. Otherwise until is when it may.
func (g *loginGuard) begin(login, addr string, now time.Time) (until time.Time, ok bool) {
	addr = actors.AddressKey(addr)
	g.mu.Lock()
	defer g.mu.Unlock()
	pk, ak, lk := pairKey(login, addr), addrKey(addr), loginKey(login)
	checks := []guardCheck{{g.peek(pk), pairRule}}
	if l := g.peek(lk); !l.knows(addr, now) {
		checks = append(checks, guardCheck{g.peek(ak), addrRule}, guardCheck{l, loginRule})
	}
	for _, c := range checks {
		if u := c.e.until(c.rule, now); now.Before(u) {
			until = maxTime(until, u)
		}
	}
	if !until.IsZero() {
		return until, false
	}
	for _, k := range []string{pk, ak, lk} {
		e := g.touch(k)
		e.fails = e.failsAt(now) + 1
		e.last = now
	}
	return time.Time{}, true
}

type guardCheck struct {
	e    *guardEntry
	rule backoff
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// cancel takes back an attempt that begin counted but that never checked
// a password.
func (g *loginGuard) cancel(login, addr string) {
	addr = actors.AddressKey(addr)
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, k := range []string{pairKey(login, addr), addrKey(addr), loginKey(login)} {
		g.uncount(k)
	}
}

func (g *loginGuard) uncount(key string) {
	if e := g.peek(key); e != nil && e.fails > 0 {
		e.fails--
	}
}

// succeeded takes back a successful attempt: the pair's count is cleared,
// the address's and the login's lose this attempt, and the address is
// remembered as one the login's owner uses.
func (g *loginGuard) succeeded(login, addr string, now time.Time) {
	addr = actors.AddressKey(addr)
	g.mu.Lock()
	defer g.mu.Unlock()
	pk := pairKey(login, addr)
	if el := g.m[pk]; el != nil {
		g.lru.Remove(el)
		delete(g.m, pk)
	}
	g.uncount(addrKey(addr))
	l := g.touch(loginKey(login))
	l.fails = max(0, l.fails-1)
	kept := l.good[:0]
	for _, ga := range l.good {
		if ga.addr != addr && now.Sub(ga.at) <= goodFor {
			kept = append(kept, ga)
		}
	}
	if len(kept) >= goodPerLogin {
		kept = kept[1:] // the oldest
	}
	l.good = append(kept, goodAddr{addr: addr, at: now})
}

// size is how many entries the table holds.
func (g *loginGuard) size() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lru.Len()
}
