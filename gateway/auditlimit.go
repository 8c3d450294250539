package gateway

import (
	"fmt"
	"sync"
	"time"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// auditWindow is the period Config.AuditPerMinute counts over.
const auditWindow = time.Minute

// auditLimiter bounds the audit entries one client address writes of one
// kind: at most Config.AuditPerMinute a minute; the rest are counted and,
// when the minute ends, written as one "audit.suppressed" entry. Refused
// requests cost an attacker nothing; without this each one was a write.
type auditLimiter struct {
	mu     sync.Mutex
	m      map[auditKey]*auditCount
	closed bool // the server shut down: its counts were written (flush)
}

type auditKey struct{ addr, kind string }

type auditCount struct {
	start      time.Time
	n          int
	suppressed int
}

// audit writes one audit entry (without waiting for it to be stored),
// unless it is a refusal and its address wrote too many refusals of its
// kind this minute. What succeeded is always written: an authenticated
// change (or login) must leave its own entry, or an insider could hide one
// behind twenty harmless ones; refusals are what costs an attacker nothing.
func (s *Server) audit(addr, kind, actor, subject, detail string, ok bool) {
	if ok || s.auditAllowed(addr, kind) {
		s.b.Audit(&messages.AuditEntry{Kind: kind, Actor: actor, Address: addr, Subject: subject, Detail: detail, Ok: ok})
	}
}

func (s *Server) auditAllowed(addr, kind string) bool {
	limit := s.cfg.AuditPerMinute
	if limit < 0 {
		return true
	}
	l := &s.audits
	now := s.b.Now()
	k := auditKey{actors.AddressKey(addr), kind}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[auditKey]*auditCount{}
	}
	c := l.m[k]
	if c == nil || now.Sub(c.start) >= auditWindow {
		if len(l.m) >= 10000 {
			l.forget(now)
		}
		c = &auditCount{start: now}
		l.m[k] = c
	}
	if c.n < limit {
		c.n++
		return true
	}
	if c.suppressed++; c.suppressed == 1 && !l.closed {
		// The summary goes out when this minute ends.
		s.b.AfterFunc(c.start.Add(auditWindow).Sub(now), func() { s.auditSuppressed(k, c) })
	}
	return false
}

// auditSuppressed writes the count of a minute's suppressed entries.
func (s *Server) auditSuppressed(k auditKey, c *auditCount) {
	s.audits.mu.Lock()
	n, start := c.suppressed, c.start
	c.suppressed = 0
	closed := s.audits.closed
	s.audits.mu.Unlock()
	if n > 0 && !closed {
		s.b.Audit(&messages.AuditEntry{Kind: "audit.suppressed", Address: k.addr, Subject: k.kind,
			Detail: fmt.Sprintf("%d more %s entries from this address in the minute from %s", n, k.kind, start.UTC().Format(time.RFC3339))})
	}
}

// forget drops the counts of minutes that ended with nothing suppressed
// (mu held).
func (l *auditLimiter) forget(now time.Time) {
	for k, c := range l.m {
		if now.Sub(c.start) >= auditWindow && c.suppressed == 0 {
			delete(l.m, k)
		}
	}
}

// flushAudits writes the counts of the minutes not ended yet, at
// shutdown, while the store still takes them; the minutes' timers then
// find nothing to write (the broker may be gone by then).
func (s *Server) flushAudits() {
	l := &s.audits
	l.mu.Lock()
	pending := map[auditKey]*auditCount{}
	for k, c := range l.m {
		if c.suppressed > 0 {
			pending[k] = c
		}
	}
	l.mu.Unlock()
	for k, c := range pending {
		s.auditSuppressed(k, c)
	}
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}
