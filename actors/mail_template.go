package actors

// Email templates: the broker's defaults, a department's own over them,
// and the placeholders filled in. Text and subject are plain
// substitution; the HTML body becomes an html/template whose every
// placeholder is a value, so what visitors and agents wrote is escaped
// where it lands (text, attribute or URL).

import (
	"bytes"
	"fmt"
	"html/template"
	"net/mail"
	"regexp"
	"strings"

	"github.com/switchboard-chat/switchboard/messages"
)

// The purposes of a mail, as ChatEmailed and OutboxMail spell them.
const (
	PurposeTranscript   = "transcript"
	PurposeAgent        = "agent"
	PurposeOfflineReply = "offline_reply"
)

// MailPlaceholders are the names a template may use, in braces.
var MailPlaceholders = []string{"visitor.name", "visitor.email", "agent.name", "department.name", "chat.transcript",
	"message", "subject", "brand.name", "brand.logo_url"}

var placeholder = regexp.MustCompile(`\{([a-z]+(?:\.[a-z_]+)?)\}`)

// defaultTemplates are the broker's own, used where a department's and
// the defaults ("") leave a field empty.
var defaultTemplates = map[string]*messages.EmailTemplate{
	PurposeTranscript: {
		Subject: "Your chat with {department.name}",
		Text:    "Hello {visitor.name},\n\nhere is the transcript of your chat with {department.name}.\n\n{chat.transcript}\n\n{brand.name}\n",
		Html: `<p>Hello {visitor.name},</p><p>here is the transcript of your chat with {department.name}.</p>` +
			`<pre style="white-space:pre-wrap;font-family:inherit">{chat.transcript}</pre><p>{brand.name}</p>`,
	},
	PurposeAgent: {
		Subject: "{subject}",
		Text:    "{message}\n\n{agent.name}\n{brand.name}\n",
		Html:    `<p style="white-space:pre-wrap">{message}</p><p>{agent.name}<br>{brand.name}</p>`,
	},
	PurposeOfflineReply: {
		Subject: "Re: your message to {department.name}",
		Text:    "Hello {visitor.name},\n\n{message}\n\n{agent.name}\n{brand.name}\n\nYou wrote:\n{chat.transcript}\n",
		Html: `<p>Hello {visitor.name},</p><p style="white-space:pre-wrap">{message}</p><p>{agent.name}<br>{brand.name}</p>` +
			`<p>You wrote:</p><blockquote style="white-space:pre-wrap">{chat.transcript}</blockquote>`,
	},
}

// pickTemplate is purpose's template for a department: each field from
// the department's templates, else the defaults' (""), else the broker's.
// brand and logo likewise (brand falls back to the department's name).
func pickTemplate(x *messages.EmailSettings, dept, purpose string) (t *messages.EmailTemplate, brand, logo string) {
	t = &messages.EmailTemplate{}
	for _, ts := range []*messages.EmailTemplates{x.GetTemplates()[dept], x.GetTemplates()[""]} {
		own := templateOf(ts, purpose)
		t.Subject = orElse(t.Subject, own.GetSubject())
		t.Text = orElse(t.Text, own.GetText())
		t.Html = orElse(t.Html, own.GetHtml())
		brand, logo = orElse(brand, ts.GetBrandName()), orElse(logo, ts.GetLogoUrl())
	}
	d := defaultTemplates[purpose]
	t.Subject, t.Text, t.Html = orElse(t.Subject, d.GetSubject()), orElse(t.Text, d.GetText()), orElse(t.Html, d.GetHtml())
	return t, brand, logo
}

func templateOf(ts *messages.EmailTemplates, purpose string) *messages.EmailTemplate {
	switch purpose {
	case PurposeTranscript:
		return ts.GetTranscript()
	case PurposeAgent:
		return ts.GetAgent()
	}
	return ts.GetOfflineReply()
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// renderMail fills in purpose's template for dept with vars (brand and
// logo added): the subject (on one line), text and HTML bodies.
func renderMail(x *messages.EmailSettings, dept, purpose string, vars map[string]string) (subject, text, html string, err error) {
	t, brand, logo := pickTemplate(x, dept, purpose)
	vars["brand.name"] = orElse(brand, vars["department.name"])
	vars["brand.logo_url"] = logo
	subject = strings.Join(strings.Fields(expandText(t.GetSubject(), vars)), " ")
	text = expandText(t.GetText(), vars)
	body, err := expandHTML(t.GetHtml(), vars)
	if err != nil {
		return "", "", "", err
	}
	if logo != "" {
		var top string
		top, err = expandHTML(`<p><img src="{brand.logo_url}" alt="{brand.name}" style="max-height:48px"></p>`, vars)
		body = top + body
	}
	return subject, text, body, err
}

func expandText(tpl string, vars map[string]string) string {
	return placeholder.ReplaceAllStringFunc(tpl, func(m string) string {
		if v, ok := vars[m[1:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// htmlTemplate makes an administrator's HTML an html/template: its own
// "{{" is text, and each known placeholder a value.
func htmlTemplate(tpl string) (*template.Template, error) {
	src := strings.ReplaceAll(tpl, "{{", `{{"{{"}}`)
	src = placeholder.ReplaceAllStringFunc(src, func(m string) string {
		key := m[1 : len(m)-1]
		for _, p := range MailPlaceholders {
			if p == key {
				return `{{index . "` + key + `"}}`
			}
		}
		return m
	})
	return template.New("mail").Parse(src)
}

func expandHTML(tpl string, vars map[string]string) (string, error) {
	t, err := htmlTemplate(tpl)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, vars); err != nil {
		return "", err
	}
	return b.String(), nil
}

// MaxTemplateBytes bounds one template field.
const MaxTemplateBytes = 64 << 10

// CheckMailAddress checks one bare email address (no display name).
func CheckMailAddress(field, addr string) *messages.Error {
	a, err := mail.ParseAddress(addr)
	if addr == "" || len(addr) > 254 || err != nil || a.Address != addr || a.Name != "" {
		return refuse(field, codeInvalid, "%s must be one email address such as someone@example.com", field)
	}
	return nil
}

// checkTemplates checks one department's templates: each field within
// its size, and each HTML body a template that runs.
func checkTemplates(field string, ts *messages.EmailTemplates) *messages.Error {
	if e := checkText(field+".brand_name", ts.GetBrandName()); e != nil {
		return e
	}
	if u := ts.GetLogoUrl(); u != "" && (!strings.HasPrefix(u, "https://") || len(u) > 2048 || strings.ContainsAny(u, " \"<>")) {
		return refuse(field+".logo_url", codeInvalid, "logo_url must be an https URL")
	}
	for _, p := range []string{PurposeTranscript, PurposeAgent, PurposeOfflineReply} {
		t := templateOf(ts, p)
		f := fmt.Sprintf("%s.%s", field, p)
		if len(t.GetSubject()) > 998 {
			return refuse(f+".subject", codeInvalid, "a subject has at most 998 bytes")
		}
		if len(t.GetText()) > MaxTemplateBytes || len(t.GetHtml()) > MaxTemplateBytes {
			return refuse(f, codeInvalid, "a template body has at most %d KiB", MaxTemplateBytes>>10)
		}
		if _, err := expandHTML(t.GetHtml(), map[string]string{}); err != nil {
			return refuse(f+".html", codeInvalid, "the HTML body is not a template that works: %v", err)
		}
	}
	return nil
}
