package main

import (
	"fmt"
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// TestMessageStages: messages through the real broker, over websockets,
// move every stage of switchboard_message_stage_seconds by the messages
// sent: queued, stored and fanned_out once a message, written once per
// socket it was written to (the other side's and the sender's own copy;
// one socket each here).
func TestMessageStages(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	v, _ := newVisitor(t, addr, true)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", "Where is my order?"))
	a, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	accept(t, a, awaitOffer(t, a).GetChatId())

	stages := []string{"queued", "stored", "fanned_out", "written"}
	counts := func() map[string]float64 {
		_, fams := scrape(t, addr)
		c := map[string]float64{}
		for _, s := range stages {
			c[s] = value(fams, "switchboard_message_stage_seconds", "stage", s)
		}
		return c
	}
	before := counts()
	for _, s := range stages {
		if before[s] < 0 {
			t.Fatalf("no series for stage %s", s)
		}
	}
	const each = 5
	for i := range each {
		text := fmt.Sprintf("visitor %d", i)
		send(t, v, chat, fmt.Sprint("v", i), text)
		awaitEvent(t, a, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == text })
		text = fmt.Sprintf("agent %d", i)
		send(t, a, chat, fmt.Sprint("a", i), text)
		awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == text })
	}
	const sent = 2 * each
	want := map[string]float64{"queued": sent, "stored": sent, "fanned_out": sent, "written": 2 * sent}
	var grown map[string]float64
	eventually(t, "every stage moved by the messages sent", func() bool {
		now := counts()
		grown = map[string]float64{}
		ok := true
		for _, s := range stages {
			grown[s] = now[s] - before[s]
			ok = ok && grown[s] == want[s]
		}
		return ok
	})
	t.Logf("stages grown by %v", grown)
}
