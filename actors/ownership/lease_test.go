package ownership

import (
	"context"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/switchboard-chat/switchboard/actors/ownership/etcdtest"
)

// A lease revoked behind the node's back: Lost closes soon (the next
// renewal hears it is gone), the node's keys are gone, it acquires
// nothing more, and the other node takes its actors with higher epochs.
func TestRevokedLeaseIsLost(t *testing.T) {
	e := etcdtest.Start(t)
	cli := e.Client()
	a, b := open(t, e, "a"), open(t, e, "b")
	const keys = 5
	epochs := make([]int64, keys)
	for i := range keys {
		epochs[i] = mustOwn(t, a, "chat", fmt.Sprint(i)).Epoch
	}
	lease := clientv3.LeaseID(raw(t, cli, "chat/0").Kvs[0].Lease)
	if _, err := cli.Revoke(ctxT(t), lease); err != nil {
		t.Fatal(err)
	}
	took := closedWithin(t, "a's Lost after its lease was revoked", a.Lost(), 5*time.Second)
	t.Logf("the revoke was noticed after %s (TTL %s, renewals every %s)", took.Round(time.Millisecond), a.lease.ttl, a.lease.interval)
	wantCode(t, a.Err(), "lease", ErrLeaseLost)
	if n, _ := count(t, cli); n != 0 {
		t.Fatalf("%d keys left after the revoke, want 0", n)
	}
	_, err := a.Acquire(ctxT(t), "chat", "0")
	wantCode(t, err, "acquire", ErrLeaseLost)
	if a.Valid() || !a.Deadline().IsZero() {
		t.Fatalf("lost: Valid %v, Deadline %v", a.Valid(), a.Deadline())
	}
	for i := range keys {
		if c := mustOwn(t, b, "chat", fmt.Sprint(i)); c.Epoch <= epochs[i] {
			t.Fatalf("b's epoch %d for chat/%d, a's was %d", c.Epoch, i, epochs[i])
		}
	}
	if err := a.Close(ctxT(t)); err != nil {
		t.Fatalf("Close after the loss: %v", err)
	}
	wantCode(t, a.Err(), "lease", ErrLeaseLost) // Close keeps the first reason
}

// An Acquire that etcd refuses because the lease is gone declares the
// loss at once, without waiting for the next renewal (which a long TTL
// puts far off here).
func TestAcquireNoticesRevokedLease(t *testing.T) {
	e := etcdtest.Start(t)
	cli := e.Client()
	a := open(t, e, "a", func(c *Config) { c.TTL = 30 * time.Second })
	mustOwn(t, a, "chat", "1")
	lease := clientv3.LeaseID(raw(t, cli, "chat/1").Kvs[0].Lease)
	if _, err := cli.Revoke(ctxT(t), lease); err != nil {
		t.Fatal(err)
	}
	_, err := a.Acquire(ctxT(t), "chat", "2")
	wantCode(t, err, "acquire", ErrLeaseLost)
	if !isClosed(a.Lost()) {
		t.Fatal("Lost is open after etcd refused the lease")
	}
	if n, _ := count(t, cli); n != 0 {
		t.Fatalf("%d keys in etcd, want 0", n)
	}
}

// While etcd does not answer (paused), calls fail fast with a temporary
// ErrUnavailable, and the node's claims stay valid until its deadline;
// when etcd answers again before then, the lease is renewed and
// everything works as before.
func TestEtcdPausedThenBack(t *testing.T) {
	e := etcdtest.Start(t)
	const callTimeout = 300 * time.Millisecond
	a := open(t, e, "a", func(c *Config) { c.TTL, c.CallTimeout = 6*time.Second, callTimeout })
	c := mustOwn(t, a, "chat", "1")

	e.Pause()
	unreachable(t, a, callTimeout)
	dl := a.Deadline()
	e.Resume()

	eventually(t, "a renewal after etcd resumed", 5*time.Second, func() bool { return a.Deadline().After(dl) })
	stillOwns(t, a, c)
}

// The same when etcd is down (killed) and restarted: the client
// reconnects soon enough that the lease, which etcd keeps across the
// restart, is renewed before it runs out. The TTL is long (renewals every
// 5 s) so that a slow etcd restart on a loaded machine does not end it.
func TestEtcdRestartedInTime(t *testing.T) {
	e := etcdtest.Start(t)
	const callTimeout = 300 * time.Millisecond
	a := open(t, e, "a", func(c *Config) { c.TTL, c.CallTimeout = 15*time.Second, callTimeout })
	c := mustOwn(t, a, "chat", "1")

	e.Stop()
	unreachable(t, a, callTimeout)
	dl := a.Deadline()
	e.Restart()

	eventually(t, "a renewal after etcd restarted", 12*time.Second, func() bool { return a.Deadline().After(dl) })
	stillOwns(t, a, c)
}

// unreachable checks a's calls while etcd does not answer: Acquire and
// Owner return a temporary ErrUnavailable within about the call timeout,
// and a may still serve what it owns.
func unreachable(t *testing.T, a *Directory, callTimeout time.Duration) {
	t.Helper()
	start := time.Now()
	_, err := a.Acquire(ctxT(t), "chat", "2")
	took := time.Since(start)
	wantCode(t, err, "acquire", ErrUnavailable)
	if took > callTimeout+time.Second {
		t.Fatalf("Acquire took %s with etcd unreachable, want about %s", took, callTimeout)
	}
	t.Logf("Acquire with etcd unreachable failed after %s", took.Round(time.Millisecond))
	_, _, err = a.Owner(ctxT(t), "chat", "1")
	wantCode(t, err, "owner", ErrUnavailable)
	if !a.Valid() || isClosed(a.Lost()) || !time.Now().Before(a.Deadline()) {
		t.Fatalf("with etcd unreachable for a moment: Valid %v, Lost closed %v, Deadline in %s; the claims must stay valid",
			a.Valid(), isClosed(a.Lost()), time.Until(a.Deadline()))
	}
}

// stillOwns checks that a has kept its lease and claim c, and acquires
// again.
func stillOwns(t *testing.T, a *Directory, c Claim) {
	t.Helper()
	if isClosed(a.Lost()) || !a.Valid() {
		t.Fatalf("after etcd came back: Lost closed %v (%v), Valid %v", isClosed(a.Lost()), a.Err(), a.Valid())
	}
	if again := acquire(t, a, "chat", "1"); again != c {
		t.Fatalf("a's claim after etcd came back: %+v, want %+v", again, c)
	}
	mustOwn(t, a, "chat", "2")
}

// When etcd stays unreachable past the TTL, Lost closes at the deadline
// (not before: the node served until then), Acquire fails with
// ErrLeaseLost without asking etcd, and once etcd is back and expires
// the lease another node takes the actors over with a higher epoch.
func TestLeaseLostWhileEtcdDown(t *testing.T) {
	e := etcdtest.Start(t)
	const callTimeout = 300 * time.Millisecond
	a := open(t, e, "a", func(c *Config) { c.CallTimeout = callTimeout })
	c := mustOwn(t, a, "chat", "1")

	e.Pause()
	dl := a.Deadline()
	took := closedWithin(t, "Lost with etcd paused past the TTL", a.Lost(), DefaultTTL+3*time.Second)
	late := time.Since(dl)
	t.Logf("Lost closed %s after the pause, %s after the deadline seen at the pause", took.Round(time.Millisecond), late.Round(time.Millisecond))
	if late < 0 {
		t.Fatalf("Lost closed %s before the deadline", -late)
	}
	if late > a.lease.interval+time.Second {
		t.Fatalf("Lost closed %s after the deadline seen at the pause", late)
	}
	wantCode(t, a.Err(), "lease", ErrLeaseLost)
	start := time.Now()
	_, err := a.Acquire(ctxT(t), "chat", "2")
	wantCode(t, err, "acquire", ErrLeaseLost)
	if d := time.Since(start); d >= callTimeout {
		t.Fatalf("Acquire after the loss took %s: it must not ask etcd", d)
	}
	if a.Valid() {
		t.Fatal("Valid after the loss")
	}

	e.Resume()
	b := open(t, e, "b")
	eventually(t, "b owns chat/1 once etcd expired a's lease", 10*time.Second, func() bool {
		got, err := b.Acquire(ctxT(t), "chat", "1")
		if got.Mine && got.Epoch <= c.Epoch {
			t.Fatalf("b's epoch %d, a's was %d", got.Epoch, c.Epoch)
		}
		return err == nil && got.Mine
	})
}

// Open fails within its dial timeout, with ErrUnavailable, when etcd
// does not answer; and at once without endpoints or a node name.
func TestOpenFails(t *testing.T) {
	e := etcdtest.Start(t)
	e.Stop()
	start := time.Now()
	_, err := Open(ctxT(t), Config{Endpoints: e.Endpoints(), Node: "a", DialTimeout: 500 * time.Millisecond})
	wantCode(t, err, "open", ErrUnavailable)
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Open took %s with etcd down", took)
	}
	for _, cfg := range []Config{{Node: "a"}, {Endpoints: e.Endpoints()}} {
		if _, err := Open(context.Background(), cfg); err == nil || Temporary(err) {
			t.Fatalf("Open(%+v): %v, want a permanent error", cfg, err)
		}
	}
}

// Zero fields mean their defaults; etcd's TTL is whole seconds, rounded
// up.
func TestConfigDefaults(t *testing.T) {
	c, err := Config{Endpoints: []string{"x"}, Node: "a", Prefix: "/p"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Prefix != "/p/" || c.TTL != DefaultTTL || c.CallTimeout != DefaultCallTimeout || c.DialTimeout != DefaultDialTimeout || c.Logger == nil {
		t.Fatalf("defaults: %+v", c)
	}
	for _, r := range []struct {
		ttl  time.Duration
		want int64
	}{{time.Second, 1}, {1500 * time.Millisecond, 2}, {2 * time.Second, 2}, {time.Millisecond, 1}} {
		if got := (Config{TTL: r.ttl}).ttlSeconds(); got != r.want {
			t.Errorf("ttlSeconds(%s) = %d, want %d", r.ttl, got, r.want)
		}
	}
}
