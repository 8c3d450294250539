package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// TestWebSupervisorWatchWhisperTakeOver: a supervisor (Dana) sees the
// department live in the console's monitor, watches Alice's chat
// invisibly, whispers to her and takes the chat over. The visitor sees
// neither the watcher nor the whisper, and after the take-over sees Dana's
// name; Alice is told the chat was taken.
func TestWebSupervisorWatchWhisperTakeOver(t *testing.T) {
	m := startBroker(t, t.TempDir())
	base := "http://" + m.Addr()
	alice := consoleLogin(t, base, "alice@demo", "alice-demo-pw")
	alice.setAvailable()
	v, chat := visitorChat(t, m.Addr(), "sales", "Ann", "Where is my order?")
	alice.click(fmt.Sprintf(`.offer[data-chat=%q] .accept`, chat))
	alice.typeIn(paneSel(chat)+" .compose", "Let me check.", true)

	dana := consoleLogin(t, base, "dana@demo", "dana-demo-pw")
	dana.click("#tab-monitor")
	row := fmt.Sprintf(`.card[data-dept="sales"] tr[data-chat=%q]`, chat)
	dana.wait("the chat in the monitor", fmt.Sprintf(`document.querySelector(%q) && document.querySelector(%q).textContent.includes("Alice")`, row, row))
	dana.wait("Alice's load", `[...document.querySelectorAll('.card[data-dept="sales"] tr[data-agent="alice"]')].some(tr => tr.textContent.includes("1/3"))`)
	dana.screenshot("supervisor-monitor")

	dana.click(row + " .watch")
	dana.wait("the watched chat's pane", fmt.Sprintf(`document.querySelector(%q)?.dataset.role === "watcher"`, paneSel(chat)))
	alice.wait("the invisible join, internal", fmt.Sprintf(`[...document.querySelectorAll(%q)].some(li => li.textContent.includes("Dana joined invisibly"))`,
		paneSel(chat)+" .line.internal"))
	dana.typeIn(paneSel(chat)+" .compose", "Offer the discount", true)
	alice.wait("the whisper, internal", fmt.Sprintf(`[...document.querySelectorAll(%q)].some(li => li.textContent.includes("Offer the discount"))`,
		paneSel(chat)+" .line.internal"))
	alice.typeIn(paneSel(chat)+" .compose", "Here is 10% off.", true)
	// What the visitor got up to Alice's visible line: nothing of Dana.
	ev := awaitEvent(t, v, chat, func(e *messages.ChatEvent) bool { return e.GetMessage().GetText() == "Here is 10% off." })
	if ev.GetInternal() {
		t.Fatal("a visible line reached the visitor as internal")
	}
	dana.screenshot("supervisor-whisper")

	dana.click("#tab-monitor")
	dana.click(row + " .takeover")
	assigned := awaitEvent(t, v, chat, func(e *messages.ChatEvent) bool {
		return e.GetAssigned().GetHow() == messages.AssignHow_ASSIGN_HOW_TAKEN_OVER
	})
	if got := assigned.GetAssigned().GetAgentName(); got != "Dana" {
		t.Fatalf("the visitor sees %q after the take-over, want Dana", got)
	}
	alice.wait("Alice told the chat was taken", fmt.Sprintf(`document.querySelector(%q).dataset.ended === "true" &&
		document.querySelector(%q).textContent.includes("Dana joined the chat (took over the chat)")`, paneSel(chat), paneSel(chat)))
	dana.wait("Dana owns the chat", fmt.Sprintf(`document.querySelector(%q)?.dataset.role === "agent"`, paneSel(chat)))
	dana.typeIn(paneSel(chat)+" .compose", "Dana here, I will finish this.", true)
	awaitEvent(t, v, chat, func(e *messages.ChatEvent) bool { return e.GetMessage().GetText() == "Dana here, I will finish this." })

	// Nothing the visitor received names the watcher or carries the
	// whisper, and no internal event reached them.
	for _, e := range eventsSoFar(t, v, chat, "Dana here, I will finish this.") {
		if e.GetInternal() || strings.Contains(e.String(), "Offer the discount") || (e.GetMember() != nil && e.GetMember().GetInvisible()) {
			t.Fatalf("the visitor received %v", e)
		}
	}
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
}

// eventsSoFar replays a chat to the visitor from the start and returns
// every event up to (and with) the message last.
func eventsSoFar(t *testing.T, v *gateway.Client, chat, last string) []*messages.ChatEvent {
	t.Helper()
	if _, err := v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_Resume{Resume: &messages.Resume{ChatId: chat}}}); err != nil {
		t.Fatal(err)
	}
	var out []*messages.ChatEvent
	for {
		e := awaitEvent(t, v, chat, func(*messages.ChatEvent) bool { return true })
		out = append(out, e)
		if e.GetMessage().GetText() == last {
			return out
		}
	}
}
