package main

import (
	"fmt"
	"testing"
	"time"
)

// TestWebConsoleWhatsAppTemplate: in the console, a WhatsApp chat says
// where it came from; after the customer's 24 hours a reply is refused
// with the reason, and "/template name language params" sends the
// approved template, which reaches the Graph API's contract server.
func TestWebConsoleWhatsAppTemplate(t *testing.T) {
	clock := newFakeClock()
	clock.now = time.Now()
	m := startBroker(t, t.TempDir(), allowPrivate, func(c *Config) { c.Clock = clock })
	base := "http://" + m.Addr()
	graph := newWAContract(t, testWAToken, testWAPhoneID)
	setupWhatsApp(t, m.Addr(), graph)
	p := consoleLogin(t, base, "bob@demo", "bob-demo-pw")
	p.setAvailable()
	if code, body := postWhatsApp(t, m.Addr(), "wa", testWAAppSec, waText(t, testWAPhoneID, "wamid.W1", "Is my order on its way?")); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	p.wait("the offer", `document.querySelector(".offer .accept")`)
	chat := eval[string](p, `document.querySelector(".offer").dataset.chat`)
	p.click(fmt.Sprintf(`.offer[data-chat=%q] .accept`, chat))
	p.wait("the channel named", fmt.Sprintf(`document.querySelector(%q)?.textContent.includes("through the channel wa")`, paneSel(chat)+" .transcript"))
	clock.Advance(25 * time.Hour)
	p.typeIn(paneSel(chat)+" .compose", "Sorry for the wait!", true)
	p.wait("the reply refused", fmt.Sprintf(`[...document.querySelectorAll(%q)].some(li => li.dataset.state === "failed" && li.textContent.includes("reply window"))`,
		paneSel(chat)+" .line.own"))
	p.typeIn(paneSel(chat)+" .compose", "/template order_update en_US Grace|4711", true)
	p.wait("the template stored", fmt.Sprintf(`[...document.querySelectorAll(%q)].some(li => li.dataset.state === "stored")`, paneSel(chat)+" .line.own"))
	eventually(t, "the template at the Graph API", func() bool {
		sent := graph.sentMessages()
		return len(sent) == 1 && sent[0].Body["type"] == "template" && toJSON(sent[0].Body["template"]) ==
			`{"components":[{"parameters":[{"text":"Grace","type":"text"},{"text":"4711","type":"text"}],"type":"body"}],"language":{"code":"en_US"},"name":"order_update"}`
	})
}
