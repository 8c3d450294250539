package main

import (
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// The web parts of offline messages and email (issue 13, parts 3 and 8).

// TestWebWidgetOfflineForm: nobody in Support is available and Support
// takes offline messages: the request is refused and the widget offers
// the offline form, filled from the pre-chat form; a bad address is
// refused next to the field; the message is stored for Support's staff.
func TestWebWidgetOfflineForm(t *testing.T) {
	m := startBroker(t, t.TempDir())
	base, addr := "http://"+m.Addr(), m.Addr()
	shop := customerSite(t, base)
	allowOrigins(t, addr, false, strings.TrimSuffix(shop, "/"))
	mustAdmin(t, addr, "PATCH", "/admin/departments/support", map[string]any{"offline_messages": true})

	p := newPage(t)
	w := openWidget(p, shop+"/?department=support", base)
	w.wait("the pre-chat form", `document.querySelector("form.prechat")`)
	if eval[bool](w, `document.querySelector("#panel").hidden`) {
		w.click("#launcher")
	}
	w.typeIn("#name", "Ann <b>Lee</b>", false)
	w.typeIn("#message", "Where is order #123?", false)
	w.click(".start")
	w.wait("the offline form", `document.querySelector("form.offline")`)
	if got := w.text("form.offline .closed"); got != "Nobody in this department can take a chat right now." {
		t.Fatalf("refusal %q", got)
	}
	if got := eval[string](w, `document.querySelector("#offline-name").value + "|" + document.querySelector("#offline-text").value`); got != "Ann <b>Lee</b>|Where is order #123?" {
		t.Fatalf("offline form values %q", got)
	}
	w.typeIn("#offline-email", "ann at example", false)
	w.click("form.offline .start")
	w.wait("the address refused", `document.querySelector("form.offline .error:not([hidden])")`)
	if !eval[bool](w, `document.activeElement === document.querySelector("#offline-email")`) || !strings.Contains(w.text("form.offline .error"), "email") {
		t.Fatalf("error %q not at the email field", w.text("form.offline .error"))
	}
	p.screenshot("widget-offline-form")
	eval[bool](w, `(() => { document.querySelector("#offline-email").value = ""; return true; })()`)
	w.typeIn("#offline-email", "ann@example.net", false)
	w.click("form.offline .start")
	w.wait("the thanks", `document.querySelector(".sent")`)
	p.screenshot("widget-offline-sent")
	code, list := offlineList(t, addr, "bob@demo", "bob-demo-pw", "?answered=false")
	if code != 200 || len(list) != 1 || list[0].GetName() != "Ann <b>Lee</b>" || list[0].GetEmail() != "ann@example.net" || list[0].GetText() != "Where is order #123?" {
		t.Fatalf("stored offline messages: %d %v", code, list)
	}
}

// TestWebWidgetTranscriptEmail: once the chat ended, the visitor has the
// transcript sent to their address from the widget.
func TestWebWidgetTranscriptEmail(t *testing.T) {
	ms := startMailServer(t)
	m := startBroker(t, t.TempDir())
	mustAdmin(t, m.Addr(), "PUT", "/admin/email", ms.settings())
	alice, _, w, chat := widgetChat(t, m.Addr(), "Ann", "Where is my order?")
	alice.typeIn(paneSel(chat)+" .compose", "It ships today.", true)
	w.wait("the agent's line", `[...document.querySelectorAll(".line.theirs .text")].some(e => e.textContent === "It ships today.")`)
	w.click(".end")
	w.wait("the transcript form", `document.querySelector("#transcript-to")`)
	w.typeIn("#transcript-to", "ann@example.net", true)
	w.wait("the transcript sent", `(document.querySelector(".transcript-status") || {}).textContent === "The transcript is on its way to ann@example.net."`)
	eventually(t, "the transcript mail", func() bool { return len(ms.mails()) == 1 })
	if got := ms.mails()[0]; got.To != "ann@example.net" || !strings.Contains(got.Text, "Where is my order?") || !strings.Contains(got.Text, "It ships today.") {
		t.Fatalf("transcript mail to %q:\n%s", got.To, got.Text)
	}
}

// TestWebConsoleOfflineMessages: Bob's console lists Support's unanswered
// offline messages (markup in them shown as text) and answers one by
// email; it then shows under the answered ones.
func TestWebConsoleOfflineMessages(t *testing.T) {
	ms := startMailServer(t)
	m := startBroker(t, t.TempDir())
	base, addr := "http://"+m.Addr(), m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/email", ms.settings())
	mustAdmin(t, addr, "PATCH", "/admin/departments/support", map[string]any{"offline_messages": true})
	vis, _ := newVisitor(t, addr, false)
	if _, err := vis.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_LeaveOfflineMessage{LeaveOfflineMessage: &messages.LeaveOfflineMessage{
		Department: "support", Name: `<img src=x onerror="document.body.dataset.owned=1">Ann`, Email: "ann@example.net", Text: "Where is order #123?"}}}); err != nil {
		t.Fatal(err)
	}

	bob := consoleLogin(t, base, "bob@demo", "bob-demo-pw")
	bob.click("#tab-offline")
	bob.wait("the message", `document.querySelector(".offline-message .text")`)
	if got := bob.text(".offline-message .text"); got != "Where is order #123?" {
		t.Fatalf("message text %q", got)
	}
	if got := bob.text(".offline-message .name"); got != `<img src=x onerror="document.body.dataset.owned=1">Ann` ||
		eval[bool](bob, `!!document.querySelector(".offline-message img") || document.body.dataset.owned === "1"`) {
		t.Fatalf("the visitor's name is not text: %q", got)
	}
	bob.screenshot("console-offline-messages")
	bob.click(".offline-message .answer")
	bob.typeIn(".offline-message .reply-text", "It left our warehouse this morning.", false)
	bob.click(".offline-message .reply .send")
	bob.wait("the answer noted", `document.querySelector(".offline-message .answered")`)
	eventually(t, "the answer mail", func() bool { return len(ms.mails()) == 1 })
	if got := ms.mails()[0]; got.To != "ann@example.net" || !strings.Contains(got.Text, "It left our warehouse this morning.") {
		t.Fatalf("answer mail to %q:\n%s", got.To, got.Text)
	}
	bob.click("#offline-refresh")
	bob.wait("no unanswered message", `document.querySelector(".offline-body:not([aria-busy]) .empty")`)
	eval[bool](bob, `(() => { const s = document.querySelector("#offline-state"); s.value = "true"; s.dispatchEvent(new Event("change")); return true; })()`)
	bob.wait("the answered message", `(document.querySelector(".offline-body:not([aria-busy]) .offline-message .answered") || {}).textContent === "Answered by bob (email)"`)
	bob.screenshot("console-offline-answered")
}

// TestWebConsoleEmailFromChat: an agent writes to the visitor from the
// chat's pane; the mail arrives and the pane notes it once sent.
func TestWebConsoleEmailFromChat(t *testing.T) {
	ms := startMailServer(t)
	m := startBroker(t, t.TempDir())
	mustAdmin(t, m.Addr(), "PUT", "/admin/email", ms.settings())
	alice, _, _, chat := widgetChat(t, m.Addr(), "Ann", "Where is my order?")
	alice.click(paneSel(chat) + " .actions .email")
	alice.typeIn(paneSel(chat)+" .email-to", "ann@example.net", false)
	alice.typeIn(paneSel(chat)+" .email-subject", "Your order", false)
	alice.typeIn(paneSel(chat)+" .email-text", "It ships today.", false)
	alice.click(paneSel(chat) + " .send-email")
	eventually(t, "the agent's mail", func() bool { return len(ms.mails()) == 1 })
	if got := ms.mails()[0]; got.To != "ann@example.net" || got.subject() != "Your order" || !strings.Contains(got.Text, "It ships today.") {
		t.Fatalf("mail to %q, subject %q:\n%s", got.To, got.subject(), got.Text)
	}
	alice.wait("the emailed note", `[...document.querySelectorAll(`+"`"+paneSel(chat)+" .transcript li`"+`)].some(l => l.textContent.includes("sent an email (Your order) to ann@example.net"))`)
}
