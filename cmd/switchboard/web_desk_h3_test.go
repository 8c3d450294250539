package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// TestWebWidgetRating: Alice closes the chat in the console; the widget
// asks the visitor to rate it; the rating (bad, with a comment) reaches
// Alice's pane and the chat's record, and a second one replaces it.
func TestWebWidgetRating(t *testing.T) {
	m := startBroker(t, t.TempDir())
	c, p, w, chat := widgetChat(t, m.Addr(), "Ann", "Is it in stock?")
	if eval[bool](w, `!!document.querySelector(".rating")`) {
		t.Fatal("a rating prompt while the chat is open")
	}
	c.click(paneSel(chat) + " .close-chat")
	w.wait("the rating prompt", `document.querySelector(".rating .rate-good")`)
	if !eval[bool](w, `document.querySelector(".rate-send").disabled`) {
		t.Fatal("the rating can be sent before a face is picked")
	}
	w.click(".rate-bad")
	w.typeIn(".rate-comment", "Took a while", false)
	w.click(".rate-send")
	w.wait("the thanks", `document.querySelector(".rate-done").textContent === "Thank you for your rating."`)
	c.wait("the rating in Alice's pane", fmt.Sprintf(`document.querySelector(%q)`, paneSel(chat)+` .line.rating[data-score="bad"]`))
	if got := c.text(paneSel(chat) + " .line.rating .text"); !strings.Contains(got, "Took a while") {
		t.Fatalf("Alice's rating line %q", got)
	}
	p.screenshot("widget-rating")
	c.screenshot("console-rating")
	w.click(".rate-good")
	w.click(".rate-send")
	w.wait("the new rating stored", `document.querySelector(".rating").dataset.rated === "RATING_SCORE_GOOD"`)
	c.wait("the second rating in Alice's pane", fmt.Sprintf(`document.querySelector(%q)`, paneSel(chat)+` .line.rating[data-score="good"]`))
	if r := record(t, m.Addr(), chat).GetRating(); r.GetScore() != messages.RatingScore_RATING_SCORE_GOOD || r.GetAgentId() != "alice" {
		t.Fatalf("record rating %v", r)
	}
}

// TestWebConsoleCannedAndTags: in Alice's pane, #ref offers Sales'
// #refund, picked it is filled in for the chat and sent; the close of the
// untagged chat is refused (Sales requires a tag), a tag chip is added
// and removed, and with a tag the chat closes.
func TestWebConsoleCannedAndTags(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr, base := m.Addr(), "http://"+m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/departments/sales", map[string]any{"name": "Sales", "chat_enabled": true, "tags": []string{"billing", "bug"}, "require_tag": true})
	mustAdmin(t, addr, "PUT", "/admin/departments/sales/canned/refund", map[string]any{"text": "Hello {visitor.name}, I am {agent.name} from {department.name}: refunded."})
	c := consoleLogin(t, base, "alice@demo", "alice-demo-pw")
	c.setAvailable()
	v, chat := visitorChat(t, addr, "sales", "Ann", "My money back?")
	c.click(fmt.Sprintf(`.offer[data-chat=%q] .accept`, chat))
	pane := paneSel(chat)
	c.wait("the pane", fmt.Sprintf(`document.querySelector(%q)`, pane+` .line[data-seq="3"]`))

	c.typeIn(pane+" .compose", "#ref", false)
	c.wait("the suggestion", fmt.Sprintf(`document.querySelector(%q)`, pane+` .canned-suggest:not([hidden]) button[data-shortcut="refund"]`))
	c.screenshot("console-canned")
	c.click(pane + ` .canned-suggest button[data-shortcut="refund"]`)
	want := "Hello Ann, I am Alice from Sales: refunded."
	c.wait("the expansion in the composer", fmt.Sprintf(`document.querySelector(%q).value === %q`, pane+" .compose", want))
	pressEnter(c, pane+" .compose")
	if ev := awaitEvent(t, v, chat, func(e *messages.ChatEvent) bool {
		return e.GetMessage().GetFrom().GetKind() == messages.ParticipantKind_PARTICIPANT_KIND_AGENT
	}); ev.GetMessage().GetText() != want {
		t.Fatalf("the visitor got %q", ev.GetMessage().GetText())
	}

	c.click(pane + " .close-chat")
	c.wait("the refusal", `document.querySelector("#banner").textContent.includes("require_tag")`)
	pick := func(tag string) {
		eval[bool](c, fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event("change")); return true; })()`, pane+" .add-tag", tag))
	}
	pick("bug")
	c.wait("the bug chip", fmt.Sprintf(`document.querySelector(%q)`, pane+` .chip[data-tag="bug"]`))
	c.click(pane + ` .chip[data-tag="bug"] .untag`)
	c.wait("the bug chip gone", fmt.Sprintf(`!document.querySelector(%q)`, pane+` .chip[data-tag="bug"]`))
	pick("billing")
	c.wait("the billing chip", fmt.Sprintf(`document.querySelector(%q)`, pane+` .chip[data-tag="billing"]`))
	if opts := eval[[]string](c, fmt.Sprintf(`[...document.querySelectorAll(%q)].map(o => o.value)`, pane+" .add-tag option")); strings.Join(opts, ",") != ",bug" {
		t.Fatalf("tags offered with billing on: %q", opts)
	}
	c.screenshot("console-tags")
	c.click(pane + " .close-chat")
	c.wait("the close", fmt.Sprintf(`document.querySelector(%q).dataset.ended === "true"`, pane))
	if rec := record(t, addr, chat); strings.Join(rec.GetTags(), ",") != "billing" || rec.GetState() != messages.ChatState_CHAT_STATE_CLOSED {
		t.Fatalf("record: %v %v", rec.GetState(), rec.GetTags())
	}
}
