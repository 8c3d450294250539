package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/switchboard-chat/switchboard/messages"
)

// TestTranscriptCheck: every acknowledged message must be in its chat's
// transcript once, at the sequence of its acknowledgement (a visitor's
// counts visitor_seq); one missing, one out of place and one stored
// twice are each found, and the admin token is sent.
func TestTranscriptCheck(t *testing.T) {
	msg := func(seq, vseq uint64, visitor bool, n uint64) *messages.ChatEvent {
		kind := messages.ParticipantKind_PARTICIPANT_KIND_AGENT
		if visitor {
			kind = messages.ParticipantKind_PARTICIPANT_KIND_VISITOR
		}
		return &messages.ChatEvent{ChatId: "c1", Seq: seq, VisitorSeq: vseq, Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{
			From: &messages.Participant{Kind: kind}, Text: fmt.Sprintf("%d %d xxxx", time.Millisecond, n)}}}
	}
	rec := &messages.ChatRecord{ChatId: "c1", Transcript: []*messages.ChatEvent{
		{ChatId: "c1", Seq: 1, VisitorSeq: 1, Kind: &messages.ChatEvent_Created{Created: &messages.ChatCreated{}}},
		msg(2, 2, true, 1),
		msg(3, 3, false, 1),
		msg(4, 4, true, 2),
		msg(5, 5, true, 2), // visitor's message 2 again
		msg(6, 6, false, 3),
	}}
	body, err := protojson.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" || r.URL.Path != "/api/chats/c1" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	acks := []ackRec{
		{visitor: true, n: 1, seq: 2},  // in place
		{visitor: false, n: 1, seq: 3}, // in place
		{visitor: true, n: 2, seq: 4},  // stored twice
		{visitor: false, n: 2, seq: 7}, // not stored
		{visitor: false, n: 3, seq: 5}, // stored, at another seq
	}
	tc, err := transcriptCheck(context.Background(), []string{addr}, "tok", []string{"c1"}, func(string) []ackRec { return acks })
	if err != nil {
		t.Fatal(err)
	}
	if tc.checked != 5 || tc.missing != 2 || tc.duplicated != 1 || len(tc.notes) != 3 {
		t.Fatalf("checked %d, missing %d, duplicated %d; notes %q", tc.checked, tc.missing, tc.duplicated, tc.notes)
	}
	if _, err := transcriptCheck(context.Background(), []string{addr}, "wrong", []string{"c1"}, func(string) []ackRec { return acks }); err == nil {
		t.Fatal("a refused read passed")
	}
}

// TestFailoverWait: the pause between two tries grows from about 50 ms
// and stays within a quarter of a second (jitter included).
func TestFailoverWait(t *testing.T) {
	for i := range 20 {
		d := failoverWait(i)
		lo := min(failoverBackoff<<i, failoverBackoffMax) * 3 / 4
		if d < lo || d > failoverBackoffMax*5/4 {
			t.Fatalf("try %d: waits %s", i, d)
		}
	}
}
