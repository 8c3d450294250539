package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

func startGraceBroker(t *testing.T) (*Main, *fakeClock) {
	clock := newFakeClock()
	m := startBroker(t, t.TempDir(), func(c *Config) {
		c.Clock, c.AgentGrace, c.VisitorGrace = clock, time.Minute, time.Minute
	})
	return m, clock
}

// An agent whose connection drops keeps their chats through the grace
// period (a reconnection within it changes nothing); once it runs out the
// chat goes back to its queue, keeping its place, the visitor sees it, and
// another agent takes it with the whole transcript.
func TestAgentGraceThenRequeue(t *testing.T) {
	m, clock := startGraceBroker(t)
	addr := m.Addr()
	v, _ := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", ""))
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	accept(t, alice, awaitOffer(t, alice).GetChatId())
	said := send(t, alice, chat, "", "hello from alice")

	// The agent's recent lists are saved within a second of a change: let
	// that timer run, so that only grace periods are counted below.
	clock.Advance(2 * time.Second)
	idle := clock.Pending()
	alice.CloseNow()
	eventually(t, "alice's grace period to start", func() bool { return clock.Pending() > idle })
	clock.Advance(50 * time.Second)
	alice2, w := newAgent(t, addr, "alice@demo", "alice-demo-pw", false)
	if len(w.GetChats()) != 1 || w.GetChats()[0].GetChatId() != chat {
		t.Fatalf("alice back within the grace period: chats %v", w.GetChats())
	}
	eventually(t, "the grace period to be called off", func() bool { return clock.Pending() == idle })
	clock.Advance(time.Hour) // nothing is armed: nothing happens
	if got := send(t, alice2, chat, "", "still mine"); got != said+1 {
		t.Fatalf("alice's chat moved on: seq %d", got)
	}

	alice2.CloseNow()
	eventually(t, "alice's grace period to start again", func() bool { return clock.Pending() > idle })
	clock.Advance(61 * time.Second)
	ev := awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetRequeued() != nil })
	if ref := ev.GetRequeued().GetAgentId(); ref == "" || ref == "alice" || !strings.Contains(ev.GetRequeued().GetReason(), "did not come back") {
		t.Fatalf("requeued event %v", ev)
	}
	carmen, _ := newAgent(t, addr, "carmen@demo", "carmen-demo-pw", true)
	if o := awaitOffer(t, carmen); o.GetChatId() != chat {
		t.Fatalf("carmen was offered %s, want the requeued %s", o.GetChatId(), chat)
	}
	accept(t, carmen, chat)
	awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetAssigned().GetAgentName() == "Carmen" })
	// Carmen sees the whole conversation, alice's lines included.
	seen := 0
	for seq := uint64(1); seq <= said+3; seq++ {
		awaitEvent(t, carmen, chat, func(ev *messages.ChatEvent) bool { return ev.GetSeq() == seq })
		seen++
	}
	// Alice, back now, has nothing and no load.
	_, w = newAgent(t, addr, "alice@demo", "alice-demo-pw", false)
	if len(w.GetChats()) != 0 || w.GetState().GetActiveChats() != 0 {
		t.Fatalf("alice after the hand-back: chats %v, state %v", w.GetChats(), w.GetState())
	}
	rec, _ := m.broker.ChatRecord(chat)
	if rec.GetState() != messages.ChatState_CHAT_STATE_ACTIVE || len(rec.GetParticipants()) != 3 {
		t.Fatalf("record: state %v, participants %v", rec.GetState(), rec.GetParticipants())
	}
}

// With on_agent_left CLOSE, the chat closes instead, and the visitor is told.
func TestAgentLeftClosePolicy(t *testing.T) {
	m, clock := startGraceBroker(t)
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/departments/sales", map[string]any{"name": "Sales", "chat_enabled": true, "on_agent_left": "AGENT_LEFT_POLICY_CLOSE"})
	v, _ := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", ""))
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	accept(t, alice, awaitOffer(t, alice).GetChatId())
	idle := clock.Pending()
	alice.CloseNow()
	eventually(t, "alice's grace period to start", func() bool { return clock.Pending() > idle })
	clock.Advance(2 * time.Minute)
	ev := awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetClosed() != nil })
	if ev.GetClosed().GetBy().GetKind() != messages.ParticipantKind_PARTICIPANT_KIND_SYSTEM {
		t.Fatalf("closed by %v", ev.GetClosed().GetBy())
	}
}

// A visitor waiting in a queue keeps their place through the grace period;
// once it runs out without them, their chat closes and leaves the queue,
// and the others move up.
func TestVisitorGraceKeepsThenFreesThePlace(t *testing.T) {
	m, clock := startGraceBroker(t)
	addr := m.Addr()
	v1, w1 := newVisitor(t, addr, false)
	chat1 := mustChatID(t, requestChat(t, v1, "support", "en", ""))
	v2, _ := newVisitor(t, addr, false)
	chat2 := mustChatID(t, requestChat(t, v2, "support", "en", ""))

	idle := clock.Pending()
	v1.CloseNow()
	eventually(t, "the visitor's grace period to start", func() bool { return clock.Pending() > idle })
	clock.Advance(30 * time.Second)
	back := dial(t, addr, "visitor", false)
	if _, err := back.Hello(ctxT(t), &messages.Hello{ResumeToken: w1.GetResumeToken()}); err != nil {
		t.Fatal(err)
	}
	if q, err := back.Await(ctxT(t), func(e *messages.Envelope) bool { return e.GetQueueUpdate() != nil }); err != nil || q.GetQueueUpdate().GetPosition() != 1 {
		t.Fatalf("back within the grace period: %v, %v; want position 1", q, err)
	}
	eventually(t, "the grace period to be called off", func() bool { return clock.Pending() == idle })

	v2.CloseNow()
	eventually(t, "the second visitor's grace period", func() bool { return clock.Pending() > idle })
	clock.Advance(61 * time.Second)
	eventually(t, "the second chat to close", func() bool {
		rec, _ := m.broker.ChatRecord(chat2)
		return rec.GetState() == messages.ChatState_CHAT_STATE_CLOSED
	})
	rec, _ := m.broker.ChatRecord(chat1)
	if rec.GetState() != messages.ChatState_CHAT_STATE_QUEUED {
		t.Fatalf("the first visitor's chat: %v", rec.GetState())
	}
	// The first visitor is still first, and an agent gets their chat.
	bob, _ := newAgent(t, addr, "bob@demo", "bob-demo-pw", true)
	if o := awaitOffer(t, bob); o.GetChatId() != chat1 {
		t.Fatalf("bob was offered %s, want %s", o.GetChatId(), chat1)
	}
}

// Tokens expire: an agent's session token after SessionTTL (12 h), a
// visitor's resume token after ResumeTTL (30 days). Both are refused with
// UNAUTHENTICATED, and a fresh login still works.
func TestExpiredTokensAreRefused(t *testing.T) {
	m, clock := startGraceBroker(t)
	addr := m.Addr()
	_, vw := newVisitor(t, addr, false)
	_, aw := newAgent(t, addr, "alice@demo", "alice-demo-pw", false)
	unauthenticated := func(err error) bool {
		var e *messages.Error
		return errors.As(err, &e) && e.GetCode() == messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED
	}
	clock.Advance(11 * time.Hour)
	if _, err := dial(t, addr, "agent", false).Hello(ctxT(t), &messages.Hello{SessionToken: aw.GetSessionToken()}); err != nil {
		t.Fatalf("session token within its 12 h: %v", err)
	}
	clock.Advance(2 * time.Hour)
	if _, err := dial(t, addr, "agent", false).Hello(ctxT(t), &messages.Hello{SessionToken: aw.GetSessionToken()}); !unauthenticated(err) {
		t.Fatalf("session token after 13 h: %v, want UNAUTHENTICATED", err)
	}
	newAgent(t, addr, "alice@demo", "alice-demo-pw", false) // a fresh login works
	clock.Advance(31 * 24 * time.Hour)
	if _, err := dial(t, addr, "visitor", false).Hello(ctxT(t), &messages.Hello{ResumeToken: vw.GetResumeToken()}); !unauthenticated(err) {
		t.Fatalf("resume token after 31 days: %v, want UNAUTHENTICATED", err)
	}
}
