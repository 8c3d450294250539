package gateway

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for _, c := range []struct {
		rule  backoff
		fails int
		want  time.Duration
	}{
		{pairRule, 1, 0}, {pairRule, 2, 0}, {pairRule, 3, 5 * time.Second}, {pairRule, 4, 5 * time.Second},
		{pairRule, 5, time.Minute}, {pairRule, 6, 2 * time.Minute}, {pairRule, 8, 8 * time.Minute},
		{pairRule, 9, 15 * time.Minute}, {pairRule, 100, 15 * time.Minute},
		{addrRule, 20, 0}, {addrRule, 21, 5 * time.Second}, {addrRule, 30, 5 * time.Second}, {addrRule, 31, time.Minute},
		{loginRule, 30, 0}, {loginRule, 31, 5 * time.Second}, {loginRule, 50, 5 * time.Second}, {loginRule, 51, time.Minute},
	} {
		if got := c.rule.lockFor(c.fails); got != c.want {
			t.Errorf("%+v.lockFor(%d) = %v, want %v", c.rule, c.fails, got, c.want)
		}
	}
}

// guardStep is one step of a guard story: an attempt of login from addr
// that must be let through (ok) or not, finishing as a failure or a
// success; or (wait) time passing.
type guardStep struct {
	login, addr string
	n           int // repeat (default 1)
	ok          bool
	succeed     bool
	wait        time.Duration
	finish      bool // false: the attempt is still running (begun, never finished)
}

func TestLoginGuardRules(t *testing.T) {
	fail := func(login, addr string, n int) guardStep {
		return guardStep{login: login, addr: addr, n: n, ok: true, finish: true}
	}
	refused := func(login, addr string) guardStep { return guardStep{login: login, addr: addr} }
	login := func(login, addr string) guardStep {
		return guardStep{login: login, addr: addr, ok: true, succeed: true, finish: true}
	}
	wait := func(d time.Duration) guardStep { return guardStep{wait: d} }
	const owner, attacker, office = "198.51.100.7", "203.0.113.66", "192.0.2.10"
	for _, c := range []struct {
		name  string
		steps []guardStep
	}{
		{"a pair is slowed then locked; the owner's address is not", []guardStep{
			fail("alice", attacker, 2), fail("alice", attacker, 1), refused("alice", attacker),
			wait(5 * time.Second), fail("alice", attacker, 1), wait(5 * time.Second), fail("alice", attacker, 1),
			refused("alice", attacker), login("alice", owner),
			wait(59 * time.Second), refused("alice", attacker), wait(time.Second), login("alice", attacker)}},
		{"a success clears its pair", []guardStep{
			fail("alice", owner, 2), login("alice", owner), fail("alice", owner, 2), login("alice", owner)}},
		{"an hour's quiet forgets", []guardStep{
			fail("alice", attacker, 3), refused("alice", attacker), wait(time.Hour + time.Second), fail("alice", attacker, 2)}},
		{"attempts count as they start", []guardStep{
			{login: "alice", addr: attacker, n: 3, ok: true}, refused("alice", attacker), login("alice", owner)}},
		{"an address trying many logins is locked", func() []guardStep {
			var s []guardStep
			for i := range 21 {
				s = append(s, fail(fmt.Sprintf("user%d", i), attacker, 1))
			}
			return append(s, refused("user99", attacker), login("alice", owner))
		}()},
		{"an address's known login is not locked with it", []guardStep{
			login("bob", office), fail("x", office, 1), fail("y", office, 2), fail("z", office, 2), fail("w", office, 2),
			fail("v", office, 2), fail("u", office, 2), fail("t", office, 2), fail("s", office, 2), fail("r", office, 2),
			fail("q", office, 2), fail("p", office, 2), refused("o", office), login("bob", office)}},
		{"a guess over many addresses is slowed, the owner's known address is not", func() []guardStep {
			s := []guardStep{login("alice", owner)}
			for i := range 31 {
				s = append(s, fail("alice", fmt.Sprintf("10.0.%d.%d", i/200, i%200), 1))
			}
			return append(s, refused("alice", "10.9.9.9"), login("alice", owner), login("bob", "10.9.9.9"))
		}()},
		{"IPv6 counts by /64", []guardStep{
			fail("alice", "2001:db8:1:2::1", 1), fail("alice", "2001:db8:1:2::2", 1), fail("alice", "2001:db8:1:2:ffff::3", 1),
			refused("alice", "2001:db8:1:2::4"), login("alice", "2001:db8:1:3::1")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := &loginGuard{max: 1000}
			now := time.Unix(1_900_000_000, 0)
			for i, st := range c.steps {
				if st.wait > 0 {
					now = now.Add(st.wait)
					continue
				}
				for range max(st.n, 1) {
					until, ok := g.begin(st.login, st.addr, now)
					if ok != st.ok {
						t.Fatalf("step %d (%s from %s): let through %v (until %v), want %v", i, st.login, st.addr, ok, until, st.ok)
					}
					if !ok && !until.After(now) {
						t.Fatalf("step %d: refused until %v, not after now %v", i, until, now)
					}
					if ok && st.finish && st.succeed {
						g.succeeded(st.login, st.addr, now)
					}
				}
			}
		})
	}
}

func TestLoginGuardCancelTakesBack(t *testing.T) {
	g := &loginGuard{max: 1000}
	now := time.Unix(1_900_000_000, 0)
	for range 10 {
		if _, ok := g.begin("alice", "192.0.2.1", now); !ok {
			t.Fatal("an attempt taken back still counted")
		}
		g.cancel("alice", "192.0.2.1")
	}
}

// The table keeps at most its maximum, however many logins are tried.
func TestLoginGuardTableIsBounded(t *testing.T) {
	g := &loginGuard{max: 64}
	now := time.Unix(1_900_000_000, 0)
	for i := range 5000 {
		g.begin(fmt.Sprintf("login-%d-%s", i, strings.Repeat("x", 200)), fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), now)
		if n := g.size(); n > 64 {
			t.Fatalf("after %d logins the table holds %d entries, want at most 64", i+1, n)
		}
	}
	if len(g.m) != g.lru.Len() {
		t.Fatalf("map %d and list %d disagree", len(g.m), g.lru.Len())
	}
}

func TestHashGate(t *testing.T) {
	g := newHashGate(2, -1)
	if !g.acquire() || !g.acquire() {
		t.Fatal("two slots, two acquires")
	}
	if g.acquire() {
		t.Fatal("a third acquire got a slot of two")
	}
	g.release()
	if !g.acquire() {
		t.Fatal("a released slot was not taken")
	}
	if st := g.stats(); st.Slots != 2 || st.Running != 2 || st.Peak != 2 || st.Total != 3 {
		t.Fatalf("stats %+v", st)
	}

	// Waiting: a slot freed while one waits goes to it; at most 4 per
	// slot wait, the next is refused at once.
	g = newHashGate(1, time.Minute)
	g.acquire()
	got := make(chan bool, 5)
	for range 4 {
		go func() { got <- g.acquire() }()
	}
	waiting := func() int { g.mu.Lock(); defer g.mu.Unlock(); return g.waiting }
	for deadline := time.Now().Add(10 * time.Second); waiting() < 4; {
		if time.Now().After(deadline) {
			t.Fatalf("%d waiting, want 4", waiting())
		}
		runtime.Gosched()
	}
	if g.acquire() {
		t.Fatal("a fifth waiter got a slot")
	}
	for range 4 {
		g.release()
		if !<-got {
			t.Fatal("a waiter was refused although a slot came free")
		}
	}
	if st := g.stats(); st.Peak != 1 || st.Running != 1 {
		t.Fatalf("stats %+v: more than one at once", st)
	}
}

func TestAuditLogin(t *testing.T) {
	if got := auditLogin("alice@example.com"); got != "alice@example.com" {
		t.Fatalf("a short login changed: %q", got)
	}
	long := strings.Repeat("é", 100)
	got := auditLogin(long)
	if len(got) > auditLoginBytes+len("…") || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Fatalf("auditLogin(%d bytes) = %q (%d bytes)", len(long), got, len(got))
	}
}
