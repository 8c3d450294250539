package actors

import (
	"bytes"
	"strings"
	"testing"
)

// The journal's stand-in for a client address is keyed by the run: the
// same address gives the same stand-in within a run (the line's count
// per address replays the same), another run's differs, and neither
// holds the address; without a key (the simulator's own pseudonyms) it
// is left as it is.
func TestAddressHashIsKeyed(t *testing.T) {
	a, b := newRoutingRecorder(nil, nil), newRoutingRecorder(nil, nil)
	if len(a.key) != 32 || bytes.Equal(a.key, b.key) || bytes.Equal(a.key, make([]byte, 32)) {
		t.Fatalf("run keys %x and %x: want two random 32-byte keys", a.key, b.key)
	}
	const addr = "10.1.200.7"
	h1, h2, other := addressHash(a.key, addr), addressHash(a.key, addr), addressHash(b.key, addr)
	if h1 != h2 || h1 == other || strings.Contains(h1, "10.1") || h1 == "" {
		t.Fatalf("hashes %q %q (another run: %q)", h1, h2, other)
	}
	// An IPv6 address counts by its /64, keyed alike.
	if addressHash(a.key, "2001:db8::1") != addressHash(a.key, "2001:db8::2") {
		t.Fatal("two addresses of one /64 hash apart")
	}
	if addressHash(nil, "h-pseudonym") != "h-pseudonym" || addressHash(a.key, "") != "" {
		t.Fatal("a pseudonym or an empty address changed")
	}
}
