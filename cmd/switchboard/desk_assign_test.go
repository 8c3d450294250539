package main

import (
	"testing"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// dispatchDesk makes sales a manual-pickup department that dana
// supervises, with the lead role given chats.assign.
func dispatchDesk(t *testing.T, addr string) {
	t.Helper()
	addLeads(t, addr)
	mustAdmin(t, addr, "PUT", "/admin/roles/lead", map[string]any{"name": "Lead", "permissions": []actors.Permission{
		actors.PermLiveChat, actors.PermViewChats, actors.PermSupervise, actors.PermManageQueues, actors.PermAssign}})
	mustAdmin(t, addr, "PUT", "/admin/departments/sales", map[string]any{"name": "Sales", "chat_enabled": true,
		"policy": "ROUTING_POLICY_MANUAL", "supervisors": []string{"dana"}})
}

func assignEnv(chat, agent string) *messages.Envelope {
	return &messages.Envelope{Body: &messages.Envelope_AssignWaiting{AssignWaiting: &messages.AssignWaiting{Department: "sales", ChatId: chat, AgentId: agent}}}
}

// A supervisor hands a waiting chat to a chosen agent: offered to them
// (saying by whom), and theirs once accepted. Declined, it is back at the
// head of the line. Someone who neither supervises nor manages the
// department, or lacks chats.assign, is refused; so is an agent who is
// not available.
func TestSupervisorAssigns(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	dispatchDesk(t, addr)
	dana, _ := newAgent(t, addr, "dana@demo", "dana-demo-pw", false)
	mia, _ := newAgent(t, addr, "mia@demo", "mia-demo-pw", false)
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	newAgent(t, addr, "carmen@demo", "carmen-demo-pw", false) // connected, away
	v1, _ := newVisitor(t, addr, false)
	first := mustChatID(t, requestChat(t, v1, "sales", "en", "first"))
	v2, _ := newVisitor(t, addr, false)
	second := mustChatID(t, requestChat(t, v2, "sales", "en", "second"))
	inLine(t, alice, first, second)

	_, err := call(t, mia, assignEnv(first, "alice"))
	wantCode(t, "an assignment by a manager of another department", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	_, err = call(t, alice, assignEnv(first, "alice"))
	wantCode(t, "an assignment without chats.assign", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	_, err = call(t, dana, assignEnv(first, "carmen"))
	wantCode(t, "an assignment to an agent who is away", err, messages.ErrorCode_ERROR_CODE_CONFLICT)

	mustCall(t, dana, assignEnv(second, "alice"))
	o := awaitOffer(t, alice)
	if o.GetChatId() != second || o.GetAssignedBy() != "Dana" {
		t.Fatalf("alice was offered %v", o)
	}
	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_DeclineOffer{DeclineOffer: &messages.DeclineOffer{ChatId: second}}})
	inLine(t, alice, second, first) // the declined chat goes to the head of the line
	mustCall(t, dana, assignEnv(first, "alice"))
	if o := awaitOffer(t, alice); o.GetChatId() != first {
		t.Fatalf("alice was offered %v", o)
	}
	accept(t, alice, first)
	awaitEvent(t, v1, first, func(ev *messages.ChatEvent) bool { return ev.GetAssigned() != nil })
	eventually(t, "the assignments in the audit log", func() bool { return auditKinds(t, addr, "")["chat.assign"] == 2 })
}

// A supervisor's assignment races an agent's own pick of the same chat:
// exactly one of them wins, every time, and the chat ends with exactly one
// agent.
func TestSupervisorAssignmentRacesPick(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	dispatchDesk(t, addr)
	dana, _ := newAgent(t, addr, "dana@demo", "dana-demo-pw", false)
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	carmen, _ := newAgent(t, addr, "carmen@demo", "carmen-demo-pw", true)
	picks, assigns := 0, 0
	for round := 0; round < 6; round++ {
		v, _ := newVisitor(t, addr, false)
		chat := mustChatID(t, requestChat(t, v, "sales", "en", "race"))
		inLine(t, carmen, chat)
		pickErr, assignErr := make(chan error, 1), make(chan error, 1)
		go func() { _, err := carmen.Call(ctxT(t), pickEnv(chat)); pickErr <- err }()
		go func() { _, err := dana.Call(ctxT(t), assignEnv(chat, "alice")); assignErr <- err }()
		pe, ae := <-pickErr, <-assignErr
		switch {
		case pe == nil && errCode(ae) == messages.ErrorCode_ERROR_CODE_CONFLICT:
			picks++
			awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetAssigned().GetAgentId() != "" })
		case ae == nil && errCode(pe) == messages.ErrorCode_ERROR_CODE_CONFLICT:
			assigns++
			if o := awaitOffer(t, alice); o.GetChatId() != chat {
				t.Fatalf("round %d: alice was offered %v", round, o)
			}
			accept(t, alice, chat)
		default:
			t.Fatalf("round %d: pick %v, assignment %v: want exactly one to win", round, pe, ae)
		}
		rec, _ := m.broker.ChatRecord(chat)
		if n := assignedCount(rec); n != 1 || rec.GetState() != messages.ChatState_CHAT_STATE_ACTIVE {
			t.Fatalf("round %d: %d assignments, state %v", round, n, rec.GetState())
		}
		winner := alice
		if rec.GetParticipants()[1].GetId() == "carmen" {
			winner = carmen
		}
		closeChat(t, v, chat)
		// The winner's actor let go of it (its slot is free for the next
		// round) once its console is told the chat closed.
		await(t, winner, "the closed chat", func(e *messages.Envelope) bool {
			return e.GetChat().GetChatId() == chat && e.GetChat().GetState() == messages.ChatState_CHAT_STATE_CLOSED
		})
	}
	t.Logf("picks won %d, assignments won %d", picks, assigns)
}

// inLine waits until the sales line is exactly chats, in order, as c
// sees it: a visitor's ack comes before their chat joins the line.
func inLine(t *testing.T, c *gateway.Client, chats ...string) {
	t.Helper()
	eventually(t, "the chats in line", func() bool {
		list := mustCall(t, c, &messages.Envelope{Body: &messages.Envelope_ListWaiting{ListWaiting: &messages.ListWaiting{Department: "sales"}}}).GetWaitingList()
		if len(list.GetChats()) != len(chats) {
			return false
		}
		for i, s := range list.GetChats() {
			if s.GetChatId() != chats[i] {
				return false
			}
		}
		return true
	})
}

func pickEnv(chat string) *messages.Envelope {
	return &messages.Envelope{Body: &messages.Envelope_PickChat{PickChat: &messages.PickChat{Department: "sales", ChatId: chat}}}
}

func assignedCount(rec *messages.ChatRecord) int {
	n := 0
	for _, ev := range rec.GetTranscript() {
		if ev.GetAssigned() != nil {
			n++
		}
	}
	return n
}
