package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// setFile puts the file at path into the file input sel (as a person
// picking it would: the input's change event follows).
func (p *page) setFile(sel, path string) {
	p.t.Helper()
	p.do("pick "+path+" in "+sel, 10*time.Second, chromedp.SetUploadFiles(chromedp.CSS(sel), []string{path}))
}

// widgetWithAlice: a visitor on a customer's page starts a chat in the
// widget, and Alice takes it in the console.
func widgetWithAlice(t *testing.T, base, shopPage string) (host, w, c *page, chat string) {
	t.Helper()
	host = newPage(t)
	w = openWidget(host, shopPage, base)
	startWidgetChat(w, "Ann", "Can I show you something?")
	c = consoleLogin(t, base, "alice@demo", "alice-demo-pw")
	c.setAvailable()
	c.wait("the offer", `document.querySelector(".offer .accept")`)
	chat = eval[string](c, `document.querySelector(".offer").dataset.chat`)
	c.click(fmt.Sprintf(`.offer[data-chat=%q] .accept`, chat))
	c.wait("the pane", fmt.Sprintf(`document.querySelector(%q)`, paneSel(chat)))
	w.wait("the agent's name", `document.querySelector(".head .sub").textContent.includes("Alice")`)
	return host, w, c, chat
}

// TestWebAttachments: the visitor picks a picture with the widget's attach
// button; both sides show it inline (loaded with their token, from a
// blob: URL); Alice sends a PDF from the console, which the widget shows
// as a download link; names are text, never markup.
func TestWebAttachments(t *testing.T) {
	m := startBroker(t, t.TempDir())
	base := "http://" + m.Addr()
	shop := customerSite(t, base)
	allowOrigins(t, m.Addr(), false, strings.TrimSuffix(shop, "/"))
	host, w, c, chat := widgetWithAlice(t, base, shop+"/")

	dir := t.TempDir()
	pic := filepath.Join(dir, "<b>shot.png")
	pdf := filepath.Join(dir, "invoice.pdf")
	if err := os.WriteFile(pic, pngBytes(t), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pdf, []byte(pdfBytes), 0o600); err != nil {
		t.Fatal(err)
	}
	w.setFile(".chat .attach-input", pic)
	loaded := `(() => { const i = document.querySelector(%q); return i && i.src.startsWith("blob:") && i.complete && i.naturalWidth === 4; })()`
	w.wait("the picture in the widget", fmt.Sprintf(loaded, ".transcript .line.own .attachment-image"))
	c.wait("the picture in the console", fmt.Sprintf(loaded, paneSel(chat)+" .transcript .line.visitor .attachment-image"))
	if got := c.text(paneSel(chat) + " .attachment figcaption"); got != "<b>shot.png" {
		t.Fatalf("the console shows the name %q", got)
	}
	if eval[bool](c, `!!document.querySelector(".attachment b")`) || eval[bool](w, `!!document.querySelector(".attachment b")`) {
		t.Fatal("a file name became markup")
	}
	c.screenshot("console-attachment")

	c.setFile(paneSel(chat)+" .attach-input", pdf)
	w.wait("the PDF's link in the widget", `[...document.querySelectorAll(".transcript .line.theirs .attachment-link")].some(a => a.textContent === "invoice.pdf")`)
	c.wait("the PDF's link in the console", fmt.Sprintf(`document.querySelector(%q)?.textContent === "invoice.pdf"`, paneSel(chat)+" .line.own .attachment-link"))
	// Clicking the link fetches the file (with the token) into a blob:.
	w.click(".transcript .line.theirs .attachment-link")
	w.wait("the link's file", `document.querySelector(".transcript .line.theirs .attachment-link").href.startsWith("blob:")`)
	host.screenshot("widget-attachments")
}

// TestWebVisitorPanel: the console's chat pane shows where the visitor is
// (the customer's page, its title and referrer), their browser and
// language, and the fields the site set with Switchboard.setFields; it
// follows the visitor to another page.
func TestWebVisitorPanel(t *testing.T) {
	m := startBroker(t, t.TempDir())
	base := "http://" + m.Addr()
	shop := customerSite(t, base)
	allowOrigins(t, m.Addr(), false, strings.TrimSuffix(shop, "/"))
	host := newPage(t)
	w := openWidget(host, shop+"/shoes", base)
	eval[bool](host, `(Switchboard.setFields({ user_id: "4711", plan: "<i>pro</i>" }), true)`)
	startWidgetChat(w, "Ann", "Which size?")
	c := consoleLogin(t, base, "alice@demo", "alice-demo-pw")
	c.setAvailable()
	c.wait("the offer", `document.querySelector(".offer .accept")`)
	chat := eval[string](c, `document.querySelector(".offer").dataset.chat`)
	c.click(fmt.Sprintf(`.offer[data-chat=%q] .accept`, chat))
	panel := paneSel(chat) + " .visitor-info"
	c.wait("the visitor panel", fmt.Sprintf(`document.querySelector(%q + " .page")?.textContent === "Shop /shoes — " + %q`, panel, shop+"/shoes"))
	info := eval[map[string]string](c, fmt.Sprintf(`Object.fromEntries([...document.querySelectorAll(%q + " dt")].map(dt => [dt.textContent, dt.nextElementSibling.textContent]))`, panel))
	if info["user_id"] != "4711" || info["plan"] != "<i>pro</i>" || !strings.Contains(info["Browser"], "Mozilla") || info["Language"] == "" {
		t.Fatalf("the visitor panel shows %v", info)
	}
	if eval[bool](c, `!!document.querySelector(".visitor-info i")`) {
		t.Fatal("a field became markup")
	}
	// The visitor moves on (a single-page site): the panel follows.
	eval[bool](host, `(history.pushState({}, "", "/cart"), document.title = "Your cart", true)`)
	c.wait("the new page", fmt.Sprintf(`document.querySelector(%q + " .page")?.textContent === "Your cart — " + %q`, panel, shop+"/cart"))
	c.wait("the page before", fmt.Sprintf(`document.querySelector(%q + " .pages li")?.textContent.includes(%q)`, panel, shop+"/shoes"))
	// The visitor's widget never shows it.
	if eval[bool](w, `document.body.textContent.includes("4711")`) {
		t.Fatal("the widget shows staff-only data")
	}
	c.screenshot("console-visitor-panel")
}
