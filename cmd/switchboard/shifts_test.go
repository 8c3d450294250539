package main

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// Shifts drive presence: when a shift starts the broker makes the agent
// available and tells them; when it ends the agent drains (no new offers,
// the current chat goes on) and goes offline when the last chat closes.
func TestShiftsBringAgentsOnlineAndDrain(t *testing.T) {
	clock := newFakeClock()
	stockholm, _ := time.LoadLocation("Europe/Stockholm")
	clock.now = time.Date(2030, 3, 18, 8, 50, 0, 0, stockholm) // Monday, before the shift
	m := startBroker(t, t.TempDir(), func(c *Config) { c.Clock = clock })
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/agents/dave", map[string]any{"login": "dave@x", "password": "dave-password",
		"departments": []string{"sales"}, "languages": []string{"en"}, "chat_agent": true,
		"schedule": map[string]any{"time_zone": "Europe/Stockholm", "shifts": []map[string]any{{"days": []int{1, 2, 3, 4, 5}, "start": "09:00", "end": "17:00"}}}})
	dave, w := newAgent(t, addr, "dave@x", "dave-password", false)
	if w.GetState().GetStatus() != messages.AgentStatus_AGENT_STATUS_OFFLINE {
		t.Fatalf("before the shift: %v", w.GetState())
	}
	state := func(st messages.AgentStatus) *messages.AgentState {
		t.Helper()
		env, err := dave.Await(ctxT(t), func(e *messages.Envelope) bool { return e.GetAgentState().GetStatus() == st })
		if err != nil {
			t.Fatalf("no %v: %v", st, err)
		}
		return env.GetAgentState()
	}
	clock.Advance(10 * time.Minute) // 09:00
	if s := state(messages.AgentStatus_AGENT_STATUS_AVAILABLE); !strings.Contains(s.GetReason(), "shift started") {
		t.Fatalf("at 09:00: %v", s)
	}
	v, _ := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", ""))
	if o := awaitOffer(t, dave); o.GetChatId() != chat {
		t.Fatalf("dave offered %s", o.GetChatId())
	}
	accept(t, dave, chat)

	clock.Advance(8 * time.Hour) // 17:00
	if s := state(messages.AgentStatus_AGENT_STATUS_DRAINING); !strings.Contains(s.GetReason(), "shift ended") || s.GetActiveChats() != 1 {
		t.Fatalf("at 17:00: %v", s)
	}
	send(t, dave, chat, "", "let me finish this one")
	v2, _ := newVisitor(t, addr, false)
	later := mustChatID(t, requestChat(t, v2, "sales", "en", ""))
	list, err := dave.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_ListWaiting{ListWaiting: &messages.ListWaiting{Department: "sales"}}})
	if err != nil || len(list.GetWaitingList().GetChats()) != 1 || list.GetWaitingList().GetChats()[0].GetChatId() != later {
		t.Fatalf("a draining agent must get no new chat: %v, %v", list, err)
	}
	if _, err := dave.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}}); err != nil {
		t.Fatal(err)
	}
	state(messages.AgentStatus_AGENT_STATUS_OFFLINE)
}
