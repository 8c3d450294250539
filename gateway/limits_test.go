package gateway

import (
	"testing"
	"time"
)

// The token buckets behind the per-connection and per-address limits
// (golang.org/x/time/rate), on a clock the test moves.
func TestBucket(t *testing.T) {
	t0 := time.Unix(1_900_000_000, 0)
	var b bucket
	for i := 0; i < 3; i++ {
		if !b.allow(t0, 1, 3) {
			t.Fatalf("token %d of a burst of 3 refused", i+1)
		}
	}
	if b.allow(t0, 1, 3) {
		t.Fatal("a fourth token in the same instant allowed")
	}
	if b.full(t0, 1, 3) {
		t.Fatal("an empty bucket reports full")
	}
	if !b.allow(t0.Add(time.Second), 1, 3) {
		t.Fatal("the token refilled after a second refused")
	}
	if b.allow(t0.Add(time.Second), 1, 3) {
		t.Fatal("a second token after one second allowed")
	}
	if !b.full(t0.Add(4*time.Second), 1, 3) {
		t.Fatal("a bucket left alone for its burst's time is not full")
	}

	var off bucket
	for i := 0; i < 100; i++ {
		if !off.allow(t0, -1, 3) || !off.allow(t0, 1, -1) {
			t.Fatal("a negative rate or burst (no limit) refused")
		}
	}
	var unused bucket
	if !unused.full(t0, 1, 3) {
		t.Fatal("a bucket never used is not full")
	}
}

// Chat requests are counted per address (an IPv6 /64 as one), and
// addresses with no connection and full buckets are forgotten.
func TestAddrTable(t *testing.T) {
	t0 := time.Unix(1_900_000_000, 0)
	tab := &addrTable{limit: Limits{ChatRequestsPerMinute: 60, ChatRequestBurst: 2, HellosPerMinute: 60, HelloBurst: 2, ConnsPerAddress: 1}}
	if !tab.allowChat("2001:db8::1", t0) || !tab.allowChat("2001:db8::2", t0) {
		t.Fatal("the first two chat requests of a /64 refused")
	}
	if tab.allowChat("2001:db8::3", t0) {
		t.Fatal("a third request from the same /64 allowed: its addresses share one bucket")
	}
	if !tab.allowChat("2001:db8:1::1", t0) {
		t.Fatal("another /64 refused")
	}
	if _, ok := tab.acquire("10.0.0.1"); !ok {
		t.Fatal("the first websocket of an address refused")
	}
	if _, ok := tab.acquire("10.0.0.1"); ok {
		t.Fatal("a second websocket over the limit of 1 allowed")
	}
	// Long after, 1,024 operations later, the idle addresses are swept;
	// the one with an open websocket stays.
	later := t0.Add(time.Hour)
	for i := 0; i < 1024; i++ {
		tab.mu.Lock()
		tab.sweep(later)
		tab.mu.Unlock()
	}
	tab.mu.Lock()
	defer tab.mu.Unlock()
	if len(tab.m) != 1 || tab.m["10.0.0.1"] == nil {
		t.Fatalf("after the sweep the table holds %d addresses, want only 10.0.0.1", len(tab.m))
	}
}
