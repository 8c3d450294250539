package actors

import (
	"log/slog"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence"
)

// A chat stored before events carried visitor_seq: its visitor replays it
// from the start, past the in-memory tail into the store, and gets every
// visible event numbered 1..n with no gap and no internal event, as the
// chat numbers them in memory (so new events go on from n).
func TestLegacyChatReplaysGapFree(t *testing.T) {
	store, err := persistence.Open(t.TempDir(), persistence.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const chatID, visitorID = "c01legacy00000000000000000000", "v01legacy00000000000000000000"
	visitor := &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_VISITOR, Id: visitorID, DisplayName: "V"}
	// Written as an old broker wrote it: no visitor_seq; every fifth
	// event a whisper (internal). Longer than the tail a chat keeps.
	events := []*messages.ChatEvent{{ChatId: chatID, Seq: 1, Kind: &messages.ChatEvent_Created{Created: &messages.ChatCreated{
		VisitorId: visitorID, VisitorName: "V", Department: "d", Language: "en"}}}}
	visible := 1
	for seq := uint64(2); seq <= 3*tailKeep; seq++ {
		ev := &messages.ChatEvent{ChatId: chatID, Seq: seq, Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{From: visitor, Text: "m"}}}
		if seq%5 == 0 {
			ev.Internal = true
		} else {
			visible++
		}
		events = append(events, ev)
	}
	done := make(chan error, 1)
	store.AppendChat(chatID, events, nil, false, func(err error) { done <- err })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	br, err := New(Config{Store: store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Shutdown()
	var after, from uint64
	var got []uint64
	for page := 0; page < 100; page++ {
		res, err := br.root.RequestFuture(br.PID(KindChat, chatID), &messages.ReplayRequest{ChatId: chatID, AfterSeq: after, FromSeq: from, Who: visitor}, 5*time.Second).Result()
		if err != nil {
			t.Fatal(err)
		}
		b := res.(*messages.ReplayBatch)
		if b.GetNotFound() || b.GetUnavailable() {
			t.Fatalf("replay page %d: %v", page, b)
		}
		for _, ev := range b.GetEvents() {
			if ev.GetInternal() {
				t.Fatalf("internal event %d replayed to the visitor", ev.GetSeq())
			}
			got = append(got, ev.GetVisitorSeq())
			from = ev.GetSeq()
		}
		if !b.GetMore() {
			break
		}
	}
	if len(got) != visible {
		t.Fatalf("the visitor got %d events, want %d", len(got), visible)
	}
	for i, v := range got {
		if v != uint64(i+1) {
			t.Fatalf("event %d has visitor_seq %d, want %d (no gap)", i, v, i+1)
		}
	}
}
