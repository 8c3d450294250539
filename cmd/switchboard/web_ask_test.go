package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// inAsk is a JavaScript expression evaluated in the console's "Ask a
// colleague" frame (the broker's own widget, same origin), with d its
// document.
func inAsk(expr string) string {
	return fmt.Sprintf(`(() => { const f = document.querySelector("iframe.ask-frame"); const d = f && f.contentDocument;
		if (!d || !d.body) return false; return (%s); })()`, expr)
}

// TestWebAskColleague: Alice (an agent of sales, with livechat.internal)
// opens "Ask a colleague" in her console and asks HR, an internal live
// chat's department, through the framed widget: her name is her
// account's and cannot be changed, only the internal live chat's
// departments are offered. Hana, an HR agent, accepts it in her console,
// whose transcript names the colleague; Hana's answer reaches Alice's
// frame. Bob's role lacks livechat.internal: no such tab.
func TestWebAskColleague(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	base := "http://" + addr
	mustAdmin(t, addr, "PUT", "/admin/livechats/staff", map[string]any{"name": "Ask a colleague", "kind": "LIVE_CHAT_KIND_INTERNAL"})
	mustAdmin(t, addr, "PUT", "/admin/departments/hr", map[string]any{"name": "HR", "chat_enabled": true, "live_chat": "staff"})
	mustAdmin(t, addr, "PUT", "/admin/agents/hana", map[string]any{"login": "hana@demo", "password": "hana-demo-pw", "display_name": "Hana",
		"departments": []string{"hr"}, "languages": []string{"en"}, "chat_agent": true, "max_chats": 2})
	mustAdmin(t, addr, "PUT", "/admin/roles/noask", map[string]any{"name": "No asking", "permissions": []string{"live_chat", "chats.view", "chats.accept"}})
	mustAdmin(t, addr, "PATCH", "/admin/agents/bob", map[string]any{"role": "noask"})

	bob := consoleLogin(t, base, "bob@demo", "bob-demo-pw")
	if eval[bool](bob, `!document.querySelector("#tab-ask").hidden`) {
		t.Fatal("Bob, without livechat.internal, has the Ask a colleague tab")
	}

	alice := consoleLogin(t, base, "alice@demo", "alice-demo-pw")
	alice.wait("the Ask a colleague tab", `!document.querySelector("#tab-ask").hidden`)
	alice.click("#tab-ask")
	alice.click(`.ask[data-livechat="staff"]`)
	alice.wait("the form in the frame", inAsk(`!!d.querySelector("form.prechat #message")`))
	alice.wait("her name, locked", inAsk(`d.querySelector("#name").value === "Alice" && d.querySelector("#name").readOnly`))
	if got := eval[string](alice, inAsk(`[...d.querySelectorAll("#department option")].map(o => o.value).join(",")`)); got != "hr" {
		t.Fatalf("departments offered to a colleague: %q", got)
	}
	eval[bool](alice, inAsk(`(() => { d.querySelector("#name").value = "The CEO"; d.querySelector("#message").value = "When is payday?";
		d.querySelector("form.prechat").requestSubmit(); return true; })()`))
	alice.wait("the question in the frame", inAsk(`!!d.querySelector(".transcript") && d.querySelector(".transcript").textContent.includes("When is payday?")`))
	if eval[bool](alice, inAsk(`!!d.querySelector(".composer .attach")`)) {
		t.Fatal("the colleague's frame offers files, which its session cannot send")
	}
	alice.screenshot("ask-colleague-asked")

	hana := consoleLogin(t, base, "hana@demo", "hana-demo-pw")
	hana.setAvailable()
	hana.wait("the offer", `document.querySelector(".offer .accept")`)
	if name := hana.text(".offer"); !strings.Contains(name, "Alice") || strings.Contains(name, "CEO") {
		t.Fatalf("the offer reads %q", name)
	}
	chat := eval[string](hana, `document.querySelector(".offer").dataset.chat`)
	hana.click(fmt.Sprintf(`.offer[data-chat=%q] .accept`, chat))
	hana.wait("the colleague named in the transcript", fmt.Sprintf(`(document.querySelector(%q)?.textContent || "").includes("Colleague Alice (staff id alice)")`,
		paneSel(chat)+" .transcript"))
	hana.typeIn(paneSel(chat)+" .compose", "Payday is the 25th.", true)
	alice.wait("Hana's answer in the frame", inAsk(`d.querySelector(".transcript").textContent.includes("Payday is the 25th.")`))
	hana.screenshot("ask-colleague-answered")
	alice.screenshot("ask-colleague-answer")
}

// TestWebAdminLiveChats: the administrator makes an internal live chat
// on the Live chats page (its kind and a supervisor ticked), moves a
// department to it on the Departments page, and is told why it cannot be
// deleted while the department is in it; main cannot be made internal.
// The broker holds what the pages said, and the changes are audited.
func TestWebAdminLiveChats(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	p := adminPage(t, "http://"+addr, "dana@demo", "dana-demo-pw", "livechats")
	p.wait("main in the list", `document.querySelector('.admin-list [data-id="main"]')`)
	p.newRecord()
	p.setText(adminField("id"), "staff")
	p.setText(adminField("name"), "Ask a colleague")
	p.setSelect(adminField("kind"), "LIVE_CHAT_KIND_INTERNAL")
	p.checkBox("supervisors", "dana")
	p.click("#admin-detail .save")
	p.wait("the live chat created", `document.querySelector(".admin-note").textContent.includes("Created live chat staff")`)
	var lc map[string]any
	if code := admin(t, addr, "GET", "/admin/livechats/staff", nil, &lc); code != http.StatusOK || lc["kind"] != "LIVE_CHAT_KIND_INTERNAL" ||
		lc["name"] != "Ask a colleague" || toJSON(lc["supervisors"]) != `["dana"]` {
		t.Fatalf("the live chat made on the page: %d %v", code, lc)
	}

	p.openAdmin("departments")
	p.openRecord("support")
	p.setSelect(adminField("live_chat"), "staff")
	p.click("#admin-detail .save")
	p.wait("the department saved", `document.querySelector(".admin-note").textContent.includes("Saved department support: live_chat")`)
	var dep map[string]any
	if admin(t, addr, "GET", "/admin/directory", nil, &dep); !strings.Contains(toJSON(dep["departments"]), `"live_chat":"staff"`) {
		t.Fatalf("support was not moved: %v", dep["departments"])
	}

	p.openAdmin("livechats")
	p.openRecord("staff")
	p.click(`#admin-detail .confirm .danger`)
	p.click(`#admin-detail .confirm .yes`)
	p.wait("the refusal", `document.querySelector("#admin-detail").textContent.includes("still has departments (support)")`)
	if code := admin(t, addr, "GET", "/admin/livechats/staff", nil, nil); code != http.StatusOK {
		t.Fatalf("the live chat is gone: %d", code)
	}
	p.openRecord("main")
	p.setSelect(adminField("kind"), "LIVE_CHAT_KIND_INTERNAL")
	p.click("#admin-detail .save")
	p.wait("the refusal next to the kind", `(document.querySelector('#admin-detail [data-error-for="kind"]')?.textContent || "").includes("external")`)
	p.screenshot("admin-livechats")
	if n := len(auditPage(t, addr, "kind=admin.livechat.put&actor=dana")); n < 2 {
		t.Fatalf("%d audited live chat changes by dana", n)
	}
}
