package main

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

func chatState(m *Main, chat string) messages.ChatState {
	rec, _ := m.broker.ChatRecord(chat)
	return rec.GetState()
}

// One address holds at most LinePerAddress places in one department's
// line: the next request is refused as a full queue, another department
// still takes it, and a place given back can be taken again.
func TestLineSharePerAddress(t *testing.T) {
	m := startBroker(t, t.TempDir(), func(c *Config) { c.LinePerAddress = 2 })
	addr := m.Addr()
	v1, _ := newVisitor(t, addr, false)
	chat1 := mustChatID(t, requestChat(t, v1, "support", "en", "hello"))
	v2, _ := newVisitor(t, addr, false)
	mustChatID(t, requestChat(t, v2, "support", "en", "hello"))
	v3, _ := newVisitor(t, addr, false)
	if r := requestChat(t, v3, "support", "en", "hello").GetChatRefused(); r.GetReason() != messages.RefusalReason_REFUSAL_REASON_QUEUE_FULL {
		t.Fatalf("a third waiting chat from one address: %v, want QUEUE_FULL", r)
	}
	if open, _ := m.store.OpenChats(); len(open) != 2 {
		t.Fatalf("%d open chats after a refusal, want 2", len(open))
	}
	mustChatID(t, requestChat(t, v3, "sales", "en", "hello")) // another line
	if _, err := v1.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat1}}}); err != nil {
		t.Fatal(err)
	}
	v4, _ := newVisitor(t, addr, false)
	eventually(t, "the place given back to be taken", func() bool {
		return requestChat(t, v4, "support", "en", "hello").GetAck().GetChatId() != ""
	})
}

// A chat whose visitor says nothing while it waits leaves the line after
// SilentWait; one with a first message, or a message since, stays.
func TestSilentVisitorsLeaveTheLine(t *testing.T) {
	clock := newFakeClock()
	m := startBroker(t, t.TempDir(), func(c *Config) { c.Clock, c.SilentWait = clock, 5*time.Minute })
	addr := m.Addr()
	idle := clock.Pending()
	mute, _ := newVisitor(t, addr, false)
	muteChat := mustChatID(t, requestChat(t, mute, "support", "en", ""))
	eventually(t, "the silence timer", func() bool { return clock.Pending() == idle+1 })
	talker, _ := newVisitor(t, addr, false)
	talkerChat := mustChatID(t, requestChat(t, talker, "support", "en", "my order is late"))
	late, _ := newVisitor(t, addr, false)
	lateChat := mustChatID(t, requestChat(t, late, "support", "en", ""))
	eventually(t, "a second silence timer", func() bool { return clock.Pending() == idle+2 })
	send(t, late, lateChat, "m1", "hello?")
	eventually(t, "the timer of a visitor who spoke to stop", func() bool { return clock.Pending() == idle+1 })

	clock.Advance(5 * time.Minute)
	eventually(t, "the silent chat to close", func() bool { return chatState(m, muteChat) == messages.ChatState_CHAT_STATE_CLOSED })
	ev := awaitEvent(t, mute, muteChat, func(ev *messages.ChatEvent) bool { return ev.GetClosed() != nil })
	if !strings.Contains(ev.GetClosed().GetReason(), "said nothing") {
		t.Fatalf("closed with %q", ev.GetClosed().GetReason())
	}
	for _, c := range []string{talkerChat, lateChat} {
		if st := chatState(m, c); st != messages.ChatState_CHAT_STATE_QUEUED {
			t.Fatalf("chat %s of a visitor who spoke: %v, want queued", c, st)
		}
	}
}
