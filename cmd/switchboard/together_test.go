package main

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// Staff beyond the demo agents: dana supervises sales, mia manages
// support. Their role is a custom "lead" role.
func addLeads(t *testing.T, addr string) {
	t.Helper()
	mustAdmin(t, addr, "PUT", "/admin/roles/lead", map[string]any{"name": "Lead", "permissions": []actors.Permission{
		actors.PermLiveChat, actors.PermViewChats, actors.PermAcceptChats, actors.PermJoin, actors.PermJoinInvisible,
		actors.PermTakeOver, actors.PermSupervise, actors.PermManageQueues, actors.PermForward, actors.PermInvite}})
	for _, a := range []struct{ id, name string }{{"dana", "Dana"}, {"mia", "Mia"}} {
		mustAdmin(t, addr, "PUT", "/admin/agents/"+a.id, map[string]any{"login": a.id + "@demo", "password": a.id + "-demo-pw",
			"display_name": a.name, "role": "lead", "languages": []string{"en"}, "max_chats": 1})
	}
	mustAdmin(t, addr, "PUT", "/admin/departments/sales", map[string]any{"name": "Sales", "chat_enabled": true, "supervisors": []string{"dana"}})
	mustAdmin(t, addr, "PUT", "/admin/departments/support", map[string]any{"name": "Support", "chat_enabled": true, "managers": []string{"mia"}})
}

func call(t testing.TB, c *gateway.Client, env *messages.Envelope) (*messages.Envelope, error) {
	t.Helper()
	return c.Call(ctxT(t), env)
}

func mustCall(t testing.TB, c *gateway.Client, env *messages.Envelope) *messages.Envelope {
	t.Helper()
	got, err := c.Call(ctxT(t), env)
	if err != nil {
		t.Fatalf("%v: %v", env, err)
	}
	return got
}

func await(t testing.TB, c *gateway.Client, what string, match func(*messages.Envelope) bool) *messages.Envelope {
	t.Helper()
	env, err := c.Await(ctxT(t), match)
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
	return env
}

func wantCode(t testing.TB, what string, err error, code messages.ErrorCode) {
	t.Helper()
	if errCode(err) != code {
		t.Fatalf("%s: got %v, want %v", what, err, code)
	}
}

// takeChat has a visitor ask for a chat in dept and agent a accept it.
func takeChat(t *testing.T, addr string, a *gateway.Client, dept, first string) (*gateway.Client, *messages.Welcome, string) {
	t.Helper()
	v, vw := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, dept, "en", first))
	if o := awaitOffer(t, a); o.GetChatId() != chat {
		t.Fatalf("offered %s, want %s", o.GetChatId(), chat)
	}
	accept(t, a, chat)
	return v, vw, chat
}

// replayAll reconnects a visitor and returns every event of chat it is
// shown from the start, checking that none is internal.
func replayAll(t *testing.T, addr string, vw *messages.Welcome, chat string, n int) []*messages.ChatEvent {
	t.Helper()
	v := dial(t, addr, "visitor", true)
	if _, err := v.Hello(ctxT(t), &messages.Hello{ResumeToken: vw.GetResumeToken()}); err != nil {
		t.Fatal(err)
	}
	var evs []*messages.ChatEvent
	for len(evs) < n {
		env := await(t, v, "replayed events", func(e *messages.Envelope) bool { return e.GetEvent().GetChatId() == chat })
		if env.GetEvent().GetInternal() {
			t.Fatalf("the visitor was shown an internal event: %v", env.GetEvent())
		}
		evs = append(evs, env.GetEvent())
	}
	return evs
}

// Transfer to a named colleague: the chat leaves its agent at once, the
// visitor sees "transferred to Bob" and no gap, Bob gets a targeted offer
// (his languages are not checked) and sees the whole transcript. Transfer
// to a department puts the chat at the head of its line. A colleague who
// declines leaves it waiting at the head for anyone.
func TestTransferToColleagueAndDepartment(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	bob, _ := newAgent(t, addr, "bob@demo", "bob-demo-pw", true)
	v, vw, chat := takeChat(t, addr, alice, "sales", "question")
	send(t, alice, chat, "a1", "answer from alice")

	checkTransferTargets(t, alice)
	refusedTransfers(t, alice, bob, chat)
	transferToBob(t, m, addr, alice, bob, v, vw, chat)
	transferToDepartment(t, addr, alice, bob)
	transferDeclined(t, addr, alice)
}

// checkTransferTargets: every department, its agents, status and load;
// no visitor of another department.
func checkTransferTargets(t *testing.T, alice *gateway.Client) {
	t.Helper()
	env := mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_ListTransferTargets{ListTransferTargets: &messages.ListTransferTargets{}}})
	deps := env.GetTransferTargets().GetDepartments()
	if len(deps) != 2 || deps[0].GetDepartment() != "sales" || deps[1].GetDepartment() != "support" {
		t.Fatalf("targets: %v", deps)
	}
	loads := map[string]*messages.AgentLoad{}
	for _, d := range deps {
		for _, a := range d.GetAgents() {
			loads[d.GetDepartment()+"/"+a.GetAgentId()] = a
		}
		if len(d.GetWaiting()) > 0 || len(d.GetActive()) > 0 {
			t.Fatalf("transfer targets show other departments' visitors: %v", d)
		}
	}
	if a := loads["sales/alice"]; a.GetLoad() != 1 || a.GetStatus() != messages.AgentStatus_AGENT_STATUS_AVAILABLE || !a.GetConnected() {
		t.Fatalf("alice in the targets: %v", a)
	}
	if loads["support/bob"] == nil {
		t.Fatalf("bob missing from the targets: %v", loads)
	}
}

// refusedTransfers: errors change nothing.
func refusedTransfers(t *testing.T, alice, bob *gateway.Client, chat string) {
	t.Helper()
	_, err := call(t, alice, &messages.Envelope{Body: &messages.Envelope_TransferChat{TransferChat: &messages.TransferChat{ChatId: chat, ToAgent: "nobody"}}})
	wantCode(t, "transfer to nobody", err, messages.ErrorCode_ERROR_CODE_NOT_FOUND)
	_, err = call(t, alice, &messages.Envelope{Body: &messages.Envelope_TransferChat{TransferChat: &messages.TransferChat{ChatId: chat}}})
	wantCode(t, "transfer to no one", err, messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT)
	_, err = call(t, bob, &messages.Envelope{Body: &messages.Envelope_TransferChat{TransferChat: &messages.TransferChat{ChatId: chat, ToAgent: "bob"}}})
	wantCode(t, "transfer of another's chat", err, messages.ErrorCode_ERROR_CODE_NOT_FOUND)
}

// transferToBob: alice is freed at once, the visitor sees the transfer
// and then Bob, Bob sees the whole transcript, and the visitor's replay
// has no gap.
func transferToBob(t *testing.T, m *Main, addr string, alice, bob, v *gateway.Client, vw *messages.Welcome, chat string) {
	t.Helper()
	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_TransferChat{TransferChat: &messages.TransferChat{ChatId: chat, ToAgent: "bob"}}})
	await(t, alice, "alice freed", func(e *messages.Envelope) bool {
		return e.GetAgentState().GetActiveChats() == 0 && e.GetAgentState().GetPendingOffers() == 0 && e.GetAgentState() != nil
	})
	tr := awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetTransferred() != nil }).GetTransferred()
	if tr.GetToAgentName() != "Bob" || tr.GetToDepartment() != "support" || tr.GetBy().GetDisplayName() != "Alice" {
		t.Fatalf("the visitor saw %v", tr)
	}
	if o := awaitOffer(t, bob); o.GetChatId() != chat || o.GetDepartment() != "support" {
		t.Fatalf("bob's offer: %v", o)
	}
	accept(t, bob, chat)
	as := awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool {
		return ev.GetAssigned() != nil && ev.GetAssigned().GetAgentName() == "Bob"
	})
	if as.GetAssigned().GetHow() != messages.AssignHow_ASSIGN_HOW_TRANSFERRED || as.GetAssigned().GetAgentName() != "Bob" {
		t.Fatalf("the visitor saw %v", as)
	}
	awaitEvent(t, bob, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "question" })
	awaitEvent(t, bob, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "answer from alice" })
	seq := send(t, bob, chat, "b1", "bob here")
	evs := replayAll(t, addr, vw, chat, int(seq))
	for i, ev := range evs {
		if ev.GetSeq() != uint64(i+1) {
			t.Fatalf("the visitor's transcript has a gap at %d: %v", i+1, ev)
		}
	}
	if rec, _ := m.broker.ChatRecord(chat); rec.GetDepartment() != "sales" || rec.GetState() != messages.ChatState_CHAT_STATE_ACTIVE {
		t.Fatalf("record: %v", rec)
	}
}

// transferToDepartment: at the head of its line, before a chat that
// waited there already.
func transferToDepartment(t *testing.T, addr string, alice, bob *gateway.Client) {
	t.Helper()
	setStatus(t, bob, messages.AgentStatus_AGENT_STATUS_AWAY)
	v2, _ := newVisitor(t, addr, false)
	waitingFirst := mustChatID(t, requestChat(t, v2, "support", "en", "waiting first"))
	await(t, v2, "position 1", func(e *messages.Envelope) bool { return e.GetQueueUpdate().GetPosition() == 1 })
	v3, _, chat3 := takeChat(t, addr, alice, "sales", "please forward me")
	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_TransferChat{TransferChat: &messages.TransferChat{ChatId: chat3, ToDepartment: "support"}}})
	await(t, v3, "head of the line", func(e *messages.Envelope) bool {
		return e.GetQueueUpdate().GetChatId() == chat3 && e.GetQueueUpdate().GetPosition() == 1 && e.GetQueueUpdate().GetQueueLength() == 2
	})
	await(t, v2, "second", func(e *messages.Envelope) bool { return e.GetQueueUpdate().GetPosition() == 2 })
	setStatus(t, bob, messages.AgentStatus_AGENT_STATUS_AVAILABLE)
	if o := awaitOffer(t, bob); o.GetChatId() != chat3 {
		t.Fatalf("bob was offered %s first, want the transferred %s (not %s)", o.GetChatId(), chat3, waitingFirst)
	}
}

// transferDeclined: a colleague who declines; the chat waits at the head
// for anyone.
func transferDeclined(t *testing.T, addr string, alice *gateway.Client) {
	t.Helper()
	_, _, chat4 := takeChat(t, addr, alice, "sales", "for carmen")
	carmen, _ := newAgent(t, addr, "carmen@demo", "carmen-demo-pw", true)
	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_TransferChat{TransferChat: &messages.TransferChat{ChatId: chat4, ToAgent: "carmen"}}})
	o := awaitOffer(t, carmen)
	if o.GetChatId() != chat4 {
		t.Fatalf("carmen was offered %v", o)
	}
	mustCall(t, carmen, &messages.Envelope{Body: &messages.Envelope_DeclineOffer{DeclineOffer: &messages.DeclineOffer{ChatId: chat4}}})
	if o := awaitOffer(t, alice); o.GetChatId() != chat4 {
		t.Fatalf("after carmen declined, alice was offered %v", o)
	}
}

// Invite, join, leave: the invited operator joins and both stay until one
// leaves; the visitor sees the guest join, write and leave, but never the
// invitation or a declined one. The chat's agent cannot leave it.
func TestInviteJoinAndLeave(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	addLeads(t, addr)
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	carmen, _ := newAgent(t, addr, "carmen@demo", "carmen-demo-pw", false)
	bob, _ := newAgent(t, addr, "bob@demo", "bob-demo-pw", false)
	v, vw, chat := takeChat(t, addr, alice, "sales", "hello")

	_, err := call(t, carmen, &messages.Envelope{Body: &messages.Envelope_InviteAgent{InviteAgent: &messages.InviteAgent{ChatId: chat, AgentId: "bob"}}})
	wantCode(t, "invite into another's chat", err, messages.ErrorCode_ERROR_CODE_NOT_FOUND)
	_, err = call(t, alice, &messages.Envelope{Body: &messages.Envelope_InviteAgent{InviteAgent: &messages.InviteAgent{ChatId: chat, AgentId: "alice"}}})
	wantCode(t, "invite oneself", err, messages.ErrorCode_ERROR_CODE_CONFLICT)

	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_InviteAgent{InviteAgent: &messages.InviteAgent{ChatId: chat, AgentId: "carmen"}}})
	inv := await(t, carmen, "invitation", func(e *messages.Envelope) bool { return e.GetInvitation() != nil }).GetInvitation()
	if inv.GetChatId() != chat || inv.GetBy().GetId() != "alice" || inv.GetDepartment() != "sales" {
		t.Fatalf("invitation %v", inv)
	}
	// carmen has chats.join? The agent role does not: the invitation is
	// what lets her in.
	mustCall(t, carmen, &messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat}}})
	j := awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetMember() != nil })
	if j.GetMember().GetWho().GetDisplayName() != "Carmen" || j.GetMember().GetAction() != messages.MemberAction_MEMBER_ACTION_JOINED || j.GetMember().GetInvisible() {
		t.Fatalf("the visitor saw %v", j)
	}
	awaitEvent(t, carmen, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "hello" })
	send(t, carmen, chat, "c1", "carmen here too")
	awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool {
		return ev.GetMessage().GetText() == "carmen here too" && ev.GetMessage().GetFrom().GetDisplayName() == "Carmen"
	})
	awaitEvent(t, alice, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "carmen here too" })
	send(t, v, chat, "v1", "thanks both")
	awaitEvent(t, carmen, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "thanks both" })
	// A guest's chat does not count toward their limit.
	if _, cw := newAgent(t, addr, "carmen@demo", "carmen-demo-pw", false); cw.GetState().GetActiveChats() != 0 || len(cw.GetChats()) != 1 {
		t.Fatalf("carmen's load counts a chat she is a guest in, or misses it: %v", cw)
	}

	// An invitation declined: staff see it, the visitor does not.
	mustCall(t, carmen, &messages.Envelope{Body: &messages.Envelope_InviteAgent{InviteAgent: &messages.InviteAgent{ChatId: chat, AgentId: "bob"}}})
	await(t, bob, "invitation", func(e *messages.Envelope) bool { return e.GetInvitation().GetChatId() == chat })
	mustCall(t, bob, &messages.Envelope{Body: &messages.Envelope_DeclineInvite{DeclineInvite: &messages.DeclineInvite{ChatId: chat}}})
	dec := awaitEvent(t, alice, chat, func(ev *messages.ChatEvent) bool {
		return ev.GetMember().GetAction() == messages.MemberAction_MEMBER_ACTION_DECLINED
	})
	if !dec.GetInternal() || dec.GetMember().GetWho().GetId() != "bob" {
		t.Fatalf("declined: %v", dec)
	}
	_, err = call(t, bob, &messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat}}})
	wantCode(t, "join after declining, without chats.join", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)

	_, err = call(t, alice, &messages.Envelope{Body: &messages.Envelope_LeaveChat{LeaveChat: &messages.LeaveChat{ChatId: chat}}})
	wantCode(t, "the owner leaving", err, messages.ErrorCode_ERROR_CODE_CONFLICT)
	mustCall(t, carmen, &messages.Envelope{Body: &messages.Envelope_LeaveChat{LeaveChat: &messages.LeaveChat{ChatId: chat}}})
	left := awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool {
		return ev.GetMember().GetAction() == messages.MemberAction_MEMBER_ACTION_LEFT
	})
	if left.GetMember().GetWho().GetId() != j.GetMember().GetWho().GetId() {
		t.Fatalf("left: %v", left)
	}
	_, err = call(t, carmen, &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, Text: "still here?"}}})
	wantCode(t, "a message after leaving", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)

	// With chats.join, staff join any chat they may see: dana supervises
	// sales; mia (support) may not see a sales chat.
	dana, _ := newAgent(t, addr, "dana@demo", "dana-demo-pw", false)
	mia, _ := newAgent(t, addr, "mia@demo", "mia-demo-pw", false)
	_, err = call(t, mia, &messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat}}})
	wantCode(t, "join a chat one may not see", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	mustCall(t, dana, &messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat}}})
	awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool {
		return ev.GetMember().GetWho().GetDisplayName() == "Dana" && ev.GetMember().GetAction() == messages.MemberAction_MEMBER_ACTION_JOINED
	})
	// The visitor's summary shows the guest; no invitation ever reached it.
	seq := send(t, v, chat, "v2", "done")
	for _, ev := range replayAll(t, addr, vw, chat, int(seq)-3) { // the two invitations and the decline are internal
		if ev.GetMember().GetAction() == messages.MemberAction_MEMBER_ACTION_INVITED {
			t.Fatalf("the visitor saw an invitation: %v", ev)
		}
	}
}

// An invisible supervisor: agents see them watching and their whispers;
// the visitor's stream never shows them, their whispers or any trace.
// Invisible joins and whispers are audited. The supervisor monitors the
// department live and takes the chat over within their limit; the agent
// is told and freed, the visitor sees the new name.
func TestSupervisorWatchesWhispersAndTakesOver(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	addLeads(t, addr)
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	v, vw, chat := takeChat(t, addr, alice, "sales", "hello")
	dana, _ := newAgent(t, addr, "dana@demo", "dana-demo-pw", false)
	mia, _ := newAgent(t, addr, "mia@demo", "mia-demo-pw", false)

	supervisorMonitors(t, dana, mia, chat)
	after := supervisorWhispers(t, alice, dana, v, chat)
	visitorSeesNoSupervisor(t, addr, v, vw, chat, after)
	supervisorTakesOver(t, addr, alice, dana, v, chat)
	takeOverBeyondLimit(t, m, addr, alice, dana)
}

// supervisorMonitors: only the department's supervisor monitors it; the
// view shows the chat and alice's load.
func supervisorMonitors(t *testing.T, dana, mia *gateway.Client, chat string) {
	t.Helper()
	_, err := call(t, mia, &messages.Envelope{Body: &messages.Envelope_Monitor{Monitor: &messages.Monitor{Departments: []string{"sales"}}}})
	wantCode(t, "monitor a department one does not supervise", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	mustCall(t, dana, &messages.Envelope{Body: &messages.Envelope_Monitor{Monitor: &messages.Monitor{Departments: []string{"sales"}}}})
	view := await(t, dana, "a view with the chat", func(e *messages.Envelope) bool {
		return len(e.GetDepartmentView().GetActive()) == 1
	}).GetDepartmentView()
	if a := view.GetActive()[0]; a.GetChatId() != chat || a.GetAgentId() != "alice" || a.GetAssignedAtMs() < a.GetCreatedAtMs() {
		t.Fatalf("the view's chat: %v", a)
	}
	var aliceLoad *messages.AgentLoad
	for _, a := range view.GetAgents() {
		if a.GetAgentId() == "alice" {
			aliceLoad = a
		}
	}
	if aliceLoad.GetLoad() != 1 || aliceLoad.GetStatus() != messages.AgentStatus_AGENT_STATUS_AVAILABLE {
		t.Fatalf("alice in the view: %v", aliceLoad)
	}
}

// supervisorWhispers: dana joins invisibly (alice sees it as internal),
// may not write to the visitor, and whispers to alice; a visitor may not
// whisper. It returns the seq of alice's next message to the visitor.
func supervisorWhispers(t *testing.T, alice, dana, v *gateway.Client, chat string) uint64 {
	t.Helper()
	mustCall(t, dana, &messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat, Invisible: true}}})
	w := awaitEvent(t, alice, chat, func(ev *messages.ChatEvent) bool { return ev.GetMember() != nil })
	if !w.GetInternal() || !w.GetMember().GetInvisible() || w.GetMember().GetWho().GetId() != "dana" {
		t.Fatalf("alice saw %v", w)
	}
	_, err := call(t, dana, &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, Text: "visible?"}}})
	wantCode(t, "an invisible watcher writing to the visitor", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	mustCall(t, dana, &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, ClientMsgId: "w1", Text: "offer the discount", Whisper: true}}})
	wh := awaitEvent(t, alice, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "offer the discount" })
	if !wh.GetInternal() || wh.GetMessage().GetFrom().GetId() != "dana" {
		t.Fatalf("the whisper: %v", wh)
	}
	_, err = call(t, v, &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, Text: "x", Whisper: true}}})
	wantCode(t, "a visitor whispering", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	send(t, alice, chat, "a1", "we can offer 10%")
	return awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "we can offer 10%" }).GetSeq()
}

// visitorSeesNoSupervisor: nothing the visitor's socket got shows dana; a
// replay from the start lacks the internal events and the visitor's own
// numbering (visitor_seq) has no gaps where they were. The invisible join
// and the whisper are audited.
func visitorSeesNoSupervisor(t *testing.T, addr string, v *gateway.Client, vw *messages.Welcome, chat string, after uint64) {
	t.Helper()
	for v.Pending() > 0 {
		env, _ := v.Recv(ctxT(t))
		if strings.Contains(env.String(), "dana") || strings.Contains(env.String(), "discount") {
			t.Fatalf("the visitor saw the supervisor: %v", env)
		}
	}
	evs := replayAll(t, addr, vw, chat, int(after))
	for i, ev := range evs {
		if ev.GetSeq() != uint64(i+1) {
			t.Fatalf("the visitor's replay has seq %d at %d", ev.GetSeq(), i+1)
		}
		if strings.Contains(ev.String(), "dana") {
			t.Fatalf("the visitor's replay shows the supervisor: %v", ev)
		}
	}
	entries := auditPage(t, addr, "kind=chat.join_invisible")
	if len(entries) != 1 || entries[0].GetActor() != "dana" || entries[0].GetSubject() != chat {
		t.Fatalf("audit of the invisible join: %v", entries)
	}
	if entries := auditPage(t, addr, "kind=chat.whisper"); len(entries) != 1 {
		t.Fatalf("audit of the whisper: %v", entries)
	}
}

// supervisorTakesOver: ownership moves at once; alice is told and freed,
// and may no longer write; the take-over is audited.
func supervisorTakesOver(t *testing.T, addr string, alice, dana, v *gateway.Client, chat string) {
	t.Helper()
	mustCall(t, dana, &messages.Envelope{Body: &messages.Envelope_TakeOver{TakeOver: &messages.TakeOver{ChatId: chat}}})
	as := awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetAssigned().GetAgentName() == "Dana" })
	if prev := as.GetAssigned().GetPreviousAgentId(); as.GetAssigned().GetHow() != messages.AssignHow_ASSIGN_HOW_TAKEN_OVER || prev == "" || prev == "alice" {
		t.Fatalf("the visitor saw %v", as)
	}
	awaitEvent(t, alice, chat, func(ev *messages.ChatEvent) bool { return ev.GetAssigned().GetAgentId() == "dana" })
	await(t, alice, "alice's slot freed", func(e *messages.Envelope) bool {
		return e.GetAgentState() != nil && e.GetAgentState().GetActiveChats() == 0
	})
	_, err := call(t, alice, &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, Text: "mine?"}}})
	wantCode(t, "the previous agent writing", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	send(t, dana, chat, "d1", "Dana here, I will take it from here")
	awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetFrom().GetDisplayName() == "Dana" })
	if entries := auditPage(t, addr, "kind=chat.take_over"); len(entries) != 1 || entries[0].GetActor() != "dana" {
		t.Fatalf("audit of the take-over: %v", entries)
	}
}

// takeOverBeyondLimit: Dana's limit is 1, so a second take-over is
// refused and changes nothing.
func takeOverBeyondLimit(t *testing.T, m *Main, addr string, alice, dana *gateway.Client) {
	t.Helper()
	_, _, chat2 := takeChat(t, addr, alice, "sales", "second")
	_, err := call(t, dana, &messages.Envelope{Body: &messages.Envelope_TakeOver{TakeOver: &messages.TakeOver{ChatId: chat2}}})
	wantCode(t, "a take-over beyond the limit", err, messages.ErrorCode_ERROR_CODE_CONFLICT)
	if rec, _ := m.broker.ChatRecord(chat2); rec.GetParticipants()[len(rec.GetParticipants())-1].GetId() != "alice" {
		t.Fatalf("the refused take-over changed the chat: %v", rec.GetParticipants())
	}
}

// Managers: a queue set offline refuses new visitors with a clear reason
// and keeps serving those already waiting; its agents are told who did it.
// A manager sets an agent's status and the agent is told why. Agents see
// their unanswered and answered chats beside the waiting ones.
func TestQueueManagers(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	addLeads(t, addr)
	bob, _ := newAgent(t, addr, "bob@demo", "bob-demo-pw", false)
	mia, _ := newAgent(t, addr, "mia@demo", "mia-demo-pw", false)
	dana, _ := newAgent(t, addr, "dana@demo", "dana-demo-pw", false)
	v1, _ := newVisitor(t, addr, false)
	waiting := mustChatID(t, requestChat(t, v1, "support", "en", "waiting"))

	_, err := call(t, dana, &messages.Envelope{Body: &messages.Envelope_SetQueueOnline{SetQueueOnline: &messages.SetQueueOnline{Department: "support"}}})
	wantCode(t, "offline by a non-manager", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	mustCall(t, mia, &messages.Envelope{Body: &messages.Envelope_Monitor{Monitor: &messages.Monitor{Departments: []string{"support"}}}})
	mustCall(t, mia, &messages.Envelope{Body: &messages.Envelope_SetQueueOnline{SetQueueOnline: &messages.SetQueueOnline{Department: "support", Online: false}}})
	qs := await(t, bob, "queue state", func(e *messages.Envelope) bool { return e.GetQueueState() != nil }).GetQueueState()
	if qs.GetOnline() || qs.GetBy() != "Mia" || qs.GetDepartment() != "support" {
		t.Fatalf("bob was told %v", qs)
	}
	v2, _ := newVisitor(t, addr, false)
	if r := refusal(t, requestChat(t, v2, "support", "en", "")); r != messages.RefusalReason_REFUSAL_REASON_DEPARTMENT_CLOSED {
		t.Fatalf("a request to an offline queue: %v", r)
	}
	await(t, mia, "the offline view", func(e *messages.Envelope) bool {
		return e.GetDepartmentView() != nil && !e.GetDepartmentView().GetOnline() && e.GetDepartmentView().GetWaitingCount() == 1
	})

	// Set bob's status: he is told, and the chat still waiting is offered.
	_, err = call(t, dana, &messages.Envelope{Body: &messages.Envelope_SetAgentStatus{SetAgentStatus: &messages.SetAgentStatus{AgentId: "bob", Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}})
	wantCode(t, "status by a non-manager", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	mustCall(t, mia, &messages.Envelope{Body: &messages.Envelope_SetAgentStatus{SetAgentStatus: &messages.SetAgentStatus{AgentId: "bob", Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}})
	st := await(t, bob, "managed status", func(e *messages.Envelope) bool {
		return e.GetAgentState().GetStatus() == messages.AgentStatus_AGENT_STATUS_AVAILABLE
	}).GetAgentState()
	if !strings.Contains(st.GetReason(), "Mia") {
		t.Fatalf("bob's state: %v", st)
	}
	if o := awaitOffer(t, bob); o.GetChatId() != waiting {
		t.Fatalf("offered %v", o)
	}
	mustCall(t, bob, &messages.Envelope{Body: &messages.Envelope_DeclineOffer{DeclineOffer: &messages.DeclineOffer{ChatId: waiting}}})
	list := mustCall(t, bob, &messages.Envelope{Body: &messages.Envelope_ListWaiting{ListWaiting: &messages.ListWaiting{Department: "support"}}}).GetWaitingList()
	if list.GetOnline() || len(list.GetChats()) != 1 || len(list.GetUnanswered()) != 1 || list.GetUnanswered()[0].GetChatId() != waiting {
		t.Fatalf("bob's lists after declining: %v", list)
	}
	// Selecting a waiting chat takes it (once its decline cool-down
	// passes it is offered again; picking is at once).
	mustCall(t, mia, &messages.Envelope{Body: &messages.Envelope_SetQueueOnline{SetQueueOnline: &messages.SetQueueOnline{Department: "support", Online: true}}})
	await(t, bob, "back online", func(e *messages.Envelope) bool { return e.GetQueueState().GetOnline() })
	if _, err := call(t, bob, &messages.Envelope{Body: &messages.Envelope_PickChat{PickChat: &messages.PickChat{Department: "support", ChatId: waiting}}}); err != nil {
		// The cool-down may have ended and an offer be out: accept it.
		accept(t, bob, awaitOffer(t, bob).GetChatId())
	}
	list = mustCall(t, bob, &messages.Envelope{Body: &messages.Envelope_ListWaiting{ListWaiting: &messages.ListWaiting{Department: "support"}}}).GetWaitingList()
	if !list.GetOnline() || len(list.GetChats()) != 0 || len(list.GetAnswered()) != 1 || list.GetAnswered()[0].GetChatId() != waiting {
		t.Fatalf("bob's lists after taking it: %v", list)
	}
	mustChatID(t, requestChat(t, v2, "support", "en", "online again"))
	// The lists are kept across a restart of the agent's actor.
	_, w := newAgent(t, addr, "bob@demo", "bob-demo-pw", false)
	if w.GetState().GetReason() == "" {
		t.Fatalf("bob's reason is lost: %v", w.GetState())
	}
}

// The estimated wait: no estimate with nobody available; then each place
// is worth the mean handling time divided by the agents' capacity, with
// the default (3 minutes) until chats have closed, then the recent mean.
func TestWaitEstimate(t *testing.T) {
	m, clock := startGraceBroker(t)
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/agents/alice", map[string]any{"login": "alice@demo", "password": "alice-demo-pw",
		"display_name": "Alice", "departments": []string{"sales"}, "languages": []string{"en"}, "chat_agent": true, "max_chats": 1})
	v1, _ := newVisitor(t, addr, false)
	chat1 := mustChatID(t, requestChat(t, v1, "sales", "en", ""))
	q := await(t, v1, "no estimate", func(e *messages.Envelope) bool { return e.GetQueueUpdate() != nil }).GetQueueUpdate()
	if !q.GetNoEstimate() {
		t.Fatalf("with nobody available: %v", q)
	}
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	accept(t, alice, awaitOffer(t, alice).GetChatId())
	v2, _ := newVisitor(t, addr, false)
	mustChatID(t, requestChat(t, v2, "sales", "en", ""))
	q = await(t, v2, "the default estimate", func(e *messages.Envelope) bool { return e.GetQueueUpdate() != nil }).GetQueueUpdate()
	if q.GetNoEstimate() || q.GetEstimatedWaitMs() != actors.DefaultHandlingTime.Milliseconds() {
		t.Fatalf("one place behind a full agent, no history: %v", q)
	}
	clock.Advance(40 * time.Second)
	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat1}}})
	accept(t, alice, awaitOffer(t, alice).GetChatId())
	v3, _ := newVisitor(t, addr, false)
	mustChatID(t, requestChat(t, v3, "sales", "en", ""))
	v4, _ := newVisitor(t, addr, false)
	mustChatID(t, requestChat(t, v4, "sales", "en", ""))
	q = await(t, v4, "the second place", func(e *messages.Envelope) bool { return e.GetQueueUpdate().GetPosition() == 2 }).GetQueueUpdate()
	if q.GetEstimatedWaitMs() != (80 * time.Second).Milliseconds() {
		t.Fatalf("second place behind a full agent, mean handling 40 s: %v", q)
	}
}

// Across a restart: guests, watchers and invitations come back; a
// transferred chat still waits at the head of its queue for its colleague;
// the visitor still sees none of the staff-only part.
func TestWorkingTogetherAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	m := startBroker(t, dir)
	addr := m.Addr()
	addLeads(t, addr)
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	carmen, _ := newAgent(t, addr, "carmen@demo", "carmen-demo-pw", false)
	dana, _ := newAgent(t, addr, "dana@demo", "dana-demo-pw", false)
	_, vw, chat := takeChat(t, addr, alice, "sales", "one")
	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_InviteAgent{InviteAgent: &messages.InviteAgent{ChatId: chat, AgentId: "carmen"}}})
	mustCall(t, carmen, &messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat}}})
	mustCall(t, dana, &messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat, Invisible: true}}})
	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_InviteAgent{InviteAgent: &messages.InviteAgent{ChatId: chat, AgentId: "bob"}}})
	_, _, chat2 := takeChat(t, addr, alice, "sales", "two")
	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_TransferChat{TransferChat: &messages.TransferChat{ChatId: chat2, ToAgent: "bob"}}})
	v3, _ := newVisitor(t, addr, false)
	chat3 := mustChatID(t, requestChat(t, v3, "support", "en", "waiting in support"))
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	m = startBroker(t, dir)
	addr = m.Addr()
	has := func(w *messages.Welcome, chat string) *messages.ChatSummary {
		for _, s := range w.GetChats() {
			if s.GetChatId() == chat {
				return s
			}
		}
		return nil
	}
	_, cw := newAgent(t, addr, "carmen@demo", "carmen-demo-pw", false)
	_, dw := newAgent(t, addr, "dana@demo", "dana-demo-pw", false)
	s := has(dw, chat)
	if has(cw, chat) == nil || s == nil || len(s.GetGuests()) != 1 || len(s.GetWatchers()) != 1 || len(s.GetInvited()) != 1 {
		t.Fatalf("after restart carmen has %v, dana %v", cw.GetChats(), dw.GetChats())
	}
	v := dial(t, addr, "visitor", false)
	w, err := v.Hello(ctxT(t), &messages.Hello{ResumeToken: vw.GetResumeToken()})
	if err != nil || has(w, chat) == nil || len(has(w, chat).GetWatchers()) != 0 || len(has(w, chat).GetInvited()) != 0 || len(has(w, chat).GetGuests()) != 1 {
		t.Fatalf("the visitor's welcome after restart: %v %v", w, err)
	}
	bob, bw := newAgent(t, addr, "bob@demo", "bob-demo-pw", false)
	if len(bw.GetInvitations()) != 1 || bw.GetInvitations()[0].GetChatId() != chat {
		t.Fatalf("bob's invitations after restart: %v", bw.GetInvitations())
	}
	setStatus(t, bob, messages.AgentStatus_AGENT_STATUS_AVAILABLE)
	if o := awaitOffer(t, bob); o.GetChatId() != chat2 {
		t.Fatalf("bob was offered %s first, want the transfer %s (not %s)", o.GetChatId(), chat2, chat3)
	}
}
