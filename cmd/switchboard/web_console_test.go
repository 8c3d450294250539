package main

import (
	"fmt"
	"net/http"
	"slices"
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
	// What the first load transferred (gzipped, headers included).
	loaded := eval[int](p, `[...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]
		.reduce((n, e) => n + e.transferSize, 0)`)
	t.Logf("the console's first load transferred %d bytes", loaded)
	if loaded == 0 || loaded > 200<<10 {
		t.Fatalf("the console's first load transferred %d bytes; the budget is 200 KB", loaded)
	}

	var chats []string
	var visitors []*gateway.Client
	for i, name := range []string{"Ann", "Ben", "Cid"} {
		v, chat := visitorChat(t, m.Addr(), "sales", name, fmt.Sprintf("question %d from %s", i, name))
		visitors, chats = append(visitors, v), append(chats, chat)
		offer := fmt.Sprintf(`.offer[data-chat=%q] .accept`, chat)
		p.wait("the offer in the tab's title", `document.title.startsWith("(1 offered")`)
		p.wait("the offer announced", fmt.Sprintf(`document.querySelector("#announce").textContent.includes("New chat offered: %s")`, name))
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

// TestWebConsoleTeamwork: what an agent does in a day, through the console:
// a line in a chat not in view raises its unread count and the tab's
// title; the work status; the display name (the visitor sees the new
// one); a transfer to a colleague chosen from the list with their load;
// an invitation, joined and left; the waiting list and a pick; closing.
func TestWebConsoleTeamwork(t *testing.T) {
	m := startBroker(t, t.TempDir())
	base := "http://" + m.Addr()
	alice := consoleLogin(t, base, "alice@demo", "alice-demo-pw")
	alice.setAvailable()
	bob := consoleLogin(t, base, "bob@demo", "bob-demo-pw")
	bob.setAvailable()

	v1, c1 := visitorChat(t, m.Addr(), "sales", "Ann", "first question")
	alice.click(fmt.Sprintf(`.offer[data-chat=%q] .accept`, c1))
	v2, c2 := visitorChat(t, m.Addr(), "sales", "Ben", "second question")
	alice.click(fmt.Sprintf(`.offer[data-chat=%q] .accept`, c2))
	alice.click(paneSel(c2) + " .compose")

	// Ann writes while Alice is in Ben's chat: unread count and title.
	send(t, v1, c1, "a1", "are you there?")
	alice.wait("the unread badge", fmt.Sprintf(`document.querySelector('#chat-list li[data-chat=%q] .badge')?.textContent === "1"`, c1))
	if title := eval[string](alice, `document.title`); !strings.Contains(title, "1 unread") {
		t.Fatalf("title %q", title)
	}
	alice.click(fmt.Sprintf(`#chat-list li[data-chat=%q] .chat-item`, c1))
	alice.wait("the badge cleared", fmt.Sprintf(`document.querySelector('#chat-list li[data-chat=%q] .badge').hidden && !document.title.includes("unread")`, c1))

	// Work status and display name.
	eval[bool](alice, fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = "WORK_STATUS_PENDING"; s.dispatchEvent(new Event("change")); return true })()`, paneSel(c1)+" .work"))
	if got := awaitEvent(t, v1, c1, func(e *messages.ChatEvent) bool { return e.GetStatusChanged() != nil }).GetStatusChanged().GetStatus(); got != messages.WorkStatus_WORK_STATUS_PENDING {
		t.Fatalf("status %v", got)
	}
	alice.click("#me")
	eval[bool](alice, `(document.querySelector("#display-name").value = "", true)`)
	alice.typeIn("#display-name", "Alice A.", true)
	alice.wait("the new name", `document.querySelector("#me") && document.querySelector("#me").textContent === "Alice A."`)
	if got := awaitEvent(t, v1, c1, func(e *messages.ChatEvent) bool { return e.GetRenamed() != nil }).GetRenamed().GetDisplayName(); got != "Alice A." {
		t.Fatalf("renamed to %q", got)
	}

	// Transfer Ann's chat to Bob, picked from the list with his load.
	alice.click(paneSel(c1) + " .transfer")
	alice.wait("Bob in the list", fmt.Sprintf(`document.querySelector(%q)?.parentElement.textContent.includes("available, 0/3 chats")`, paneSel(c1)+` .to-agent[data-agent="bob"]`))
	alice.screenshot("console-transfer")
	alice.click(paneSel(c1) + ` .to-agent[data-agent="bob"]`)
	bob.click(fmt.Sprintf(`.offer[data-chat=%q] .accept`, c1))
	bob.wait("the whole transcript at Bob's", fmt.Sprintf(`document.querySelector(%q)?.textContent.includes("are you there?")`, paneSel(c1)+" .transcript"))
	alice.wait("Alice's pane ended", fmt.Sprintf(`document.querySelector(%q).dataset.ended === "true"`, paneSel(c1)))

	// Bob invites Alice; she joins, writes, leaves.
	bob.click(paneSel(c1) + " .invite")
	bob.click(paneSel(c1) + ` .to-agent[data-agent="alice"]`)
	alice.click(fmt.Sprintf(`#invites li[data-chat=%q] .join`, c1))
	alice.wait("Alice a guest", fmt.Sprintf(`document.querySelector(%q)?.dataset.role === "guest"`, paneSel(c1)))
	alice.typeIn(paneSel(c1)+" .compose", "Bob knows this best.", true)
	awaitEvent(t, v1, c1, func(e *messages.ChatEvent) bool { return e.GetMessage().GetText() == "Bob knows this best." })
	alice.click(paneSel(c1) + " .leave")
	awaitEvent(t, v1, c1, func(e *messages.ChatEvent) bool {
		return e.GetMember().GetAction() == messages.MemberAction_MEMBER_ACTION_LEFT
	})

	// In a department with manual pickup, Alice sees the line in the Queue
	// tab and picks a chat (not while away: the error says why).
	mustAdmin(t, m.Addr(), "PATCH", "/admin/departments/sales", map[string]any{"policy": "ROUTING_POLICY_MANUAL"})
	eval[bool](alice, `(() => { const s = document.querySelector("#status"); s.value = "AGENT_STATUS_AWAY"; s.dispatchEvent(new Event("change")); return true })()`)
	alice.wait("away", `document.querySelector("#status").dataset.status === "away"`)
	_, c3 := visitorChat(t, m.Addr(), "sales", "Cid", "third question")
	alice.click("#tab-queue")
	alice.wait("Cid waiting", fmt.Sprintf(`document.querySelector('#view-queue tr[data-chat=%q] .pick')`, c3))
	alice.wait("the answered list", fmt.Sprintf(`document.querySelector('#view-queue').textContent.includes("Answered") && document.querySelectorAll('#view-queue tr[data-chat=%q]').length >= 1`, c2))
	alice.screenshot("console-queue")
	alice.click(fmt.Sprintf(`#view-queue tr[data-chat=%q] .pick`, c3))
	alice.wait("the refusal in words", `!document.querySelector("#banner").hidden && document.querySelector("#banner").textContent.includes("not available")`)
	alice.setAvailable()
	alice.click("#tab-queue")
	// The tab reads the line again and redraws it: pick from the new one.
	alice.wait("the line read again", `!document.querySelector("#view-queue .queue-body").hasAttribute("aria-busy")`)
	alice.click(fmt.Sprintf(`#view-queue tr[data-chat=%q] .pick`, c3))
	alice.wait("Cid's pane", fmt.Sprintf(`document.querySelector(%q)?.dataset.role === "agent"`, paneSel(c3)))

	// Close Ben's chat.
	alice.click(paneSel(c2) + " .close-chat")
	awaitEvent(t, v2, c2, func(e *messages.ChatEvent) bool { return e.GetClosed() != nil })
	alice.wait("Ben's pane closed", fmt.Sprintf(`document.querySelector(%q).dataset.ended === "true"`, paneSel(c2)))

	// At 360 px wide the console fits: no sideways scrolling, the
	// composer in view.
	alice.resize(360, 740)
	alice.click(fmt.Sprintf(`#chat-list li[data-chat=%q] .chat-item`, c3))
	alice.wait("no sideways scroll", `document.documentElement.scrollWidth <= 360`)
	alice.wait("the composer visible", fmt.Sprintf(`document.querySelector(%q).getBoundingClientRect().width > 250`, paneSel(c3)+" .compose"))
	alice.screenshot("console-360px")

	// Log out: the login form again, the token gone from the tab and
	// refused by the broker.
	token := eval[string](alice, `sessionStorage.getItem("switchboard.session") || ""`)
	alice.click("#logout")
	alice.wait("the login form", `document.querySelector("#login") && !sessionStorage.getItem("switchboard.session")`)
	if !strings.Contains(alice.text("#login-error"), "logged out") {
		t.Fatalf("after logout: %q", alice.text("#login-error"))
	}
	req, _ := http.NewRequest("GET", "http://"+m.Addr()+"/api/chats/"+c2, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if token == "" || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the logged-out token (%d bytes) got %d", len(token), res.StatusCode)
	}
}

// TestWelcomeDescribesRole: an agent's welcome says their departments,
// what they may monitor and manage, and their role's permissions (what a
// console shows); a plain agent monitors nothing.
func TestWelcomeDescribesRole(t *testing.T) {
	m := startBroker(t, t.TempDir())
	_, alice := newAgent(t, m.Addr(), "alice@demo", "alice-demo-pw", false)
	if !slices.Equal(alice.GetDepartments(), []string{"sales"}) || len(alice.GetMonitors()) != 0 || len(alice.GetManages()) != 0 ||
		!slices.Contains(alice.GetPermissions(), "chats.accept") || slices.Contains(alice.GetPermissions(), "admin") {
		t.Fatalf("alice's welcome: departments %v monitors %v manages %v permissions %v", alice.GetDepartments(), alice.GetMonitors(), alice.GetManages(), alice.GetPermissions())
	}
	_, dana := newAgent(t, m.Addr(), "dana@demo", "dana-demo-pw", false)
	if !slices.Equal(dana.GetMonitors(), []string{"sales", "support"}) || !slices.Equal(dana.GetManages(), []string{"sales", "support"}) ||
		!slices.Contains(dana.GetPermissions(), "admin") {
		t.Fatalf("dana's welcome: monitors %v manages %v permissions %v", dana.GetMonitors(), dana.GetManages(), dana.GetPermissions())
	}
}

// TestWelcomeLastSeq: a welcome's chat summaries carry the chat's last
// seq, messages included, so a console tells the history it is shown at
// login from what is new (no unread count, no sound for the history).
func TestWelcomeLastSeq(t *testing.T) {
	m := startBroker(t, t.TempDir())
	a, _ := newAgent(t, m.Addr(), "alice@demo", "alice-demo-pw", true)
	v, chat := visitorChat(t, m.Addr(), "sales", "Ann", "hello")
	accept(t, a, awaitOffer(t, a).GetChatId())
	var last uint64
	for i := range 3 {
		last = send(t, v, chat, fmt.Sprint("m", i), fmt.Sprint("line ", i))
	}
	awaitEvent(t, a, chat, func(e *messages.ChatEvent) bool { return e.GetSeq() == last })
	_, w := newAgent(t, m.Addr(), "alice@demo", "alice-demo-pw", false)
	if len(w.GetChats()) != 1 || w.GetChats()[0].GetLastSeq() != last {
		t.Fatalf("welcome chats %v, want last_seq %d", w.GetChats(), last)
	}
}
