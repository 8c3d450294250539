package main

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// customerSite serves a customer's page that embeds the widget from the
// broker at base with the one line, its data- attributes taken from the
// page's query (?department=sales&language=sv). It returns the site's
// address as another site for the browser (localhost).
func customerSite(t *testing.T, base string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var attrs string
		for _, k := range []string{"department", "language", "color", "position"} {
			if v := r.URL.Query().Get(k); v != "" {
				attrs += fmt.Sprintf(` data-%s="%s"`, k, html.EscapeString(v))
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Shop %s</title></head>
<body><h1>A customer's shop</h1><p>Page %s. The chat widget sits in the corner.</p>
<script src="%s/widget.js"%s async></script></body></html>`, html.EscapeString(r.URL.Path), html.EscapeString(r.URL.Path), base, attrs)
	}))
	t.Cleanup(srv.Close)
	return crossSite(srv.URL)
}

// allowOrigins sets Settings.widget_origins (and live chat on or off).
func allowOrigins(t *testing.T, addr string, liveChatOff bool, origins ...string) {
	t.Helper()
	mustAdmin(t, addr, "PUT", "/admin/settings", map[string]any{"widget_origins": origins, "live_chat_off": liveChatOff})
}

// openWidget opens the customer's page and attaches to the widget's frame
// once the loader heard from it.
func openWidget(p *page, pageURL, base string) *page {
	p.t.Helper()
	p.navigate(pageURL)
	p.wait("the widget's frame to say it is ready", `document.querySelector("iframe[data-switchboard-widget][data-ready]")`)
	return p.frame(base + "/widget/")
}

// startWidgetChat opens the panel, fills the pre-chat form and starts.
func startWidgetChat(w *page, name, message string) {
	w.t.Helper()
	w.wait("the pre-chat form", `document.querySelector("form.prechat")`)
	if eval[bool](w, `document.querySelector("#panel").hidden`) {
		w.click("#launcher")
	}
	w.typeIn("#name", name, false)
	w.typeIn("#message", message, false)
	w.click(".start")
	w.wait("the chat view", `document.querySelector(".chat #compose")`)
}

// widgetLines returns the widget transcript's message texts in order.
func widgetLines(w *page) []string {
	w.t.Helper()
	return eval[[]string](w, `[...document.querySelectorAll(".transcript .line.message .text")].map(e => e.textContent)`)
}

func pressEnter(p *page, sel string) {
	p.t.Helper()
	p.do("press Enter in "+sel, 10*time.Second, chromedp.SendKeys(chromedp.CSS(sel), "\r"))
}

// TestWebWidgetChat: a visitor on a customer's page of another site chats
// through the widget with Alice in the console: the queue position shows
// while nobody is available, then the offer, accept, the agent's name and
// photo, messages and typing both ways, and close.
func TestWebWidgetChat(t *testing.T) {
	m := startBroker(t, t.TempDir())
	base := "http://" + m.Addr()
	mustAdmin(t, m.Addr(), "PATCH", "/admin/agents/alice", map[string]any{"avatar_url": "https://example.com/alice.png"})
	shop := customerSite(t, base)
	allowOrigins(t, m.Addr(), false, strings.TrimSuffix(shop, "/"))

	p := newPage(t)
	w := openWidget(p, shop+"/", base)
	if got := eval[string](p, `document.querySelector("iframe[data-switchboard-widget]").src`); !strings.HasPrefix(got, base+"/widget/?") {
		t.Fatalf("iframe src %q", got)
	}
	startWidgetChat(w, "Ann", "Where is my order?")
	w.wait("the queue position", `document.querySelector(".status").textContent.includes("number 1 in line")`)
	if !eval[bool](p, `document.querySelector("iframe[data-switchboard-widget]").hasAttribute("data-open")`) {
		t.Fatal("the loader did not open the frame")
	}
	p.screenshot("widget-queued")

	c := consoleLogin(t, base, "alice@demo", "alice-demo-pw")
	c.setAvailable()
	c.wait("the offer", `document.querySelector(".offer .accept")`)
	chat := eval[string](c, `document.querySelector(".offer").dataset.chat`)
	c.click(fmt.Sprintf(`.offer[data-chat=%q] .accept`, chat))
	c.wait("the pane", fmt.Sprintf(`document.querySelector(%q)`, paneSel(chat)))

	w.wait("the agent's name", `document.querySelector(".head .sub").textContent.includes("Alice")`)
	w.wait("the agent's photo", `document.querySelector(".head .avatar:not([hidden])") && document.querySelector(".head .avatar").src === "https://example.com/alice.png"`)
	if got := w.text(".status"); got != "" {
		t.Fatalf("status after the assignment: %q", got)
	}

	// Typing, then a message, from the visitor.
	w.typeIn("#compose", "It was order 42", false)
	c.wait("the visitor typing", fmt.Sprintf(`document.querySelector(%q).textContent === "Ann is typing…"`, paneSel(chat)+" .typing"))
	pressEnter(w, "#compose")
	c.wait("the visitor's line", fmt.Sprintf(`document.querySelector(%q).textContent.includes("It was order 42")`, paneSel(chat)+" .transcript"))
	w.wait("the visitor's line stored", `[...document.querySelectorAll(".line.own")].some(l => l.dataset.state === "stored" && l.textContent.includes("order 42"))`)

	// Typing, then a message, from the agent.
	c.typeIn(paneSel(chat)+" .compose", "Let me check.", false)
	w.wait("the agent typing", `document.querySelector(".typing").textContent.includes("Alice")`)
	pressEnter(c, paneSel(chat)+" .compose")
	w.wait("the agent's line", `[...document.querySelectorAll(".line.theirs .text")].some(e => e.textContent === "Let me check.")`)
	// The line clears on the message.
	w.wait("the typing line to clear", `document.querySelector(".typing").textContent === ""`)
	if got := widgetLines(w); strings.Join(got, "|") != "Where is my order?|It was order 42|Let me check." {
		t.Fatalf("widget lines %q", got)
	}
	if role := eval[string](w, `document.querySelector(".transcript").getAttribute("role") + "/" + document.querySelector(".transcript").getAttribute("aria-live")`); role != "log/polite" {
		t.Fatalf("transcript live region %q", role)
	}
	p.screenshot("widget-chat")
	c.screenshot("widget-chat-console")

	// A phone: the frame takes the whole width and the chat still works.
	p.resize(360, 640)
	p.wait("the frame to fill the phone", `document.querySelector("iframe[data-switchboard-widget]").getBoundingClientRect().width === 360`)
	w.wait("the composer on the phone", `document.querySelector("#compose").getBoundingClientRect().right <= 360`)
	p.screenshot("widget-chat-360")

	w.click(".end")
	w.wait("the end", `document.querySelector(".ended")`)
	c.wait("the close in the console", fmt.Sprintf(`document.querySelector(%q).textContent.includes("Ann closed the chat")`, paneSel(chat)+" .transcript"))
	if eval[bool](w, `!!document.querySelector("#compose")`) {
		t.Fatal("the composer is still there after the end")
	}
	p.screenshot("widget-closed")
}

// TestWebWidgetResume: a reload in the middle of the chat, and a move to
// another page of the site: the chat resumes (the frame keeps its resume
// token), every line once, in order, and goes on.
func TestWebWidgetResume(t *testing.T) {
	m := startBroker(t, t.TempDir())
	base := "http://" + m.Addr()
	c, p, w, chat := widgetChat(t, m.Addr(), "Rita", "line 1 from Rita")
	shop := eval[string](p, `location.origin`)
	c.typeIn(paneSel(chat)+" .compose", "line 2 from Alice", true)
	w.wait("Alice's line", `document.querySelector(".line.theirs")`)
	w.typeIn("#compose", "line 3 from Rita", true)
	want := []string{"line 1 from Rita", "line 2 from Alice", "line 3 from Rita"}
	c.wait("Rita's line", fmt.Sprintf(`document.querySelector(%q).textContent.includes("line 3")`, paneSel(chat)+" .transcript"))

	check := func(w *page, want []string) {
		t.Helper()
		w.wait("the transcript", fmt.Sprintf(`document.querySelectorAll(".transcript .line.message").length >= %d`, len(want)))
		if got := widgetLines(w); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("lines after resume %q, want %q", got, want)
		}
	}
	p.navigate(shop + "/")
	w = p.frame(base + "/widget/")
	w.wait("the chat to resume, open", `document.querySelector(".chat") && !document.querySelector("#panel").hidden`)
	check(w, want)
	w.wait("the agent's name again", `document.querySelector(".head .sub").textContent.includes("Alice")`)
	p.screenshot("widget-resumed")

	// Another page of the site, and the chat goes on.
	p.navigate(shop + "/checkout")
	w = p.frame(base + "/widget/")
	w.wait("the chat on the next page", `document.querySelector(".chat")`)
	check(w, want)
	w.typeIn("#compose", "line 4 from Rita", true)
	c.wait("line 4 in the console", fmt.Sprintf(`document.querySelector(%q).textContent.includes("line 4 from Rita")`, paneSel(chat)+" .transcript"))
	c.typeIn(paneSel(chat)+" .compose", "line 5 from Alice", true)
	want = append(want, "line 4 from Rita", "line 5 from Alice")
	w.wait("line 5", `[...document.querySelectorAll(".line.theirs .text")].some(e => e.textContent === "line 5 from Alice")`)
	check(w, want)
	if n := len(c.paneLines(chat)); n < len(want) {
		t.Fatalf("console has %d lines", n)
	}
	p.screenshot("widget-next-page")
}

// TestWebWidgetMarkupIsText: a visitor name and messages holding markup
// show as text in the widget and in the console: no element made, no
// script run (and the CSP would report an inline handler: the harness
// fails on it).
func TestWebWidgetMarkupIsText(t *testing.T) {
	m := startBroker(t, t.TempDir())
	base := "http://" + m.Addr()
	shop := customerSite(t, base)
	allowOrigins(t, m.Addr(), false, shop)
	c := consoleLogin(t, base, "alice@demo", "alice-demo-pw")
	c.setAvailable()

	name := `Eve<img src=x onerror="window.pwned=1">`
	msg := `<script>alert(1)</script><img src=x onerror="window.pwned=2">`
	p := newPage(t)
	w := openWidget(p, shop+"/", base)
	startWidgetChat(w, name, msg)
	c.wait("the offer", `document.querySelector(".offer .accept")`)
	if got := c.text(".offer strong"); got != name {
		t.Fatalf("offer shows %q", got)
	}
	chat := eval[string](c, `document.querySelector(".offer").dataset.chat`)
	c.click(".offer .accept")
	c.wait("the pane", fmt.Sprintf(`document.querySelector(%q)`, paneSel(chat)+` .line[data-seq="3"]`))
	reply := `<img src=x onerror="window.pwned=3"><script>window.pwned=4</script>`
	c.typeIn(paneSel(chat)+" .compose", reply, true)
	w.wait("the reply", `document.querySelector(".line.theirs")`)

	if got := widgetLines(w); strings.Join(got, "|") != msg+"|"+reply {
		t.Fatalf("widget lines %q", got)
	}
	if got := c.paneLines(chat); !strings.Contains(strings.Join(got, "|"), msg) {
		t.Fatalf("console lines %q", got)
	}
	if title := c.text(paneSel(chat) + " .pane-title"); !strings.Contains(title, name) {
		t.Fatalf("console pane title %q", title)
	}
	for _, x := range []*page{w, c, p} {
		if n := eval[int](x, `document.querySelectorAll("img:not(.avatar), script:not([src])").length`); n != 0 {
			t.Fatalf("%d img or script elements in %s", n, eval[string](x, `location.href`))
		}
		if eval[bool](x, `window.pwned !== undefined`) {
			t.Fatal("a script ran")
		}
	}
	p.screenshot("widget-markup")
	c.screenshot("widget-markup-console")
}

// TestWebWidgetOrigins: a customer page whose origin is not in
// Settings.widget_origins cannot frame the widget (the browser refuses the
// frame's document), a listed one can, and a websocket opened by the
// customer's page itself is refused.
func TestWebWidgetOrigins(t *testing.T) {
	m := startBroker(t, t.TempDir())
	base := "http://" + m.Addr()
	listed, other := customerSite(t, base), customerSite(t, base)
	allowOrigins(t, m.Addr(), false, listed)

	p := newPage(t)
	p.navigate(other + "/")
	p.wait("the loader's iframe", `document.querySelector("iframe[data-switchboard-widget]")`)
	deadline := time.Now().Add(15 * time.Second)
	var refused string
	for refused == "" && time.Now().Before(deadline) {
		for _, pr := range p.takeProblems() {
			if strings.Contains(pr, "frame-ancestors") {
				refused = pr
			} else {
				t.Errorf("unexpected browser error: %s", pr)
			}
		}
		eval[bool](p, `new Promise(r => setTimeout(() => r(true), 50))`)
	}
	if refused == "" {
		t.Fatal("the browser did not refuse to frame the widget")
	}
	t.Logf("refused: %s", refused)
	// The frame holds the browser's error page, not the widget (so it can
	// never say it is ready), and it did not.
	f := p.frame(base + "/widget/")
	if got := eval[string](f, `location.href + " " + (document.querySelector("#launcher") ? "launcher" : "none")`); strings.HasSuffix(got, "launcher") {
		t.Fatalf("the blocked frame holds the widget: %s", got)
	} else {
		t.Logf("the blocked frame: %s", got)
	}
	if eval[bool](p, `document.querySelector("iframe[data-switchboard-widget]").hasAttribute("data-ready")`) {
		t.Fatal("the widget loaded on an origin that is not listed")
	}
	// The customer's page opening the broker's websocket itself.
	got := eval[string](p, fmt.Sprintf(`new Promise(r => { const ws = new WebSocket("ws://%s/ws/visitor");
		ws.onopen = () => { ws.close(); r("open"); }; ws.onerror = () => r("refused"); })`, m.Addr()))
	if got != "refused" {
		t.Fatalf("websocket from the customer's page: %s", got)
	}
	for _, pr := range p.takeProblems() {
		if !strings.Contains(pr, "WebSocket") {
			t.Errorf("unexpected browser error: %s", pr)
		}
	}
	p.screenshot("widget-origin-refused")
	p.close() // its blocked frame is a target with the widget's URL too

	q := newPage(t)
	w := openWidget(q, listed+"/", base)
	w.wait("the launcher", `document.querySelector("#launcher")`)
	q.screenshot("widget-origin-listed")
}

// TestWebWidgetForm: the pre-chat form in Swedish lists the departments
// taking chats now (not one switched off), says when one outside its
// business hours opens, goes straight to a department the button names
// (and says when it opens), and shows a refusal in words.
func TestWebWidgetForm(t *testing.T) {
	m := startBroker(t, t.TempDir())
	base := "http://" + m.Addr()
	shop := customerSite(t, base)
	allowOrigins(t, m.Addr(), false, shop)
	mustAdmin(t, m.Addr(), "PUT", "/admin/languages/sv", map[string]any{"name": "Svenska", "chat_enabled": true})
	// Open one hour a week, starting three days from now (UTC).
	day := (int(time.Now().UTC().Weekday()) + 3) % 7
	mustAdmin(t, m.Addr(), "PUT", "/admin/departments/nightly", map[string]any{"name": "Nattjour", "chat_enabled": true,
		"business_hours": []map[string]any{{"days": []int{day}, "start": "03:00", "end": "04:00"}}, "time_zone": "UTC"})
	mustAdmin(t, m.Addr(), "PUT", "/admin/departments/offline", map[string]any{"name": "Offline desk", "chat_enabled": false})
	mustAdmin(t, m.Addr(), "PATCH", "/admin/departments/support", map[string]any{"look": map[string]any{
		"color": "#0b7a75", "title": map[string]string{"sv": "Kundtjänst"}, "greeting": map[string]string{"sv": "Hej från kundtjänst!"}}})
	if code := admin(t, m.Addr(), "PATCH", "/admin/departments/support", map[string]any{"look": map[string]any{"color": "teal"}}, nil); code != http.StatusBadRequest {
		t.Fatalf("a bad colour: HTTP %d", code)
	}

	p := newPage(t)
	w := openWidget(p, shop+"/?language=sv", base)
	w.wait("the form", `document.querySelector("form.prechat")`)
	w.click("#launcher")
	w.wait("the panel", `!document.querySelector("#panel").hidden`)
	if got := w.text(".start"); got != "Starta chatten" {
		t.Fatalf("start button %q", got)
	}
	opts := eval[[]string](w, `[...document.querySelectorAll("#department option")].map(o => (o.disabled ? "-" : "+") + o.textContent)`)
	joined := strings.Join(opts, "|")
	if !strings.HasPrefix(joined, "+Sales|+Support|-Nattjour (öppnar ") || strings.Contains(joined, "Offline") || len(opts) != 3 {
		t.Fatalf("department options %q", opts)
	}
	if got := eval[string](w, `document.querySelector("#language").value`); got != "sv" {
		t.Fatalf("language %q", got)
	}
	// The support department's look: its colour and Swedish texts.
	eval[bool](w, `(() => { const s = document.querySelector("#department"); s.value = "support"; s.dispatchEvent(new Event("change")); return true; })()`)
	w.wait("the department's title", `document.querySelector(".head .title").textContent === "Kundtjänst"`)
	if got := eval[string](w, `getComputedStyle(document.querySelector(".head")).backgroundColor`); got != "rgb(11, 122, 117)" {
		t.Fatalf("head colour %q", got)
	}
	p.wait("the frame open", `document.querySelector("iframe[data-switchboard-widget][data-open]")`)
	p.screenshot("widget-form-sv")

	// Live chat switched off meanwhile: the refusal in words.
	allowOrigins(t, m.Addr(), true, shop)
	w.typeIn("#name", "Sven", false)
	w.typeIn("#message", "Hej!", false)
	w.click(".start")
	w.wait("the refusal", `document.querySelector(".error:not([hidden])")`)
	if got := w.text(".error"); got != "Chatten är avstängd just nu." {
		t.Fatalf("refusal %q", got)
	}
	p.wait("the frame open", `document.querySelector("iframe[data-switchboard-widget][data-open]")`)
	p.screenshot("widget-refused-sv")
	allowOrigins(t, m.Addr(), false, shop)

	// A button that names the department outside its hours.
	w = openWidget(p, shop+"/?language=sv&department=nightly", base)
	w.wait("the form", `document.querySelector("form.prechat")`)
	if got := w.text(".closed"); !strings.HasPrefix(got, "Nattjour är stängd nu; den öppnar ") {
		t.Fatalf("closed note %q", got)
	}
	if !eval[bool](w, `document.querySelector(".start").disabled && !document.querySelector("#department")`) {
		t.Fatal("the form offers a closed or a chosen department")
	}
	if eval[bool](w, `document.querySelector("#panel").hidden`) {
		w.click("#launcher")
	}
	p.wait("the frame open", `document.querySelector("iframe[data-switchboard-widget][data-open]")`)
	p.screenshot("widget-closed-department-sv")
}

// widgetChat is a chat through the widget, on a customer's page of another
// site, with Alice in the console: the visitor (name) asks Sales with
// first, Alice accepts. It returns Alice's console, the customer's page,
// the widget's frame and the chat's id.
func widgetChat(t *testing.T, addr, name, first string) (alice, shopPage, w *page, chat string) {
	t.Helper()
	base := "http://" + addr
	shop := customerSite(t, base)
	allowOrigins(t, addr, false, strings.TrimSuffix(shop, "/"))
	alice = consoleLogin(t, base, "alice@demo", "alice-demo-pw")
	alice.setAvailable()
	shopPage = newPage(t)
	w = openWidget(shopPage, shop+"/", base)
	startWidgetChat(w, name, first)
	alice.wait("the offer", `document.querySelector(".offer .accept")`)
	chat = eval[string](alice, `document.querySelector(".offer").dataset.chat`)
	alice.click(fmt.Sprintf(`.offer[data-chat=%q] .accept`, chat))
	alice.wait("the pane", fmt.Sprintf(`document.querySelector(%q)`, paneSel(chat)))
	return alice, shopPage, w, chat
}
