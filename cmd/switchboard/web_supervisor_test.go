package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestWebSupervisorWatchWhisperTakeOver: a supervisor (Dana) sees the
// department live in the console's monitor, watches Alice's chat
// invisibly, whispers to her and takes the chat over. The visitor sees
// neither the watcher nor the whisper, and after the take-over sees Dana's
// name; Alice is told the chat was taken.
func TestWebSupervisorWatchWhisperTakeOver(t *testing.T) {
	m := startBroker(t, t.TempDir())
	base := "http://" + m.Addr()
	alice, shopPage, w, chat := widgetChat(t, m.Addr(), "Ann", "Where is my order?")
	alice.typeIn(paneSel(chat)+" .compose", "Let me check.", true)
	w.wait("Alice's line", `document.querySelector(".transcript").textContent.includes("Let me check.")`)

	dana := consoleLogin(t, base, "dana@demo", "dana-demo-pw")
	dana.click("#tab-monitor")
	row := fmt.Sprintf(`.card[data-dept="sales"] tr[data-chat=%q]`, chat)
	dana.wait("the chat in the monitor", fmt.Sprintf(`document.querySelector(%q) && document.querySelector(%q).textContent.includes("Alice")`, row, row))
	dana.wait("Alice's load", `[...document.querySelectorAll('.card[data-dept="sales"] tr[data-agent="alice"]')].some(tr => tr.textContent.includes("1/3"))`)
	// The live figures head the card: nobody waits, Alice is available
	// with one chat, Carmen (not signed in, known to the queue) offline.
	salesFigures := map[string]string{"waiting": "0", "longest-wait": "–", "in-progress": "1", "available": "1", "away": "0", "draining": "0", "offline": "1"}
	waitFigures(dana, "sales", salesFigures)
	// A visitor waits in support, where nobody is signed in: the longest
	// wait counts on between pushes.
	v, _ := newVisitor(t, m.Addr(), false)
	mustChatID(t, requestChat(t, v, "support", "en", "anyone there?"))
	waitFigures(dana, "support", map[string]string{"waiting": "1", "in-progress": "0", "available": "0"})
	dana.wait("the longest wait in support counting", `/^[1-9][0-9]* s$/.test(document.querySelector('.card[data-dept="support"] [data-figure="longest-wait"] .value').textContent)`)
	dana.screenshot("supervisor-monitor")

	dana.click(row + " .watch")
	dana.wait("the watched chat's pane", fmt.Sprintf(`document.querySelector(%q)?.dataset.role === "watcher"`, paneSel(chat)))
	alice.wait("the invisible join, internal", fmt.Sprintf(`[...document.querySelectorAll(%q)].some(li => li.textContent.includes("Dana joined invisibly"))`,
		paneSel(chat)+" .line.internal"))
	dana.typeIn(paneSel(chat)+" .compose", "Offer the discount", true)
	alice.wait("the whisper, internal", fmt.Sprintf(`[...document.querySelectorAll(%q)].some(li => li.textContent.includes("Offer the discount"))`,
		paneSel(chat)+" .line.internal"))
	alice.typeIn(paneSel(chat)+" .compose", "Here is 10% off.", true)
	// The visitor's page got Alice's line after the whisper, and shows
	// nothing of Dana: not the watcher, not the whisper.
	w.wait("Alice's next line", `document.querySelector(".transcript").textContent.includes("Here is 10% off.")`)
	if body := eval[string](w, `document.body.textContent`); strings.Contains(body, "Dana") || strings.Contains(body, "discount") {
		t.Fatalf("the visitor's page shows the supervisor: %q", body)
	}
	dana.screenshot("supervisor-whisper")

	dana.click("#tab-monitor")
	dana.click(row + " .takeover")
	w.wait("Dana's name on the visitor's page", `document.querySelector(".head .sub").textContent.includes("Dana")`)
	alice.wait("Alice told the chat was taken", fmt.Sprintf(`document.querySelector(%q).dataset.ended === "true" &&
		document.querySelector(%q).textContent.includes("Dana joined the chat (took over the chat)")`, paneSel(chat), paneSel(chat)))
	dana.wait("Dana owns the chat", fmt.Sprintf(`document.querySelector(%q)?.dataset.role === "agent"`, paneSel(chat)))
	dana.typeIn(paneSel(chat)+" .compose", "Dana here, I will finish this.", true)
	w.wait("Dana's line", `document.querySelector(".transcript").textContent.includes("Dana here, I will finish this.")`)
	if body := eval[string](w, `document.body.textContent`); strings.Contains(body, "discount") || strings.Contains(body, "invisibly") {
		t.Fatalf("the visitor's page shows an internal event: %q", body)
	}
	shopPage.screenshot("widget-after-take-over")
	alice.screenshot("supervisor-taken-over-agent-view")

	// A manager sets the queue offline and an agent's status from the
	// monitor; the agent is told, by whom.
	dana.click("#tab-monitor")
	dana.click(`.card[data-dept="sales"] .queue-toggle`)
	alice.wait("the queue offline, said", `document.querySelector("#banner").textContent.includes("The sales queue is now offline (set by Dana)")`)
	dana.wait("the card says offline", `document.querySelector('.card[data-dept="sales"] .pill').textContent === "offline"`)
	eval[bool](dana, `(() => { const s = document.querySelector('.card[data-dept="sales"] tr[data-agent="alice"] .agent-status');
		s.value = "AGENT_STATUS_AWAY"; s.dispatchEvent(new Event("change")); return true })()`)
	alice.wait("Alice away, and why", `document.querySelector("#status").dataset.status === "away" && document.querySelector("#reason").textContent.includes("Dana")`)
	// The pushes keep the figures: the chat is Dana's now (she is no
	// sales agent), and Alice is away.
	salesFigures["available"], salesFigures["away"] = "0", "1"
	waitFigures(dana, "sales", salesFigures)
}

// waitFigures waits until the monitor's card of dept shows want (figure
// name -> value) in its live figures, first in the card.
func waitFigures(p *page, dept string, want map[string]string) {
	p.t.Helper()
	js, _ := json.Marshal(want)
	p.wait(fmt.Sprintf("the live figures of %s: %s", dept, js), fmt.Sprintf(`(() => {
		const card = document.querySelector('.card[data-dept=%q]');
		const box = card && card.querySelector('.live-figures');
		if (!box || card.children[1] !== box) return false;
		return Object.entries(%s).every(([k, v]) => box.querySelector('[data-figure="' + k + '"] .value')?.textContent === v);
	})()`, dept, js))
}
