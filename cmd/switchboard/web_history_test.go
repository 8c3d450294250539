package main

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestWebConsoleHistory: the History tab searches the chats the agent may
// read, a found chat's transcript opens at its own address
// (#/chats/<id>), a page load of that address opens it again, and what
// users wrote is shown as text.
func TestWebConsoleHistory(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	bob, _ := newAgent(t, addr, "bob@demo", "bob-demo-pw", true)
	mine, _, _ := historyChat(t, addr, alice, "sales", `<b>My toaster</b> burns bread`, "check the warranty", true)
	other, _, _ := historyChat(t, addr, bob, "support", "My toaster is in support", "", true)
	awaitList(t, addr, testAdminToken, url.Values{"q": {"toaster"}}, other, mine)

	base := "http://" + addr
	p := consoleLogin(t, base, "alice@demo", "alice-demo-pw")
	p.click("#tab-history")
	p.wait("the list", fmt.Sprintf(`document.querySelector('#history-list li[data-chat=%q]')`, mine))
	p.typeIn("#history-q", "toaster", true)
	p.wait("the search's answer", fmt.Sprintf(`(() => { const l = [...document.querySelectorAll('#history-list li')];
		return l.length === 1 && l[0].dataset.chat === %q && !document.querySelector('#history-list').hasAttribute('aria-busy'); })()`, mine))
	if got := p.text(fmt.Sprintf(`#history-list li[data-chat=%q] .history-preview`, mine)); got != `<b>My toaster</b> burns bread` {
		t.Fatalf("preview = %q, want the visitor's text as text", got)
	}
	p.click(fmt.Sprintf(`#history-list li[data-chat=%q] a`, mine))
	p.wait("the transcript", `document.querySelector('#history-transcript .history-events .whisper')`)
	if h := eval[string](p, `location.hash`); h != "#/chats/"+mine {
		t.Fatalf("address = %q, want #/chats/%s", h, mine)
	}
	if eval[bool](p, `!!document.querySelector('#history-transcript b')`) {
		t.Fatal("a visitor's markup was rendered")
	}
	if got := p.text("#history-transcript .history-events"); !strings.Contains(got, "<b>My toaster</b> burns bread") || !strings.Contains(got, "check the warranty") {
		t.Fatalf("transcript = %q", got)
	}
	p.screenshot("console-history")

	// The address opens the transcript by itself (a link, a new load).
	p.navigate("about:blank")
	p.navigate(base + "/#/chats/" + mine)
	p.wait("the transcript from the address", fmt.Sprintf(`(document.querySelector('#history-chat-title') || {}).textContent === "Chat %s"`, mine))
}
