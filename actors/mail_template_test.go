package actors

import (
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

func TestRenderMail(t *testing.T) {
	x := &messages.EmailSettings{Templates: map[string]*messages.EmailTemplates{
		"": {BrandName: "Acme", Transcript: &messages.EmailTemplate{Text: "Default {chat.transcript}"}},
		"support": {LogoUrl: "https://acme.example/logo.png", Transcript: &messages.EmailTemplate{
			Subject: "Chat {{x}} with {brand.name}\r\nBcc: evil@example.com",
			Html:    `<p title="{visitor.name}">{visitor.name} {unknown} {{.Secret}}</p><a href="{message}">x</a>`}},
	}}
	vars := map[string]string{"visitor.name": `Ann "<b>"`, "department.name": "Support", "chat.transcript": "[09:00] Ann: hi", "message": "javascript:alert(1)"}
	subject, text, html, err := renderMail(x, "support", PurposeTranscript, vars)
	if err != nil {
		t.Fatal(err)
	}
	// The department's subject (on one line), the defaults' text, brand
	// from the defaults, the department's logo.
	if subject != "Chat {{x}} with Acme Bcc: evil@example.com" {
		t.Errorf("subject %q", subject)
	}
	if text != "Default [09:00] Ann: hi" {
		t.Errorf("text %q", text)
	}
	for _, want := range []string{`<img src="https://acme.example/logo.png" alt="Acme"`, `title="Ann &#34;&lt;b&gt;&#34;"`, `>Ann &#34;&lt;b&gt;&#34; {unknown} {{.Secret}}</p>`, `href="#ZgotmplZ"`} {
		if !strings.Contains(html, want) {
			t.Errorf("html lacks %s:\n%s", want, html)
		}
	}
	// A department without templates: the broker's own, the brand the
	// department's name.
	subject, _, html, err = renderMail(&messages.EmailSettings{}, "sales", PurposeTranscript, map[string]string{"department.name": "Sales", "visitor.name": "Bo"})
	if err != nil || subject != "Your chat with Sales" || !strings.Contains(html, "<p>Sales</p>") {
		t.Errorf("defaults: %q %q %v", subject, html, err)
	}
}

func TestCheckEmailSettings(t *testing.T) {
	ok := &messages.SmtpSettings{Enabled: true, Host: "smtp.example.com", From: "a@example.com", User: "u", Password: "p"}
	for _, c := range []struct {
		name  string
		x     *messages.EmailSettings
		field string
	}{
		{"ok", &messages.EmailSettings{Smtp: ok}, ""},
		{"off: anything goes", &messages.EmailSettings{Smtp: &messages.SmtpSettings{Host: "x y"}}, ""},
		{"plain to another host", &messages.EmailSettings{Smtp: &messages.SmtpSettings{Enabled: true, Host: "smtp.example.com", Security: messages.SmtpSecurity_SMTP_SECURITY_NONE, From: "a@example.com"}}, "smtp.security"},
		{"plain to this machine", &messages.EmailSettings{Smtp: &messages.SmtpSettings{Enabled: true, Host: "::1", Security: messages.SmtpSecurity_SMTP_SECURITY_NONE, From: "a@example.com"}}, ""},
		{"a URL for a host", &messages.EmailSettings{Smtp: &messages.SmtpSettings{Enabled: true, Host: "smtp://x", From: "a@example.com"}}, "smtp.host"},
		{"a user without password", &messages.EmailSettings{Smtp: &messages.SmtpSettings{Enabled: true, Host: "x", User: "u", From: "a@example.com"}}, "smtp.password"},
		{"an unknown security", &messages.EmailSettings{Smtp: &messages.SmtpSettings{Enabled: true, Host: "x", Security: 9, From: "a@example.com"}}, "smtp.security"},
		{"two senders", &messages.EmailSettings{Smtp: &messages.SmtpSettings{Enabled: true, Host: "x", From: "a@example.com, b@example.com"}}, "smtp.from"},
		{"a template that does not end as text", &messages.EmailSettings{Templates: map[string]*messages.EmailTemplates{"sales": {Agent: &messages.EmailTemplate{Html: `<a href="{message}`}}}}, "templates.sales.agent.html"},
		{"a bad department id", &messages.EmailSettings{Templates: map[string]*messages.EmailTemplates{"a/b": {}}}, "templates"},
	} {
		e := CheckEmailSettings(c.x)
		if got := e.GetField(); (e != nil) != (c.field != "") || got != c.field {
			t.Errorf("%s: %v, want field %q", c.name, e, c.field)
		}
	}
}

func TestKeepMailSecret(t *testing.T) {
	old := &messages.EmailSettings{Smtp: &messages.SmtpSettings{Host: "h", User: "u", Password: "secret"}}
	same := &messages.EmailSettings{Smtp: &messages.SmtpSettings{Host: "h", User: "u"}}
	KeepMailSecret(same, old)
	moved := &messages.EmailSettings{Smtp: &messages.SmtpSettings{Host: "elsewhere", User: "u"}}
	KeepMailSecret(moved, old)
	if same.GetSmtp().GetPassword() != "secret" || moved.GetSmtp().GetPassword() != "" {
		t.Fatalf("kept %q for the same server, %q for another", same.GetSmtp().GetPassword(), moved.GetSmtp().GetPassword())
	}
}

func TestMailBackoff(t *testing.T) {
	b := &Broker{mailRetry: 30e9, mailRetryMax: 3600e9}
	var got []string
	for n := uint32(1); n <= 9; n++ {
		got = append(got, b.mailBackoff(n).String())
	}
	if strings.Join(got, " ") != "30s 1m0s 2m0s 4m0s 8m0s 16m0s 32m0s 1h0m0s 1h0m0s" {
		t.Fatalf("backoff %v", got)
	}
}
