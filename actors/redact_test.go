package actors

import (
	"fmt"
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// BenchmarkVisitorView: an agent's chat message as the visitor's socket
// gets it (every visitor-bound frame passes the view).
func BenchmarkVisitorView(b *testing.B) {
	v := NewVisitorView([]byte("0123456789abcdef0123456789abcdef")).WithRefCache()
	env := &messages.Envelope{Body: &messages.Envelope_Event{Event: &messages.ChatEvent{ChatId: "c-1", Seq: 7, VisitorSeq: 5, AtMs: 1,
		Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{Text: "Let me check.",
			From: &messages.Participant{Kind: kindAgent, Id: "alice", DisplayName: "Alice"}}}}}}
	b.ReportAllocs()
	for b.Loop() {
		if v.Envelope(env) == nil {
			b.Fatal("the visitor sees nothing")
		}
	}
}

// TestVisitorRefsCached: a cached ref is the one computed, also after
// the cache filled up and started again, and two views of one secret
// agree.
func TestVisitorRefsCached(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	v, w := NewVisitorView(secret).WithRefCache(), NewVisitorView(secret)
	for i := 0; i < 3*maxCachedRefs; i++ {
		chat, id := fmt.Sprintf("c-%d", i%7), fmt.Sprintf("agent-%d", i)
		got, again, want := v.ref(chat, id), v.ref(chat, id), w.computeRef(chat, id)
		if got != want || again != want || len(got) != 18 {
			t.Fatalf("ref(%s, %s) = %q then %q, want %q", chat, id, got, again, want)
		}
	}
	if len(v.refs) > maxCachedRefs {
		t.Fatalf("the cache holds %d refs, more than %d", len(v.refs), maxCachedRefs)
	}
	if v.ref("c-1", "alice") == v.ref("c-2", "alice") {
		t.Fatal("one agent has the same ref in two chats")
	}
}
