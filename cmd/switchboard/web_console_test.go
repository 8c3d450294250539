package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// consoleLogin opens the console at base and logs in; it returns once the
// desk is connected.
func consoleLogin(t *testing.T, base, login, password string) *page {
	t.Helper()
	p := newPage(t)
	p.navigate(base + "/")
	p.typeIn("#login", login, false)
	p.typeIn("#password", password, true)
	p.wait("the desk to connect", `document.body.dataset.conn === "open"`)
	return p
}

// setAvailable picks "available" in the console's status menu and waits
// until the broker confirmed it.
func (p *page) setAvailable() {
	p.t.Helper()
	eval[bool](p, `(() => { const s = document.querySelector("#status"); s.value = "AGENT_STATUS_AVAILABLE";
		s.dispatchEvent(new Event("change")); return true; })()`)
	p.wait("status available", `document.querySelector("#status").dataset.status === "available"`)
}

// paneSel is the CSS selector of a chat's pane in the console.
func paneSel(chat string) string { return fmt.Sprintf(`.pane[data-chat=%q]`, chat) }

// paneLines returns the texts of a chat pane's transcript lines.
func (p *page) paneLines(chat string) []string {
	p.t.Helper()
	return eval[[]string](p, fmt.Sprintf(`[...document.querySelectorAll(%q)].map(li => li.querySelector(".text").textContent)`,
		paneSel(chat)+" .transcript .line"))
}

// visitorChat starts a visitor (a Go client) asking dept for a chat.
func visitorChat(t *testing.T, addr, dept, name, first string) (*gateway.Client, string) {
	t.Helper()
	v, _ := newVisitor(t, addr, true)
	env, err := v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{
		Department: dept, Language: "en", Name: name, FirstMessage: first}}})
	if err != nil {
		t.Fatal(err)
	}
	return v, mustChatID(t, env)
}

// TestWebConsoleThreeChats: an agent with three chats at once in the
// console; each reply lands in its own chat, offers are accepted from the
// console, and the visitors' lines show in the right panes.
func TestWebConsoleThreeChats(t *testing.T) {
	m := startBroker(t, t.TempDir())
	base := "http://" + m.Addr()
	p := consoleLogin(t, base, "alice@demo", "alice-demo-pw")
	p.setAvailable()

	var chats []string
	var visitors []*gateway.Client
	for i, name := range []string{"Ann", "Ben", "Cid"} {
		v, chat := visitorChat(t, m.Addr(), "sales", name, fmt.Sprintf("question %d from %s", i, name))
		visitors, chats = append(visitors, v), append(chats, chat)
		offer := fmt.Sprintf(`.offer[data-chat=%q] .accept`, chat)
		p.click(offer)
		p.wait("the pane of "+name, fmt.Sprintf(`document.querySelector(%q)`, paneSel(chat)+` .line[data-seq="3"]`))
	}
	if got := p.text("#load"); got != "3/3 chats" {
		t.Fatalf("load = %q, want 3/3 chats", got)
	}
	// Reply in each pane, in an order unlike the panes' order.
	for _, i := range []int{2, 0, 1} {
		p.typeIn(paneSel(chats[i])+" .compose", fmt.Sprintf("reply to chat %d", i), true)
	}
	for i, chat := range chats {
		want := fmt.Sprintf("reply to chat %d", i)
		ev := awaitEvent(t, visitors[i], chat, func(e *messages.ChatEvent) bool {
			return e.GetMessage() != nil && e.GetMessage().GetFrom().GetKind() == messages.ParticipantKind_PARTICIPANT_KIND_AGENT
		})
		if got := ev.GetMessage().GetText(); got != want {
			t.Fatalf("visitor %d got %q, want %q", i, got, want)
		}
		p.wait("the stored reply in chat "+fmt.Sprint(i), fmt.Sprintf(`[...document.querySelectorAll(%q)].some(li => li.dataset.state === "stored" && li.textContent.includes(%q))`,
			paneSel(chat)+" .line.own", want))
	}
	// A visitor's line lands in their pane only.
	send(t, visitors[1], chats[1], "b-1", "thanks from Ben")
	p.wait("Ben's line", fmt.Sprintf(`document.querySelector(%q).textContent.includes("thanks from Ben")`, paneSel(chats[1])+" .transcript"))
	for i, chat := range chats {
		lines := strings.Join(p.paneLines(chat), "|")
		for j := range chats {
			if mine := strings.Contains(lines, fmt.Sprintf("reply to chat %d", j)); mine != (i == j) {
				t.Fatalf("pane %d holds %q", i, lines)
			}
		}
		if strings.Contains(lines, "thanks from Ben") != (i == 1) {
			t.Fatalf("pane %d holds %q", i, lines)
		}
	}
	p.screenshot("console-three-chats")
}
