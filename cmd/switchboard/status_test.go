package main

import (
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// The chat's agent changes its work status (open, on hold, pending,
// resolved); each change is an event in the transcript that both sides
// see, and it survives in the summaries. The visitor cannot change it.
func TestChatWorkStatus(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	v, _ := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", ""))
	a, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	accept(t, a, awaitOffer(t, a).GetChatId())
	for _, st := range []messages.WorkStatus{messages.WorkStatus_WORK_STATUS_ON_HOLD, messages.WorkStatus_WORK_STATUS_RESOLVED} {
		if _, err := a.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SetChatStatus{SetChatStatus: &messages.SetChatStatus{ChatId: chat, Status: st}}}); err != nil {
			t.Fatal(err)
		}
		ev := awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetStatusChanged() != nil })
		if ev.GetStatusChanged().GetStatus() != st || ev.GetStatusChanged().GetBy().GetDisplayName() != "Alice" {
			t.Fatalf("visitor saw %v, want %v by alice", ev, st)
		}
	}
	if _, err := v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SetChatStatus{SetChatStatus: &messages.SetChatStatus{ChatId: chat}}}); errCode(err) != messages.ErrorCode_ERROR_CODE_FORBIDDEN {
		t.Fatalf("a visitor setting the status: %v", err)
	}
	_, w := newAgent(t, addr, "alice@demo", "alice-demo-pw", false)
	if len(w.GetChats()) != 1 || w.GetChats()[0].GetWorkStatus() != messages.WorkStatus_WORK_STATUS_RESOLVED {
		t.Fatalf("alice's summary: %v", w.GetChats())
	}
}

// An agent with profile.display_name changes the name visitors see: in
// their account, and in their open chats (a renamed event, and new
// messages carry it). Without the permission it is FORBIDDEN.
func TestAgentChangesDisplayName(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	v, _ := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", ""))
	a, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	accept(t, a, awaitOffer(t, a).GetChatId())
	if _, err := a.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SetDisplayName{SetDisplayName: &messages.SetDisplayName{DisplayName: "Alice W."}}}); err != nil {
		t.Fatal(err)
	}
	ev := awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetRenamed() != nil })
	if ev.GetRenamed().GetDisplayName() != "Alice W." {
		t.Fatalf("renamed event %v", ev)
	}
	send(t, a, chat, "", "hello again")
	msg := awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage() != nil })
	if msg.GetMessage().GetFrom().GetDisplayName() != "Alice W." {
		t.Fatalf("message from %v", msg.GetMessage().GetFrom())
	}
	if _, err := a.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SetDisplayName{SetDisplayName: &messages.SetDisplayName{DisplayName: "  "}}}); errCode(err) != messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT {
		t.Fatalf("an empty name: %v", err)
	}
	view, _ := m.broker.DirectoryView()
	for _, x := range view.GetAgents() {
		if x.GetId() == "alice" && x.GetDisplayName() != "Alice W." {
			t.Fatalf("alice's account says %q", x.GetDisplayName())
		}
	}
	// A role without the permission.
	mustAdmin(t, addr, "PUT", "/admin/roles/plain", map[string]any{"permissions": []string{"live_chat", "chats.view", "chats.accept"}})
	mustAdmin(t, addr, "PUT", "/admin/agents/dave", map[string]any{"login": "dave@x", "password": "dave-password", "role": "plain"})
	d, _ := newAgent(t, addr, "dave@x", "dave-password", false)
	if _, err := d.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SetDisplayName{SetDisplayName: &messages.SetDisplayName{DisplayName: "D"}}}); errCode(err) != messages.ErrorCode_ERROR_CODE_FORBIDDEN {
		t.Fatalf("without profile.display_name: %v", err)
	}
}
