package gateway

import (
	"sync"
	"time"
)

// HashStats counts argon2id runs of password checks: slots, running now,
// the most at once, and all so far (unknown logins included).
type HashStats struct {
	Slots, Running, Peak int
	Total                int64
}

// HashStats reports the password checks.
func (s *Server) HashStats() HashStats { return s.hashes.stats() }

// hashGate bounds the password checks running at once, so a flood of
// logins holds at most slots × the argon2id memory cost.
type hashGate struct {
	slots chan struct{}
	wait  time.Duration

	mu      sync.Mutex
	waiting int
	running int
	peak    int
	total   int64
}

func newHashGate(slots int, wait time.Duration) *hashGate {
	return &hashGate{slots: make(chan struct{}, slots), wait: wait}
}

// acquire takes a slot, waiting up to g.wait when at most 4 per slot
// already wait; false: none came free.
func (g *hashGate) acquire() bool {
	select {
	case g.slots <- struct{}{}:
		g.started()
		return true
	default:
	}
	g.mu.Lock()
	if g.wait <= 0 || g.waiting >= 4*cap(g.slots) {
		g.mu.Unlock()
		return false
	}
	g.waiting++
	g.mu.Unlock()
	t := time.NewTimer(g.wait)
	defer t.Stop()
	got := false
	select {
	case g.slots <- struct{}{}:
		got = true
	case <-t.C:
	}
	g.mu.Lock()
	g.waiting--
	g.mu.Unlock()
	if got {
		g.started()
	}
	return got
}

func (g *hashGate) started() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running++
	g.total++
	g.peak = max(g.peak, g.running)
}

func (g *hashGate) release() {
	g.mu.Lock()
	g.running--
	g.mu.Unlock()
	<-g.slots
}

func (g *hashGate) stats() HashStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return HashStats{Slots: cap(g.slots), Running: g.running, Peak: g.peak, Total: g.total}
}
