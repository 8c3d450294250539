package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// The admin pages of the desk's settings (issue 13): a department's tags,
// retention and offline messages, and the Email page.

func departmentOf(v *messages.DirectoryView, id string) *messages.Department {
	for _, d := range v.GetDepartments() {
		if d.GetId() == id {
			return d
		}
	}
	return nil
}

// TestWebAdminDepartmentDeskFields: the administrator gives Support tags
// (one with markup, kept as text), requires one, keeps its chats 30 days
// and takes offline messages. Bad values are refused next to their field
// and change nothing; the save sends only these fields and nothing else
// of the department changes.
func TestWebAdminDepartmentDeskFields(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	before := departmentOf(directory(t, addr), "support")
	p := adminPage(t, "http://"+addr, "dana@demo", "dana-demo-pw", "departments")
	p.openRecord("support")
	p.click(adminField("require_tag"))
	p.typeIn(adminField("retention_days"), "40000", false)
	p.click(adminField("offline_messages"))
	p.save()
	if msg := p.adminError("retention_days"); !strings.Contains(msg, "36500") {
		t.Fatalf("retention_days error %q; page: %s", msg, p.dump())
	}
	p.setText(adminField("retention_days"), "30")
	p.save()
	if msg := p.adminError("require_tag"); msg == "" {
		t.Fatalf("no error next to require_tag without tags; page: %s", p.dump())
	}
	if d := departmentOf(directory(t, addr), "support"); toJSON(d) != toJSON(before) {
		t.Fatalf("a refused change was stored: %v", d)
	}

	p.typeIn(adminField("tags"), "billing\nrefund\n<b>vip</b>", false)
	p.save()
	p.wait("the saved note", `document.querySelector(".admin-note").textContent.startsWith("Saved department support")`)
	note := p.text(".admin-note")
	sent := strings.Split(strings.TrimSuffix(note[strings.Index(note, ": ")+2:], "."), ", ")
	slices.Sort(sent)
	if want := []string{"offline_messages", "require_tag", "retention_days", "tags"}; !slices.Equal(sent, want) {
		t.Fatalf("the form sent %v, want %v", sent, want)
	}
	after := departmentOf(directory(t, addr), "support")
	if !slices.Equal(after.GetTags(), []string{"billing", "refund", "<b>vip</b>"}) || !after.GetRequireTag() ||
		after.GetRetentionDays() != 30 || !after.GetOfflineMessages() {
		t.Fatalf("stored %v", after)
	}
	after.Tags, after.RequireTag, after.RetentionDays, after.OfflineMessages = nil, false, 0, false
	if a, b := toJSON(before), toJSON(after); a != b {
		t.Fatalf("other fields changed:\n%s\n%s", a, b)
	}

	// The form shows what is stored (the tag as text); emptied, the
	// retention is 0 again: kept for ever.
	p.openRecord("support")
	p.wait("the stored values", fmt.Sprintf(`document.querySelector(%q).value === "billing\nrefund\n<b>vip</b>" &&
		document.querySelector(%q).checked && document.querySelector(%q).checked && document.querySelector(%q).value === "30"`,
		adminField("tags"), adminField("require_tag"), adminField("offline_messages"), adminField("retention_days")))
	if eval[bool](p, `!!document.querySelector("#admin-detail b")`) {
		t.Fatal("a tag became markup")
	}
	p.setText(adminField("retention_days"), "")
	p.save()
	p.wait("the saved note", `document.querySelector(".admin-note").textContent === "Saved department support: retention_days."`)
	if d := departmentOf(directory(t, addr), "support"); d.GetRetentionDays() != 0 || len(d.GetTags()) != 3 {
		t.Fatalf("stored %v", d)
	}
}

// TestWebAdminEmail: the administrator sets the SMTP server and
// templates in the Email page. Refusals are shown next to their field
// (a template's in its department's set, shown for it) and store nothing;
// the password is never shown and is kept when left empty; the test email
// goes through the real server (with the kept password) and its refusals
// are shown by field too.
func TestWebAdminEmail(t *testing.T) {
	ms := startMailServer(t)
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	p := adminPage(t, "http://"+addr, "dana@demo", "dana-demo-pw", "email")
	p.wait("the settings", `document.querySelector("#admin-detail[data-loaded]")`)

	p.click(adminField("smtp.enabled"))
	p.typeIn(adminField("smtp.host"), "127.0.0.1", false)
	p.typeIn(adminField("smtp.port"), fmt.Sprint(ms.port()), false)
	p.setSelect(adminField("smtp.security"), "SMTP_SECURITY_NONE")
	p.typeIn(adminField("smtp.user"), ms.user, false)
	p.typeIn(adminField("smtp.password"), ms.pw, false)
	p.typeIn(adminField("smtp.from"), "Support <support@example.com>", false)
	p.typeIn(adminField("templates..logo_url"), "http://www.example.com/logo.png", false)
	p.setSelect("#email-templates-for", "support")
	p.typeIn(adminField("templates.support.brand_name"), "<b>Acme</b>", false)
	p.typeIn(adminField("templates.support.transcript.subject"), "Your chat with {brand.name}", false)
	p.typeIn(adminField("templates.support.transcript.text"), "Hello {visitor.name}\n{chat.transcript}", false)
	p.save()
	if msg := p.adminError("smtp.from"); msg == "" {
		t.Fatalf("no error next to the sender; page: %s", p.dump())
	}
	p.setText(adminField("smtp.from"), "support@example.com")
	p.save()
	p.wait("the defaults shown with their error", fmt.Sprintf(`document.querySelector("#email-templates-for").value === "" &&
		document.querySelector(%q).offsetParent && document.querySelector(%q).textContent`,
		adminField("templates..logo_url"), `#admin-detail [data-error-for="templates..logo_url"]`))
	if x, _ := m.broker.EmailSettings(); x.GetSmtp() != nil || len(x.GetTemplates()) != 0 {
		t.Fatalf("refused settings were stored: %v", x)
	}
	p.setText(adminField("templates..logo_url"), "https://www.example.com/logo.png")
	p.save()
	p.wait("saved", `document.querySelector(".admin-note").textContent === "Saved the email settings."`)
	x, err := m.broker.EmailSettings()
	sm, sup := x.GetSmtp(), x.GetTemplates()["support"]
	if err != nil || !sm.GetEnabled() || sm.GetHost() != "127.0.0.1" || sm.GetPort() != uint32(ms.port()) || sm.GetPassword() != ms.pw ||
		sm.GetSecurity() != messages.SmtpSecurity_SMTP_SECURITY_NONE || sm.GetFrom() != "support@example.com" ||
		sup.GetBrandName() != "<b>Acme</b>" || sup.GetTranscript().GetSubject() != "Your chat with {brand.name}" ||
		sup.GetTranscript().GetText() != "Hello {visitor.name}\n{chat.transcript}" ||
		x.GetTemplates()[""].GetLogoUrl() != "https://www.example.com/logo.png" || len(x.GetTemplates()) != 2 {
		t.Fatalf("stored %v, %v", x, err)
	}
	checkEmailPageShows(t, p)

	// A change with the password left empty keeps it.
	eval[bool](p, `(document.querySelector(".admin-note").textContent = "", true)`)
	p.setText(adminField("smtp.from"), "help@example.com")
	p.save()
	p.wait("saved", `document.querySelector(".admin-note").textContent === "Saved the email settings."`)
	if x, _ := m.broker.EmailSettings(); x.GetSmtp().GetFrom() != "help@example.com" || x.GetSmtp().GetPassword() != ms.pw {
		t.Fatalf("stored %v: want the new sender and the kept password", x)
	}
	p.wait("the page again", `document.querySelector("#admin-detail[data-loaded]")`)
	emailPageTestSend(t, p, ms)
	auditKinds(t, addr, ms.pw)
}

// checkEmailPageShows: the page read again shows the stored settings, the
// password empty and the brand name as text.
func checkEmailPageShows(t *testing.T, p *page) {
	t.Helper()
	p.wait("the page again", `document.querySelector("#admin-detail[data-loaded]")`)
	p.setSelect("#email-templates-for", "support")
	p.wait("the stored values", fmt.Sprintf(`document.querySelector(%q).value === "127.0.0.1" &&
		document.querySelector(%q).value === "<b>Acme</b>"`, adminField("smtp.host"), adminField("templates.support.brand_name")))
	if v := eval[string](p, fmt.Sprintf(`document.querySelector(%q).value`, adminField("smtp.password"))); v != "" {
		t.Fatalf("the page shows the stored password: %q", v)
	}
	if eval[bool](p, `!!document.querySelector("#admin-detail b")`) {
		t.Fatal("the brand name became markup")
	}
	p.screenshot("admin-email")
}

// emailPageTestSend: a bad address is refused next to it; the test email
// arrives (the kept password worked); a refusing server is shown next to
// the server field.
func emailPageTestSend(t *testing.T, p *page, ms *mailServer) {
	t.Helper()
	p.typeIn("#email-test-to", "not an address", false)
	p.click("#admin-detail .test-send")
	p.wait("the error by the address", `document.querySelector('#admin-detail [data-error-for="to"]').textContent`)
	p.setText("#email-test-to", "admin@example.net")
	p.click("#admin-detail .test-send")
	p.wait("sent", `document.querySelector("#email-test-result").textContent.includes("admin@example.net")`)
	eventually(t, "the test mail", func() bool { return len(ms.mails()) == 1 })
	if got := ms.mails()[0]; got.To != "admin@example.net" || got.From != "help@example.com" {
		t.Fatalf("test mail from %q to %q", got.From, got.To)
	}
	ms.refuse.Store(true)
	p.click("#admin-detail .test-send")
	p.wait("the server's refusal by its field", `document.querySelector('#admin-detail [data-error-for="smtp.host"]').textContent.includes("451")`)
	if p.text("#email-test-result") != "" || p.adminError("to") != "" {
		t.Fatalf("stale result %q or error %q", p.text("#email-test-result"), p.adminError("to"))
	}
}
