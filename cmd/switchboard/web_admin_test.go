package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// adminPage logs in to the console as login and opens the Admin tab on
// the page named (departments, staff, roles, languages, settings, audit).
func adminPage(t *testing.T, base, login, password, page string) *page {
	t.Helper()
	p := consoleLogin(t, base, login, password)
	p.click("#tab-admin")
	p.wait("the admin pages", `document.querySelector("#admin-page[data-page]")`)
	p.openAdmin(page)
	return p
}

// openAdmin shows one of the admin pages.
func (p *page) openAdmin(page string) {
	p.t.Helper()
	p.click("#admin-nav-" + page)
	p.wait("the "+page+" page", fmt.Sprintf(`document.querySelector("#admin-page").dataset.page === %q`, page))
}

// adminField is the selector of a field of the open record's form.
func adminField(name string) string { return fmt.Sprintf(`#admin-detail [name=%q]`, name) }

// adminError is the text of the error shown next to a field ("" if none).
func (p *page) adminError(name string) string {
	return p.text(fmt.Sprintf(`#admin-detail [data-error-for=%q]`, name))
}

// setSelect picks a value in a <select> as a person would (change event).
func (p *page) setSelect(sel, value string) {
	p.t.Helper()
	if !eval[bool](p, fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q;
		s.dispatchEvent(new Event("change", {bubbles: true})); return s.value === %q; })()`, sel, value, value)) {
		p.t.Fatalf("%s has no option %q", sel, value)
	}
}

// checkBox ticks the checkbox of value in the field name's list.
func (p *page) checkBox(name, value string) {
	p.t.Helper()
	p.click(fmt.Sprintf(`#admin-detail [data-field=%q] input[value=%q]`, name, value))
}

// openRecord opens a record in the list and waits for its form.
func (p *page) openRecord(id string) {
	p.t.Helper()
	p.click(fmt.Sprintf(`.admin-list [data-id=%q] button`, id))
	p.wait("the form of "+id, fmt.Sprintf(`document.querySelector(%q)`, fmt.Sprintf(`#admin-detail .record[data-id=%q]`, id)))
}

// newRecord opens the form of a new record.
func (p *page) newRecord() {
	p.t.Helper()
	p.click(".md-head .new")
	p.wait("the new record's form", `document.querySelector("#admin-detail .record[data-id='']")`)
}

// save submits the open form and waits for the broker's answer: the page's
// note (saved) or an error shown in the form.
func (p *page) save() {
	p.t.Helper()
	p.click("#admin-detail .save")
	p.wait("the answer", `document.querySelector(".admin-note").textContent ||
		[...document.querySelectorAll("#admin-detail .error")].some(e => e.textContent)`)
}

// setText replaces the text of a field, typing it.
func (p *page) setText(sel, text string) {
	p.t.Helper()
	eval[bool](p, fmt.Sprintf(`(() => { document.querySelector(%q).value = ""; return true; })()`, sel))
	p.typeIn(sel, text, false)
}

// directory reads the directory through the admin API.
func directory(t *testing.T, addr string) *messages.DirectoryView {
	t.Helper()
	var raw json.RawMessage
	if code := admin(t, addr, "GET", "/admin/directory", nil, &raw); code != http.StatusOK {
		t.Fatalf("GET /admin/directory = %d", code)
	}
	v := &messages.DirectoryView{}
	if err := protoIn.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
	return v
}

func agentOf(v *messages.DirectoryView, id string) *messages.Agent {
	for _, a := range v.GetAgents() {
		if a.GetId() == id {
			return a
		}
	}
	return nil
}

// TestWebAdminCreatesDepartmentRoleAgent: the administrator creates a
// department, a role and an agent in the pages; the agent logs in to the
// console, sets available, and gets a chat in the new department.
func TestWebAdminCreatesDepartmentRoleAgent(t *testing.T) {
	m := startBroker(t, t.TempDir())
	base := "http://" + m.Addr()
	p := adminPage(t, base, "dana@demo", "dana-demo-pw", "departments")
	p.wait("the demo departments", `document.querySelector('.admin-list [data-id="sales"]')`)
	createBillingInPages(p)
	createHelperInPages(p)
	createErikInPages(p)

	v := directory(t, m.Addr())
	checkBillingStored(t, v)
	checkHelperStored(t, v)
	checkErikStored(t, v)
	erikTakesBillingChat(t, base, m.Addr())
}

// createBillingInPages: a department, open every day all day, with dana
// as its supervisor.
func createBillingInPages(p *page) {
	p.newRecord()
	p.typeIn(adminField("id"), "billing", false)
	p.typeIn(adminField("name"), "Billing", false)
	p.setSelect(adminField("policy"), "ROUTING_POLICY_ROUND_ROBIN")
	p.typeIn(adminField("offer_timeout_ms"), "45", false)
	p.click("#admin-detail .add-window") // Mon-Fri 09:00-17:00; made every day, all day:
	for _, d := range []string{"0", "6"} {
		p.checkBox("business_hours", d)
	}
	eval[bool](p, `(() => { document.querySelector("#admin-detail .window .end").value = "09:00"; return true; })()`)
	p.typeIn(adminField("time_zone"), "Europe/Stockholm", false)
	p.checkBox("supervisors", "dana")
	p.save()
	p.wait("billing in the list", `document.querySelector('.admin-list [data-id="billing"]')`)
	p.screenshot("admin-departments")
}

// createHelperInPages: a role with chats.status.
func createHelperInPages(p *page) {
	p.openAdmin("roles")
	p.newRecord()
	p.typeIn(adminField("id"), "helper", false)
	p.typeIn(adminField("name"), "Helper", false)
	p.checkBox("permissions", "chats.status")
	p.save()
	p.wait("helper in the list", `document.querySelector('.admin-list [data-id="helper"]')`)
	p.screenshot("admin-roles")
}

// createErikInPages: a helper in billing.
func createErikInPages(p *page) {
	p.openAdmin("staff")
	p.newRecord()
	p.typeIn(adminField("login"), "erik@demo", false)
	p.typeIn(adminField("password"), "erik-password-1", false)
	p.typeIn(adminField("display_name"), "Erik", false)
	p.setSelect(adminField("role"), "helper")
	p.checkBox("departments", "billing")
	p.checkBox("languages", "en")
	p.save()
	p.wait("erik in the list", `document.querySelector('.admin-list [data-id="erik-demo"]')`)
	p.screenshot("admin-staff")
}

func checkBillingStored(t *testing.T, v *messages.DirectoryView) {
	t.Helper()
	var dep *messages.Department
	for _, d := range v.GetDepartments() {
		if d.GetId() == "billing" {
			dep = d
		}
	}
	if dep == nil || dep.GetName() != "Billing" || !dep.GetChatEnabled() || dep.GetPolicy() != messages.RoutingPolicy_ROUTING_POLICY_ROUND_ROBIN ||
		dep.GetOfferTimeoutMs() != 45000 || dep.GetTimeZone() != "Europe/Stockholm" || len(dep.GetBusinessHours()) != 1 || len(dep.GetBusinessHours()[0].GetDays()) != 7 ||
		strings.Join(dep.GetSupervisors(), ",") != "dana" {
		t.Fatalf("billing = %v", dep)
	}
}

func checkHelperStored(t *testing.T, v *messages.DirectoryView) {
	t.Helper()
	var role *messages.Role
	for _, r := range v.GetRoles() {
		if r.GetId() == "helper" {
			role = r
		}
	}
	if got := strings.Join(role.GetPermissions(), ","); got != "chats.accept,chats.status,chats.view,live_chat" {
		t.Fatalf("helper's permissions = %s", got)
	}
}

func checkErikStored(t *testing.T, v *messages.DirectoryView) {
	t.Helper()
	erik := agentOf(v, "erik-demo")
	if erik == nil || erik.GetLogin() != "erik@demo" || erik.GetRole() != "helper" || strings.Join(erik.GetDepartments(), ",") != "billing" ||
		strings.Join(erik.GetLanguages(), ",") != "en" || !erik.GetChatAgent() || erik.GetDisplayName() != "Erik" {
		t.Fatalf("erik = %v", erik)
	}
}

// erikTakesBillingChat: erik logs in to the console, sets available and
// accepts a billing chat; his pane offers what his role gives.
func erikTakesBillingChat(t *testing.T, base, addr string) {
	t.Helper()
	q := consoleLogin(t, base, "erik@demo", "erik-password-1")
	if !eval[bool](q, `document.querySelector("#tab-admin").hidden`) {
		t.Fatal("a helper sees the Admin tab")
	}
	q.setAvailable()
	_, chat := visitorChat(t, addr, "billing", "Vera", "a question about my invoice")
	q.wait("the offer", fmt.Sprintf(`document.querySelector(%q)`, fmt.Sprintf(`.offer[data-chat=%q] .accept`, chat)))
	q.click(fmt.Sprintf(`.offer[data-chat=%q] .accept`, chat))
	q.wait("the chat's pane", fmt.Sprintf(`document.querySelector(%q)?.textContent.includes("a question about my invoice")`, paneSel(chat)+" .transcript"))
	// The role gives chats.status but not chats.forward nor chats.invite:
	// the pane offers the work status, not Transfer or Invite.
	if got := eval[string](q, fmt.Sprintf(`["work", "transfer", "invite", "close-chat"].map(c => c + ":" + !document.querySelector(%q + " ." + c).hidden).join(" ")`, paneSel(chat))); got != "work:true transfer:false invite:false close-chat:true" {
		t.Fatalf("the pane's controls: %s", got)
	}
	q.screenshot("admin-new-agent-chat")
}

// TestWebAdminTypedErrors: bad values show the server's typed error next
// to the field it is about, and change nothing.
func TestWebAdminTypedErrors(t *testing.T) {
	m := startBroker(t, t.TempDir())
	base := "http://" + m.Addr()
	before := directory(t, m.Addr())
	p := adminPage(t, base, "dana@demo", "dana-demo-pw", "staff")

	// A login already taken.
	p.newRecord()
	p.typeIn(adminField("login"), "ALICE@demo", false)
	p.typeIn(adminField("password"), "another-password", false)
	p.save()
	p.wait("the error at login", `document.querySelector('#admin-detail [data-error-for="login"]').textContent.includes("taken")`)
	if got := p.adminError("password") + p.text("#admin-detail .form-error"); got != "" {
		t.Fatalf("errors elsewhere: %q", got)
	}
	if !eval[bool](p, `document.querySelector('#admin-detail [name="login"]').getAttribute("aria-invalid") === "true"`) {
		t.Fatal("the login field is not marked invalid")
	}
	// A short password, caught by the gateway.
	p.setText(adminField("login"), "alice2@demo")
	p.setText(adminField("password"), "short")
	p.save()
	p.wait("the error at password", `document.querySelector('#admin-detail [data-error-for="password"]').textContent.includes("8 characters")`)
	if got := p.adminError("login"); got != "" {
		t.Fatalf("the old login error stayed: %q", got)
	}

	// An invalid time zone in an agent's access rules.
	p.openRecord("alice")
	p.typeIn(adminField("access.time_zone"), "Mars/Base", false)
	p.save()
	p.wait("the error at the access time zone", `document.querySelector('#admin-detail [data-error-for="access.time_zone"]').textContent.includes("Mars/Base")`)
	p.screenshot("admin-error")

	// And in a department's.
	p.openAdmin("departments")
	p.openRecord("sales")
	p.typeIn(adminField("time_zone"), "Nowhere/City", false)
	p.save()
	p.wait("the error at the time zone", `document.querySelector('#admin-detail [data-error-for="time_zone"]').textContent.includes("Nowhere/City")`)

	after := directory(t, m.Addr())
	if a, b := toJSON(before), toJSON(after); a != b {
		t.Fatalf("the directory changed:\n%s\n%s", a, b)
	}
}

// TestWebAdminEditKeepsOtherFields: changing one field of an agent in the
// form sends that field only; everything else stays.
func TestWebAdminEditKeepsOtherFields(t *testing.T) {
	m := startBroker(t, t.TempDir())
	base := "http://" + m.Addr()
	mustAdmin(t, m.Addr(), "PATCH", "/admin/agents/alice", map[string]any{
		"avatar_url": "https://example.com/alice.png", "max_chats": 4, "auto_accept": true,
		"access":   map[string]any{"ip_allow": []string{"127.0.0.0/8"}, "time_zone": "Europe/Madrid"},
		"schedule": map[string]any{"shifts": []any{map[string]any{"days": []int{1, 2, 3}, "start": "08:00", "end": "16:00"}}, "time_zone": "Europe/Madrid"},
	})
	before := agentOf(directory(t, m.Addr()), "alice")
	p := adminPage(t, base, "dana@demo", "dana-demo-pw", "staff")
	p.openRecord("alice")
	p.wait("the form filled", `document.querySelector('#admin-detail [name="access.time_zone"]').value === "Europe/Madrid" &&
		document.querySelectorAll('#admin-detail [data-field="schedule.shifts"] .window').length === 1`)
	p.setText(adminField("display_name"), "Alice Andersson")
	p.save()
	p.wait("the saved note", `document.querySelector(".admin-note").textContent.includes("display_name")`)
	if note := p.text(".admin-note"); !strings.HasSuffix(note, ": display_name.") {
		t.Fatalf("the form sent more than the display name: %q", note)
	}
	after := agentOf(directory(t, m.Addr()), "alice")
	if after.GetDisplayName() != "Alice Andersson" {
		t.Fatalf("display name = %q", after.GetDisplayName())
	}
	after.DisplayName = before.GetDisplayName()
	if a, b := toJSON(before), toJSON(after); a != b {
		t.Fatalf("other fields changed:\n%s\n%s", a, b)
	}
	p.resize(360, 740)
	p.wait("one column", `document.querySelector(".md-detail").getBoundingClientRect().width <= 360`)
	if w := eval[float64](p, `document.documentElement.scrollWidth`); w > 360 {
		t.Fatalf("the page is %v px wide at 360: %s", w, eval[string](p, `[...document.querySelectorAll("*")].filter(e => e.getBoundingClientRect().right > 361).slice(-5).map(e => e.tagName + "." + e.className + "#" + e.id + " " + Math.round(e.getBoundingClientRect().right)).join(", ")`))
	}
	p.screenshot("admin-staff-360")
}

// TestWebAdminAudit: the audit log page shows entries, filters them by
// kind and actor, and pages.
func TestWebAdminAudit(t *testing.T) {
	// A clock that stands still: every entry has the same millisecond,
	// and the pages must neither skip nor repeat any of them.
	m := startBroker(t, t.TempDir(), func(c *Config) { c.Clock = newFakeClock() })
	base := "http://" + m.Addr()
	for i := range 30 {
		mustAdmin(t, m.Addr(), "PUT", fmt.Sprintf("/admin/languages/x%c%c", 'a'+i/26, 'a'+i%26), map[string]any{"name": fmt.Sprint("Language ", i)})
	}
	p := adminPage(t, base, "dana@demo", "dana-demo-pw", "audit")
	p.wait("entries", `document.querySelectorAll(".audit-table tbody tr[data-kind]").length > 0`)
	p.typeIn("#audit-kind", "admin.language", false)
	p.setSelect("#audit-limit", "25")
	p.click("#audit-apply")
	rows := `[...document.querySelectorAll(".audit-table tbody tr[data-kind]")]`
	p.wait("the first page", rows+`.length === 25 && `+rows+`.every(r => r.dataset.kind === "admin.language.put")`)
	p.screenshot("admin-audit")
	first := eval[[]string](p, rows+`.map(r => r.textContent)`)
	p.click("#audit-next")
	p.wait("the second page", rows+`.length === 5 && document.querySelector("#audit-next").disabled`)
	for _, r := range eval[[]string](p, rows+`.map(r => r.textContent)`) {
		if slices.Contains(first, r) {
			t.Fatalf("an entry on both pages: %s", r)
		}
	}
	p.click("#audit-prev")
	p.wait("the first page again", rows+`.length === 25`)

	// Dana's login is hers; the admin credential's changes are @admin's.
	p.click("#audit-clear")
	p.typeIn("#audit-actor", "dana", true)
	p.wait("dana's entries", rows+`.length > 0 && `+rows+`.every(r => r.children[2].textContent === "dana") && `+
		rows+`.some(r => r.dataset.kind === "login.ok")`)
}

// TestWebAdminNeedsPermission: a staff member without the admin permission
// has no Admin tab, and the API refuses their session anyway.
func TestWebAdminNeedsPermission(t *testing.T) {
	m := startBroker(t, t.TempDir())
	p := consoleLogin(t, "http://"+m.Addr(), "alice@demo", "alice-demo-pw")
	if !eval[bool](p, `document.querySelector("#tab-admin").hidden`) {
		t.Fatal("alice sees the Admin tab")
	}
	tok := eval[string](p, `sessionStorage.getItem("switchboard.session")`)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/admin/directory", ""},
		{"PATCH", "/admin/agents/alice", `{"role":"administrator"}`},
		{"GET", "/admin/audit", ""},
		{"GET", "/admin/channels", ""},
		{"GET", "/admin/webhooks", ""},
	} {
		if code, body := staffHTTP(t, m.Addr(), tok, c.method, c.path, c.body); code != http.StatusForbidden {
			t.Fatalf("%s %s with alice's session = %d %s", c.method, c.path, code, body)
		}
	}
	if a := agentOf(directory(t, m.Addr()), "alice"); a.GetRole() != "" && a.GetRole() != "agent" {
		t.Fatalf("alice's role became %q", a.GetRole())
	}
	p.screenshot("admin-no-tab")
}

// TestWebAdminPages: the languages and site settings pages change what
// they show (screenshots for the README).
func TestWebAdminPages(t *testing.T) {
	m := startBroker(t, t.TempDir())
	p := adminPage(t, "http://"+m.Addr(), "dana@demo", "dana-demo-pw", "settings")
	// The demo lists its own page (http://localhost:PORT); add a shop.
	demo := eval[string](p, fmt.Sprintf(`document.querySelector(%q).value`, adminField("widget_origins")))
	if !strings.HasPrefix(demo, "http://localhost:") {
		t.Fatalf("the demo's widget origins are %q", demo)
	}
	eval[bool](p, fmt.Sprintf(`(document.querySelector(%q).value = "", true)`, adminField("widget_origins")))
	p.typeIn(adminField("widget_origins"), demo+"\nhttps://shop.example.com", false)
	p.click(adminField("live_chat_off")) // live chat off
	p.save()
	p.wait("the saved note", `document.querySelector(".admin-note").textContent.includes("widget_origins")`)
	s := directory(t, m.Addr()).GetSettings()
	if !s.GetLiveChatOff() || strings.Join(s.GetWidgetOrigins(), ",") != demo+",https://shop.example.com" {
		t.Fatalf("settings = %v", s)
	}
	p.screenshot("admin-settings")

	p.openAdmin("languages")
	p.newRecord()
	p.typeIn(adminField("code"), "sv", false)
	p.typeIn(adminField("name"), "Svenska", false)
	p.save()
	p.wait("sv in the list", `document.querySelector('.admin-list [data-id="sv"]')`)
	p.screenshot("admin-languages")
	p.openRecord("sv")
	p.click(`#admin-detail .confirm .danger`)
	p.click(`#admin-detail .confirm .yes`)
	p.wait("sv removed from the list", `!document.querySelector('.admin-list [data-id="sv"]')`)
	for _, l := range directory(t, m.Addr()).GetLanguages() {
		if l.GetCode() == "sv" {
			t.Fatal("sv is still in the directory")
		}
	}
}
