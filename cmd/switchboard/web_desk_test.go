package main

import (
	"fmt"
	"testing"
)

// TestWebSupervisorAssigns: in a manual-pickup department, a supervisor
// (Dana) picks "Assign to… Alice" on a waiting chat in the console's
// monitor; Alice's console shows the offer, saying who assigned it, and
// she takes it.
func TestWebSupervisorAssigns(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	base := "http://" + addr
	mustAdmin(t, addr, "PUT", "/admin/departments/sales", map[string]any{"name": "Sales", "chat_enabled": true, "policy": "ROUTING_POLICY_MANUAL"})
	alice := consoleLogin(t, base, "alice@demo", "alice-demo-pw")
	alice.setAvailable()
	_, chat := visitorChat(t, addr, "sales", "Ann", "Who can help me?")

	dana := consoleLogin(t, base, "dana@demo", "dana-demo-pw")
	dana.click("#tab-monitor")
	row := fmt.Sprintf(`.card[data-dept="sales"] .waiting tr[data-chat=%q]`, chat)
	dana.wait("Alice among those the chat can go to", fmt.Sprintf(`[...document.querySelectorAll(%q)].some(o => o.value === "alice")`, row+" select.assign option"))
	dana.screenshot("supervisor-assign")
	eval[bool](dana, fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = "alice"; s.dispatchEvent(new Event("change")); return true })()`, row+" select.assign"))
	dana.wait("the assignment said", `document.querySelector("#banner").textContent.includes("Offered to Alice")`)

	offer := fmt.Sprintf(`.offer[data-chat=%q]`, chat)
	alice.wait("the assigned offer", fmt.Sprintf(`document.querySelector(%q) && document.querySelector(%q).textContent.includes("Assigned to you by Dana")`, offer, offer))
	alice.click(offer + " .accept")
	alice.wait("the pane", fmt.Sprintf(`document.querySelector(%q)?.dataset.role === "agent"`, paneSel(chat)))
	dana.wait("the chat handled by Alice", fmt.Sprintf(`document.querySelector(%q) && document.querySelector(%q).textContent.includes("Alice")`,
		`.card[data-dept="sales"] .active tr[data-chat="`+chat+`"]`, `.card[data-dept="sales"] .active tr[data-chat="`+chat+`"]`))
}

// TestWebReopen: Alice closes a chat and reopens it from its pane: it
// comes back to her as an offer, and the visitor's widget shows it open
// again. Then the visitor closes it, comes back (a reload: the widget's
// resume token) and continues the last conversation with its button:
// the transcript is there, and Alice gets the chat again.
func TestWebReopen(t *testing.T) {
	m := startBroker(t, t.TempDir())
	base := "http://" + m.Addr()
	alice, p, w, chat := widgetChat(t, m.Addr(), "Rita", "line 1 from Rita")
	shop := eval[string](p, `location.origin`)
	alice.typeIn(paneSel(chat)+" .compose", "line 2 from Alice", true)
	w.wait("Alice's line", `document.querySelector(".line.theirs")`)

	alice.click(paneSel(chat) + " .close-chat")
	alice.wait("the reopen button", fmt.Sprintf(`document.querySelector(%q) && !document.querySelector(%q).hidden`, paneSel(chat)+" .reopen", paneSel(chat)+" .reopen"))
	w.wait("the chat ended", `document.querySelector(".chat .again")`)
	alice.click(paneSel(chat) + " .reopen")
	offer := fmt.Sprintf(`.offer[data-chat=%q]`, chat)
	alice.wait("the offer of the reopened chat", fmt.Sprintf(`document.querySelector(%q)`, offer+" .accept"))
	alice.click(offer + " .accept")
	alice.wait("the chat hers again", fmt.Sprintf(`document.querySelector(%q)?.dataset.ended === "false"`, paneSel(chat)))
	w.wait("the widget open again", `document.querySelector(".transcript").textContent.includes("The chat is open again.") && document.querySelector("#compose")`)
	w.typeIn("#compose", "line 3 from Rita", true)
	alice.wait("Rita's line after the reopen", fmt.Sprintf(`document.querySelector(%q).textContent.includes("line 3 from Rita")`, paneSel(chat)+" .transcript"))

	// The visitor ends it, reloads, and continues it.
	w.click(".chat .end")
	w.wait("the chat ended", `document.querySelector(".chat .again")`)
	p.navigate(shop + "/")
	w = p.frame(base + "/widget/")
	if eval[bool](w, `document.querySelector("#panel").hidden`) {
		w.click("#launcher")
	}
	w.wait("the continue button", `document.querySelector(".continue")`)
	p.screenshot("widget-continue")
	w.click(".continue")
	w.wait("the transcript back", `[...document.querySelectorAll(".transcript .line.message .text")].map(e => e.textContent).join("|") === "line 1 from Rita|line 2 from Alice|line 3 from Rita"`)
	w.wait("the composer", `document.querySelector("#compose")`)
	alice.wait("the offer of the continued chat", fmt.Sprintf(`document.querySelector(%q)`, offer+" .accept"))
	alice.click(offer + " .accept")
	w.typeIn("#compose", "line 4 from Rita", true)
	alice.wait("Rita's line in the continued chat", fmt.Sprintf(`document.querySelector(%q).textContent.includes("line 4 from Rita")`, paneSel(chat)+" .transcript"))
}
