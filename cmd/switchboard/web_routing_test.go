package main

import (
	"fmt"
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// TestWebRoutingWhyHereAndWhyWaiting: in the console, the Routing section
// of Alice's chat says why it came to her (chosen; Carmen away), and the
// supervisor's monitor says why a Spanish chat still waits, on the line
// under the head of the line (the push's head_routing) and in the
// chat's "Why?" section (GET /api/chats/{id}/routing's now).
func TestWebRoutingWhyHereAndWhyWaiting(t *testing.T) {
	m := startBroker(t, t.TempDir())
	base := "http://" + m.Addr()
	carmen, _ := newAgent(t, m.Addr(), "carmen@demo", "carmen-demo-pw", false)
	setStatus(t, carmen, messages.AgentStatus_AGENT_STATUS_AWAY)
	alice := consoleLogin(t, base, "alice@demo", "alice-demo-pw")
	alice.setAvailable()
	_, chat := visitorChat(t, m.Addr(), "sales", "Ann", "Where is my order?")
	alice.click(fmt.Sprintf(`.offer[data-chat=%q] .accept`, chat))
	routing := paneSel(chat) + " .routing-info"
	alice.click(routing + " summary")
	alice.wait("why here", fmt.Sprintf(`document.querySelector(%q)?.textContent.includes("Assigned to alice")`, routing+" .why-here"))
	kinds := eval[[]string](alice, fmt.Sprintf(`[...document.querySelectorAll(%q)].map(li => li.dataset.kind)`, routing+" .decision"))
	if fmt.Sprint(kinds) != "[queued offered assigned]" {
		t.Fatalf("why here lists %v, want queued offered assigned", kinds)
	}
	reasons := eval[map[string]string](alice, fmt.Sprintf(`Object.fromEntries([...document.querySelectorAll(%q)].map(li =>
		[li.dataset.agent, li.querySelector(".why").textContent]))`, routing+` .decision[data-kind="offered"] .candidate`))
	if reasons["alice"] != "chosen" || reasons["carmen"] != "away or offline" || len(reasons) != 2 {
		t.Fatalf("the offer's candidates say %v", reasons)
	}
	alice.screenshot("routing-why-here")

	// A Spanish chat: Alice speaks English only, Carmen is away.
	v, _ := newVisitor(t, m.Addr(), true)
	waiting := mustChatID(t, mustCall(t, v, &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{
		Department: "sales", Language: "es", Name: "Bea", FirstMessage: "¿Hola?"}}}))
	words := "nobody can take it now: 1 away or offline, 1 not speaking the chat's language"
	dana := consoleLogin(t, base, "dana@demo", "dana-demo-pw")
	dana.click("#tab-monitor")
	head := fmt.Sprintf(`.card[data-dept="sales"] tr.head-routing[data-chat=%q]`, waiting)
	dana.wait("why the head of the line waits", fmt.Sprintf(`document.querySelector(%q)?.textContent.includes(%q)`, head, words))
	checkWhyWaiting(t, dana, head)
	row := fmt.Sprintf(`.card[data-dept="sales"] tr[data-chat=%q]:not(.head-routing):not(.routing-row)`, waiting)
	dana.click(row + " .why")
	section := fmt.Sprintf(`.card[data-dept="sales"] tr.routing-row[data-chat=%q]`, waiting)
	dana.wait("the chat's Why? section", fmt.Sprintf(`document.querySelector(%q)?.textContent.includes(%q)`, section+" .why-waiting", words))
	checkWhyWaiting(t, dana, section)
	dana.screenshot("routing-why-waiting")
}

// checkWhyWaiting: the "why still waiting" at sel lists Alice (not
// speaking Spanish) and Carmen (away), as text.
func checkWhyWaiting(t *testing.T, p *page, sel string) {
	t.Helper()
	reasons := eval[map[string]string](p, fmt.Sprintf(`Object.fromEntries([...document.querySelectorAll(%q)].map(li =>
		[li.dataset.agent, li.dataset.reason]))`, sel+" .candidate"))
	if reasons["alice"] != "language" || reasons["carmen"] != "away" || len(reasons) != 2 {
		t.Fatalf("%s: candidates %v, want alice language, carmen away", sel, reasons)
	}
}
