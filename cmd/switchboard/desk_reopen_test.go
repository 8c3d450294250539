package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// reopenEnv is a ReopenChat command.
func reopenEnv(chat string) *messages.Envelope {
	return &messages.Envelope{Body: &messages.Envelope_ReopenChat{ReopenChat: &messages.ReopenChat{ChatId: chat}}}
}

func closeChat(t testing.TB, c *gateway.Client, chat string) {
	t.Helper()
	mustCall(t, c, &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}})
}

// reopenHTTP posts /api/chats/{id}/reopen with a session token and
// returns the status and body.
func reopenHTTP(t *testing.T, addr, token, chat string) (int, string) {
	t.Helper()
	return staffHTTP(t, addr, token, "POST", "/api/chats/"+chat+"/reopen", "")
}

// A staff reopen: the same chat and transcript, the sequence going on,
// offered to the agent who closed it although a colleague is free too;
// over HTTP, with that agent away, it goes to the department's line (the
// colleague).
func TestStaffReopenGoesToTheAgentWhoClosedIt(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	alice, aw := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	v, _, chat := takeChat(t, addr, alice, "sales", "my order is late")
	send(t, alice, chat, "a1", "let me look")
	closeChat(t, alice, chat)
	closed := awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetClosed() != nil })
	carmen, _ := newAgent(t, addr, "carmen@demo", "carmen-demo-pw", true)
	_ = carmen

	mustCall(t, alice, reopenEnv(chat))
	if o := awaitOffer(t, alice); o.GetChatId() != chat {
		t.Fatalf("alice was offered %v, want %s", o, chat)
	}
	ev := awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetReopened() != nil })
	if ev.GetSeq() != closed.GetSeq()+1 || ev.GetReopened().GetBy().GetDisplayName() != "Alice" {
		t.Fatalf("the visitor saw %v after %v", ev, closed)
	}
	accept(t, alice, chat)
	awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetAssigned() != nil && ev.GetSeq() > closed.GetSeq() })
	send(t, v, chat, "v2", "thanks for coming back")
	closeChat(t, alice, chat)
	eventually(t, "the chat closed again", func() bool { return chatState(m, chat) == messages.ChatState_CHAT_STATE_CLOSED })
	if _, err := call(t, alice, reopenEnv("c0000000000000000000000000000")); errCode(err) != messages.ErrorCode_ERROR_CODE_NOT_FOUND {
		t.Fatalf("reopening a chat that does not exist: %v", err)
	}

	// Over HTTP, with Alice away: Carmen, the department's line, gets it.
	setStatus(t, alice, messages.AgentStatus_AGENT_STATUS_AWAY)
	if code, body := reopenHTTP(t, addr, aw.GetSessionToken(), chat); code != http.StatusOK || !strings.Contains(body, chat) {
		t.Fatalf("POST reopen = %d %s", code, body)
	}
	if code, body := reopenHTTP(t, addr, aw.GetSessionToken(), chat); code != http.StatusConflict {
		t.Fatalf("reopening an open chat = %d %s, want 409", code, body)
	}
	if o := awaitOffer(t, carmen); o.GetChatId() != chat {
		t.Fatalf("carmen was offered %v", o)
	}
	accept(t, carmen, chat)
	rec, err := m.broker.ChatRecord(chat)
	if err != nil || rec.GetState() != messages.ChatState_CHAT_STATE_ACTIVE {
		t.Fatalf("record after the second reopen: %v %v", rec.GetState(), err)
	}
	var reopened, created int
	for i, e := range rec.GetTranscript() {
		if e.GetSeq() != uint64(i+1) {
			t.Fatalf("transcript seq %d at %d", e.GetSeq(), i)
		}
		if e.GetReopened() != nil {
			reopened++
		}
		if e.GetCreated() != nil {
			created++
		}
	}
	if reopened != 2 || created != 1 {
		t.Fatalf("one chat, reopened twice: %d created, %d reopened", created, reopened)
	}
	eventually(t, "two chat.reopen audit entries", func() bool { return auditKinds(t, addr, "")["chat.reopen"] == 2 })
}

// Without chats.reopen a reopen is refused on a socket and over HTTP, and
// nothing changes; a chat whose department went offline is refused too.
func TestReopenRefused(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/roles/closer", map[string]any{"name": "Closer", "permissions": []string{"live_chat", "chats.view", "chats.accept"}})
	mustAdmin(t, addr, "PUT", "/admin/agents/alice", map[string]any{"login": "alice@demo", "password": "alice-demo-pw", "display_name": "Alice",
		"role": "closer", "departments": []string{"sales"}, "languages": []string{"en"}, "max_chats": 3, "chat_agent": true})
	alice, aw := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	_, _, chat := takeChat(t, addr, alice, "sales", "hello")
	closeChat(t, alice, chat)
	_, err := call(t, alice, reopenEnv(chat))
	wantCode(t, "a reopen without chats.reopen", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	if code, body := reopenHTTP(t, addr, aw.GetSessionToken(), chat); code != http.StatusForbidden {
		t.Fatalf("POST reopen without chats.reopen = %d %s", code, body)
	}
	carmen, _ := newAgent(t, addr, "carmen@demo", "carmen-demo-pw", true)
	mustAdmin(t, addr, "PUT", "/admin/departments/sales", map[string]any{"name": "Sales"})
	_, err = call(t, carmen, reopenEnv(chat))
	wantCode(t, "a reopen into an offline department", err, messages.ErrorCode_ERROR_CODE_CONFLICT)
	rec, _ := m.broker.ChatRecord(chat)
	if rec.GetState() != messages.ChatState_CHAT_STATE_CLOSED || len(rec.GetTranscript()) != 4 {
		t.Fatalf("a refused reopen changed the chat: %v", rec)
	}
	if open, _ := m.store.OpenChats(); len(open) != 0 {
		t.Fatalf("open chats after refused reopens: %v", open)
	}
}

// A returning visitor (same resume token, a new socket) continues their
// last chat: it opens again, is replayed to them, and goes to its agent.
// Another visitor cannot reopen it, and a visitor with an open chat
// cannot continue another.
func TestVisitorContinuesTheLastChat(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	v, vw, chat := takeChat(t, addr, alice, "sales", "first visit")
	closeChat(t, v, chat)
	eventually(t, "the chat to close", func() bool { return chatState(m, chat) == messages.ChatState_CHAT_STATE_CLOSED })
	v.CloseNow()

	other, _ := newVisitor(t, addr, false)
	_, err := call(t, other, reopenEnv(chat))
	wantCode(t, "another visitor's reopen", err, messages.ErrorCode_ERROR_CODE_NOT_FOUND)
	mustChatID(t, requestChat(t, other, "sales", "en", ""))
	_, err = call(t, other, reopenEnv(chat))
	wantCode(t, "a reopen with a chat open", err, messages.ErrorCode_ERROR_CODE_CONFLICT)

	back := dial(t, addr, "visitor", false)
	if _, err := back.Hello(ctxT(t), &messages.Hello{ResumeToken: vw.GetResumeToken()}); err != nil {
		t.Fatal(err)
	}
	mustCall(t, back, reopenEnv(chat))
	await(t, back, "the chat again", func(e *messages.Envelope) bool {
		return e.GetChat().GetChatId() == chat && e.GetChat().GetState() == messages.ChatState_CHAT_STATE_QUEUED
	})
	first := awaitEvent(t, back, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "first visit" })
	if first.GetSeq() != 2 {
		t.Fatalf("the replay starts with %v", first)
	}
	awaitEvent(t, back, chat, func(ev *messages.ChatEvent) bool { return ev.GetReopened() != nil })
	o := awaitOffer(t, alice)
	for o.GetChatId() != chat { // the other visitor's chat may come first
		o = awaitOffer(t, alice)
	}
	accept(t, alice, chat)
	send(t, back, chat, "v2", "I am back")
	awaitEvent(t, alice, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "I am back" })
}

// A reopened chat waiting for its agent survives kill -9 right after the
// reopen was acknowledged: the open-chats index has it again, the visitor
// finds it waiting, and its agent is offered it.
func TestReopenedChatSurvivesKill9(t *testing.T) {
	dir := t.TempDir()
	ch := startChild(t, dir)
	alice, _ := newAgent(t, ch.addr, "alice@demo", "alice-demo-pw", true)
	_, vw, chat := takeChat(t, ch.addr, alice, "sales", "hello")
	closeChat(t, alice, chat)
	setStatus(t, alice, messages.AgentStatus_AGENT_STATUS_AWAY)
	mustCall(t, alice, reopenEnv(chat))
	ch.kill()

	ch = startChild(t, dir)
	if rec := record(t, ch.addr, chat); rec.GetState() != messages.ChatState_CHAT_STATE_QUEUED || rec.GetTranscript()[len(rec.GetTranscript())-1].GetReopened() == nil {
		t.Fatalf("after kill -9 the chat is %v: %v", rec.GetState(), rec.GetTranscript())
	}
	v := dial(t, ch.addr, "visitor", false)
	w, err := v.Hello(ctxT(t), &messages.Hello{ResumeToken: vw.GetResumeToken()})
	if err != nil || len(w.GetChats()) != 1 || w.GetChats()[0].GetChatId() != chat || w.GetChats()[0].GetState() != messages.ChatState_CHAT_STATE_QUEUED {
		t.Fatalf("the visitor's welcome after kill -9: %v %v", w, err)
	}
	alice, _ = newAgent(t, ch.addr, "alice@demo", "alice-demo-pw", true)
	if o := awaitOffer(t, alice); o.GetChatId() != chat {
		t.Fatalf("offered %v", o)
	}
	accept(t, alice, chat)
	awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetAssigned() != nil })
}
