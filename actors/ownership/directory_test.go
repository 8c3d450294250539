package ownership

import (
	"context"
	"fmt"
	"sync"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/switchboard-chat/switchboard/actors/ownership/etcdtest"
)

// Two nodes race for the same 50 keys, all at once: each key gets
// exactly one owner, and the loser is told the winner's name and epoch,
// as etcd recorded them (bound to the winner's lease).
func TestAcquireRaceOneOwner(t *testing.T) {
	e := etcdtest.Start(t)
	cli := e.Client()
	nodes := []*Directory{open(t, e, "a"), open(t, e, "b")}
	const keys = 50
	claims := make([][2]Claim, keys)
	errs := make(chan error, 2*keys)
	start := make(chan struct{})
	ctx := ctxT(t)
	var wg sync.WaitGroup
	for i := range keys {
		for n, d := range nodes {
			wg.Go(func() {
				<-start
				c, err := d.Acquire(ctx, "chat", fmt.Sprint(i))
				if err != nil {
					errs <- err
				}
				claims[i][n] = c
			})
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	won := map[string]int{}
	for i, c := range claims {
		a, b := c[0], c[1]
		if a.Mine == b.Mine {
			t.Fatalf("chat/%d: a %+v, b %+v: want exactly one owner", i, a, b)
		}
		if a.Owner != b.Owner || a.Epoch != b.Epoch {
			t.Fatalf("chat/%d: a %+v, b %+v: the loser must see the winner's name and epoch", i, a, b)
		}
		winner := nodes[0]
		if b.Mine {
			winner = nodes[1]
		}
		won[a.Owner]++
		kv := raw(t, cli, fmt.Sprintf("chat/%d", i)).Kvs[0]
		if string(kv.Value) != a.Owner || kv.CreateRevision != a.Epoch || clientv3.LeaseID(kv.Lease) != winner.lease.id {
			t.Fatalf("chat/%d in etcd: %s at %d (lease %x), want %s at %d (lease %x)", i, kv.Value, kv.CreateRevision, kv.Lease, a.Owner, a.Epoch, winner.lease.id)
		}
	}
	t.Logf("a won %d, b won %d", won["a"], won["b"])
}

// The owner acquiring again gets the same claim; after a release the
// next owner's epoch is higher, every time.
func TestAcquireIdempotentEpochsGrow(t *testing.T) {
	e := etcdtest.Start(t)
	a, b := open(t, e, "a"), open(t, e, "b")
	first := mustOwn(t, a, "chat", "1")
	if again := acquire(t, a, "chat", "1"); again != first {
		t.Fatalf("re-acquire by the owner: %+v, want %+v", again, first)
	}
	if c := acquire(t, b, "chat", "1"); c != (Claim{Owner: "a", Epoch: first.Epoch}) {
		t.Fatalf("b acquires a's chat: %+v, want a redirect to a at %d", c, first.Epoch)
	}
	if c, found, err := b.Owner(ctxT(t), "chat", "1"); err != nil || !found || c != (Claim{Owner: "a", Epoch: first.Epoch}) {
		t.Fatalf("b looks up a's chat: %+v %v %v", c, found, err)
	}
	if c, found, err := a.Owner(ctxT(t), "chat", "1"); err != nil || !found || c != first {
		t.Fatalf("a looks up its chat: %+v %v %v, want %+v", c, found, err, first)
	}

	// The chat moves a -> b -> a; each owner's epoch beats the last.
	prev, holder := first, a
	for _, next := range []*Directory{b, a, b} {
		if ok, err := holder.Release(ctxT(t), "chat", "1", prev.Epoch); err != nil || !ok {
			t.Fatalf("%s releases chat/1 at %d: %v %v", holder.cfg.Node, prev.Epoch, ok, err)
		}
		if _, found, err := next.Owner(ctxT(t), "chat", "1"); err != nil || found {
			t.Fatalf("owner after the release: found %v, %v", found, err)
		}
		c := mustOwn(t, next, "chat", "1")
		if c.Epoch <= prev.Epoch {
			t.Fatalf("%s's epoch %d after %s's %d: must grow", next.cfg.Node, c.Epoch, holder.cfg.Node, prev.Epoch)
		}
		prev, holder = c, next
	}
}

// A release that is not the owner's, or not for the key's epoch,
// deletes nothing and is not an error.
func TestReleaseNotOursDeletesNothing(t *testing.T) {
	e := etcdtest.Start(t)
	cli := e.Client()
	a, b := open(t, e, "a"), open(t, e, "b")
	c := mustOwn(t, a, "chat", "1")
	for _, r := range []struct {
		name  string
		d     *Directory
		id    string
		epoch int64
	}{
		{"another node, the right epoch", b, "1", c.Epoch},
		{"the owner, an older epoch", a, "1", c.Epoch - 1},
		{"the owner, a newer epoch", a, "1", c.Epoch + 1},
		{"the owner, no epoch", a, "1", 0},
		{"a key nobody holds", a, "2", c.Epoch},
	} {
		ok, err := r.d.Release(ctxT(t), "chat", r.id, r.epoch)
		if err != nil || ok {
			t.Errorf("%s: deleted %v, %v; want nothing deleted, no error", r.name, ok, err)
		}
	}
	kv := raw(t, cli, "chat/1").Kvs[0]
	if string(kv.Value) != "a" || kv.CreateRevision != c.Epoch {
		t.Fatalf("chat/1 after the releases: %s at %d, want a at %d", kv.Value, kv.CreateRevision, c.Epoch)
	}
	if again := acquire(t, a, "chat", "1"); again != c {
		t.Fatalf("a's claim after the releases: %+v, want %+v", again, c)
	}
}

// Close revokes the lease: every key of the node vanishes at once, so
// the other node takes them all without waiting; the closed directory
// refuses everything, and closing again changes nothing.
func TestCloseReleasesEverything(t *testing.T) {
	e := etcdtest.Start(t)
	cli := e.Client()
	a, b := open(t, e, "a"), open(t, e, "b")
	const keys = 20
	epochs := make([]int64, keys)
	for i := range keys {
		epochs[i] = mustOwn(t, a, "agent", fmt.Sprint(i)).Epoch
	}
	if err := a.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if n, _ := count(t, cli); n != 0 {
		t.Fatalf("%d keys left after a closed, want 0", n)
	}
	for i := range keys {
		if c := mustOwn(t, b, "agent", fmt.Sprint(i)); c.Epoch <= epochs[i] {
			t.Fatalf("b's epoch %d for agent/%d, a's was %d", c.Epoch, i, epochs[i])
		}
	}
	if !isClosed(a.Lost()) {
		t.Fatal("Lost is open after Close")
	}
	wantCode(t, a.Err(), "lease", ErrClosed)
	_, err := a.Acquire(ctxT(t), "agent", "100")
	wantCode(t, err, "acquire", ErrClosed)
	_, _, err = a.Owner(ctxT(t), "agent", "1")
	wantCode(t, err, "owner", ErrClosed)
	_, err = a.Release(ctxT(t), "agent", "1", epochs[1])
	wantCode(t, err, "release", ErrClosed)
	if err := a.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if a.Valid() || !a.Deadline().IsZero() {
		t.Fatalf("closed: Valid %v, Deadline %v", a.Valid(), a.Deadline())
	}
}

// A kind or id that cannot name a key is refused with ErrInvalidKey by
// every call, and nothing reaches etcd.
func TestInvalidKeys(t *testing.T) {
	e := etcdtest.Start(t)
	cli := e.Client()
	a := open(t, e, "a")
	_, before := count(t, cli)
	for _, k := range []struct{ kind, id string }{{"", "1"}, {"chat/x", "1"}, {"/", "1"}, {"chat", ""}, {"", ""}} {
		_, err := a.Acquire(ctxT(t), k.kind, k.id)
		wantCode(t, err, "acquire", ErrInvalidKey)
		_, _, err = a.Owner(ctxT(t), k.kind, k.id)
		wantCode(t, err, "owner", ErrInvalidKey)
		_, err = a.Release(ctxT(t), k.kind, k.id, 1)
		wantCode(t, err, "release", ErrInvalidKey)
		_, err = a.Key(k.kind, k.id)
		wantCode(t, err, "key", ErrInvalidKey)
	}
	if n, after := count(t, cli); n != 0 || after != before {
		t.Fatalf("after invalid calls: %d keys, revision %d -> %d; want none and no change", n, before, after)
	}
	// An id may hold a "/": the kind, which cannot, ends at the first.
	if k, err := a.Key("chat", "x/y"); err != nil || k != testPrefix+"chat/x/y" {
		t.Fatalf("Key(chat, x/y) = %q, %v", k, err)
	}
}

// A node restarted under the same name while its earlier run's lease is
// still alive must not take that run's keys as its own (they would
// vanish with the old lease, and the old run's writes would carry the
// same epoch): it is told to retry, and gets them with a new epoch once
// the old lease is gone.
func TestEarlierRunOfTheSameNode(t *testing.T) {
	e := etcdtest.Start(t)
	old := open(t, e, "a")
	c := mustOwn(t, old, "chat", "1")
	again := open(t, e, "a")
	_, err := again.Acquire(ctxT(t), "chat", "1")
	wantCode(t, err, "acquire", ErrUnavailable)
	if got, found, err := again.Owner(ctxT(t), "chat", "1"); err != nil || !found || got != (Claim{Owner: "a", Epoch: c.Epoch}) {
		t.Fatalf("the new run looks up the old run's key: %+v %v %v, want it not Mine", got, found, err)
	}
	if err := old.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if got := mustOwn(t, again, "chat", "1"); got.Epoch <= c.Epoch {
		t.Fatalf("new run's epoch %d, old run's %d", got.Epoch, c.Epoch)
	}
}
