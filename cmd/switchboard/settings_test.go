package main

import (
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

func refusedWith(t *testing.T, env *messages.Envelope) *messages.ChatRefused {
	t.Helper()
	r := env.GetChatRefused()
	if r == nil {
		t.Fatalf("want a refusal, got %v", env)
	}
	return r
}

// The site-wide switch, a disabled language and department business hours
// each refuse new requests with a clear reason; chats already running go
// on. Outside business hours the visitor is told when the department
// opens.
func TestLiveChatSwitchLanguagesAndBusinessHours(t *testing.T) {
	clock := newFakeClock()
	stockholm, _ := time.LoadLocation("Europe/Stockholm")
	clock.now = time.Date(2030, 3, 23, 12, 0, 0, 0, stockholm) // a Saturday
	m := startBroker(t, t.TempDir(), func(c *Config) { c.Clock = clock })
	addr := m.Addr()
	bob, _ := newAgent(t, addr, "bob@demo", "bob-demo-pw", true)
	v, _ := newVisitor(t, addr, false)
	running := mustChatID(t, requestChat(t, v, "support", "es", ""))
	accept(t, bob, awaitOffer(t, bob).GetChatId())

	// The switch.
	mustAdmin(t, addr, "PUT", "/admin/settings", map[string]any{"live_chat_off": true})
	v2, _ := newVisitor(t, addr, false)
	if r := refusedWith(t, requestChat(t, v2, "sales", "en", "")); r.GetReason() != messages.RefusalReason_REFUSAL_REASON_LIVE_CHAT_OFF {
		t.Fatalf("with live chat off: %v", r)
	}
	send(t, v, running, "", "still talking")
	mustAdmin(t, addr, "PUT", "/admin/settings", map[string]any{"live_chat_off": false})

	// Spanish switched off.
	mustAdmin(t, addr, "PUT", "/admin/languages/es", map[string]any{"name": "Español", "chat_enabled": false})
	if r := refusedWith(t, requestChat(t, v2, "support", "es", "")); r.GetReason() != messages.RefusalReason_REFUSAL_REASON_LANGUAGE_NOT_OFFERED {
		t.Fatalf("with Spanish off: %v", r)
	}
	send(t, bob, running, "", "sigo aquí")

	// Business hours: weekdays 09:00-17:00 in Stockholm; it is Saturday.
	mustAdmin(t, addr, "PUT", "/admin/departments/sales", map[string]any{"name": "Sales", "chat_enabled": true,
		"time_zone": "Europe/Stockholm", "business_hours": []map[string]any{{"days": []int{1, 2, 3, 4, 5}, "start": "09:00", "end": "17:00"}}})
	r := refusedWith(t, requestChat(t, v2, "sales", "en", ""))
	monday := time.Date(2030, 3, 25, 9, 0, 0, 0, stockholm)
	if r.GetReason() != messages.RefusalReason_REFUSAL_REASON_OUTSIDE_BUSINESS_HOURS || r.GetOpensAtMs() != monday.UnixMilli() {
		t.Fatalf("on Saturday: %v; want it to open %v", r, monday)
	}
	clock.Advance(monday.Sub(clock.Now()) + 30*time.Minute)
	mustChatID(t, requestChat(t, v2, "sales", "en", ""))
}
