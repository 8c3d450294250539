package persistence

import (
	"bytes"
	"testing"
)

func TestChatEventKeyRoundTripAndOrder(t *testing.T) {
	seqs := []uint64{1, 2, 255, 256, 1 << 32, 1<<64 - 1}
	var prev []byte
	for _, seq := range seqs {
		k := chatEventKey("c01ABC", seq)
		id, got, err := parseChatEventKey(k)
		if err != nil || id != "c01ABC" || got != seq {
			t.Fatalf("parse(%q) = %q, %d, %v; want c01ABC, %d", k, id, got, err, seq)
		}
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			t.Fatalf("keys out of order: %q >= %q", prev, k)
		}
		prev = k
	}
}

func TestChatPrefixesDoNotOverlap(t *testing.T) {
	// "c1" must not see "c10"'s events.
	a := chatEventPrefix("c1")
	b := chatEventKey("c10", 1)
	if bytes.HasPrefix(b, a) {
		t.Fatalf("%q has prefix %q", b, a)
	}
	if !bytes.HasPrefix(chatEventKey("c1", 7), a) {
		t.Fatal("event key lacks its chat prefix")
	}
}

func TestParseChatEventKeyRejectsOthers(t *testing.T) {
	for _, k := range [][]byte{openKey("x"), []byte("c/x"), []byte("c/abc/m/12345678"), nil} {
		if _, _, err := parseChatEventKey(k); err == nil {
			t.Errorf("parse(%q) succeeded", k)
		}
	}
}

func TestUpperBound(t *testing.T) {
	cases := []struct{ in, want []byte }{
		{[]byte("o/"), []byte("o0")},
		{[]byte{'a', 0xff}, []byte{'b'}},
		{[]byte{0xff, 0xff}, nil},
	}
	for _, c := range cases {
		if got := upperBound(c.in); !bytes.Equal(got, c.want) {
			t.Errorf("upperBound(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestLoginKeyIsCaseInsensitive(t *testing.T) {
	if !bytes.Equal(loginKey("Alice@Example.com"), loginKey("alice@example.com")) {
		t.Fatal("login keys differ by case")
	}
}

func TestMailPrefixesStayApart(t *testing.T) {
	// Offline messages (om/) are not in the open-chats index's range (o/),
	// nor is the outbox (m/) in anyone else's.
	if bytes.HasPrefix(offlineKey("n1"), []byte(prefixOpen)) {
		t.Fatalf("%q is under %q", offlineKey("n1"), prefixOpen)
	}
	if !bytes.HasPrefix(mailKey("m1"), []byte(prefixMail)) || bytes.HasPrefix(mailKey("m1"), []byte(prefixOffline)) {
		t.Fatalf("mail key %q misplaced", mailKey("m1"))
	}
}

// TestChannelKeys: channels sort apart from the other directory records.
func TestChannelKeys(t *testing.T) {
	for _, other := range [][]byte{departmentKey("channel"), staffKey("x"), []byte(prefixCanned)} {
		if bytes.HasPrefix(other, []byte(prefixChannel)) || bytes.HasPrefix(channelKey("x"), other) {
			t.Fatalf("%q and %q overlap", channelKey("x"), other)
		}
	}
}
