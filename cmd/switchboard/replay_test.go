package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// TestReplayToASocketThatNeverReadsIsBounded: the agent fills a chat with
// 2.4 MB of messages (more than a visitor may write in one chat), and the
// visitor then opens sockets that say Hello with the
// resume token and never read. Each gets the transcript a page at a time,
// the next once the last is written, so no socket's outbound queue ever
// holds more than about a page; a socket that reads gets all of it,
// exactly, across many pages.
func TestReplayToASocketThatNeverReadsIsBounded(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	v, vw, chat := takeChat(t, addr, alice, "sales", "hello")
	const n = 300
	text := strings.Repeat("x", actors.MaxMessageBytes-16)
	var refs []uint64
	for i := range n {
		ref, err := alice.Send(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{
			ChatId: chat, ClientMsgId: fmt.Sprint("m", i), Text: text}}})
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	var last uint64
	for _, ref := range refs {
		env := await(t, alice, "ack", func(e *messages.Envelope) bool { return e.GetRef() == ref })
		if env.GetAck() == nil {
			t.Fatalf("send: %v", env)
		}
		last = env.GetAck().GetSeq()
	}
	// Live delivery of the burst ends before the replays start.
	for _, c := range []*gateway.Client{v, alice} {
		awaitEvent(t, c, chat, func(ev *messages.ChatEvent) bool { return ev.GetSeq() == last })
	}
	gw := m.Gateway()
	gw.TakePeakQueuedBytes() // from here on: the replays

	hello := fmt.Sprintf(`{"ref":"1","hello":{"resume_token":%q}}`, vw.GetResumeToken())
	for range 3 {
		ws, _, err := websocket.Dial(ctxT(t), "ws://"+addr+"/ws/visitor", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		if err := ws.Write(ctxT(t), websocket.MessageText, []byte(hello)); err != nil {
			t.Fatal(err)
		}
	}
	// The first page of each is queued at once.
	var peak int64
	eventually(t, "a replay page queued", func() bool {
		peak = max(peak, gw.TakePeakQueuedBytes())
		return peak >= actors.ReplayPageBytes/2
	})

	// A socket that reads gets every event once, in order, through many
	// pages, while the others sit.
	r := dial(t, addr, "visitor", false)
	if _, err := r.Hello(ctxT(t), &messages.Hello{ResumeToken: vw.GetResumeToken()}); err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= last; seq++ {
		ev := awaitEvent(t, r, chat, func(*messages.ChatEvent) bool { return true })
		if ev.GetSeq() != seq {
			t.Fatalf("replay gave seq %d, want %d", ev.GetSeq(), seq)
		}
	}
	bound := int64(2*actors.ReplayPageBytes + 2*actors.MaxMessageBytes)
	if peak = max(peak, gw.TakePeakQueuedBytes()); peak > bound {
		t.Fatalf("a socket's outbound queue held %d bytes; the transcript is %d, the bound %d", peak, n*len(text), bound)
	}
}
