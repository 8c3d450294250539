package ownership

import (
	"testing"

	"github.com/switchboard-chat/switchboard/actors/ownership/etcdtest"
)

// An announced value is read by the other nodes, overwritten by its node
// and gone with its node's lease.
func TestAnnounceLivesWithTheLease(t *testing.T) {
	e := etcdtest.Start(t)
	a, b := open(t, e, "a"), open(t, e, "b")
	ctx := ctxT(t)
	if err := a.Announce(ctx, "addr", "a", "127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	if err := a.Announce(ctx, "addr", "a", "127.0.0.1:2"); err != nil {
		t.Fatal(err)
	}
	if v, found, err := b.Lookup(ctx, "addr", "a"); err != nil || !found || v != "127.0.0.1:2" {
		t.Fatalf("lookup: %q %v %v", v, found, err)
	}
	if err := b.Announce(ctx, "addr", "b", "127.0.0.1:3"); err != nil {
		t.Fatal(err)
	}
	if all, err := a.List(ctx, "addr"); err != nil || len(all) != 2 || all["a"] != "127.0.0.1:2" || all["b"] != "127.0.0.1:3" {
		t.Fatalf("list: %v %v", all, err)
	}
	if err := b.Withdraw(ctx, "addr", "b", "other"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := a.Lookup(ctx, "addr", "b"); !found {
		t.Fatal("withdrawn with another value")
	}
	if err := b.Withdraw(ctx, "addr", "b", "127.0.0.1:3"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := a.Lookup(ctx, "addr", "b"); found {
		t.Fatal("still there after its withdrawal")
	}
	if err := a.Announce(ctx, "addr/x", "a", "v"); err == nil {
		t.Fatal("a kind with a / was announced")
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if v, found, err := b.Lookup(ctx, "addr", "a"); err != nil || found {
		t.Fatalf("after its node closed: %q %v %v", v, found, err)
	}
}
