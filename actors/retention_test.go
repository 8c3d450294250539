package actors

import (
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// Retention reads the chat's own log before it deletes (the history index
// is kept in the background and may lag): an open or reopened chat is
// never expired, a chat closed again is, once its last close is before
// the cutoff.
func TestRetentionReadsTheLog(t *testing.T) {
	h := newHarness(t)
	const id = "c01a22baeb6800000000000000001"
	appendChat := func(ev *messages.ChatEvent, open bool) {
		var oc *messages.OpenChat
		if open {
			oc = &messages.OpenChat{ChatId: id, Department: "sales", State: messages.ChatState_CHAT_STATE_QUEUED}
		}
		h.store.AppendChat(id, []*messages.ChatEvent{ev}, oc, !open, func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	expired := func(cutoff int64) bool {
		t.Helper()
		ok, err := h.b.stillExpired(id, cutoff)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	appendChat(&messages.ChatEvent{ChatId: id, Seq: 1, AtMs: 1000, Kind: &messages.ChatEvent_Created{Created: &messages.ChatCreated{Department: "sales"}}}, true)
	if expired(1 << 40) {
		t.Fatal("an open chat is expired")
	}
	appendChat(&messages.ChatEvent{ChatId: id, Seq: 2, AtMs: 2000, Kind: &messages.ChatEvent_Closed{Closed: &messages.ChatClosed{}}}, false)
	if !expired(3000) || expired(2000) {
		t.Fatal("a chat closed at 2000 is not expired by 3000 only")
	}
	appendChat(&messages.ChatEvent{ChatId: id, Seq: 3, AtMs: 4000, Kind: &messages.ChatEvent_Reopened{Reopened: &messages.ChatReopened{}}}, true)
	if expired(1 << 40) {
		t.Fatal("a reopened chat is expired")
	}
	appendChat(&messages.ChatEvent{ChatId: id, Seq: 4, AtMs: 5000, Kind: &messages.ChatEvent_Closed{Closed: &messages.ChatClosed{}}}, false)
	appendChat(&messages.ChatEvent{ChatId: id, Seq: 5, AtMs: 9000, Kind: &messages.ChatEvent_Tagged{Tagged: &messages.ChatTagged{Tag: "x"}}}, false)
	if !expired(6000) || expired(5000) {
		t.Fatal("a chat closed again at 5000 (then tagged) is not expired by 6000 only")
	}
}

// The visitor's view keeps a visible emailed event (the transcript they
// asked for), without the outbox's id, and drops an internal one: each
// desk kind a visitor may see has its case, so their numbering has no gap.
func TestVisitorViewKeepsTheirTranscriptMail(t *testing.T) {
	v := NewVisitorView([]byte("secret"))
	ev := &messages.ChatEvent{ChatId: "c1", Seq: 4, VisitorSeq: 3, Kind: &messages.ChatEvent_Emailed{Emailed: &messages.ChatEmailed{
		To: "ann@example.net", Purpose: "transcript", MailId: "m1"}}}
	got := v.Event(ev)
	if got.GetEmailed().GetTo() != "ann@example.net" || got.GetEmailed().GetMailId() != "" {
		t.Fatalf("visitor view of their transcript mail: %v", got)
	}
	ev.Internal = true
	if v.Event(ev) != nil {
		t.Fatal("an internal mail reaches the visitor")
	}
}
