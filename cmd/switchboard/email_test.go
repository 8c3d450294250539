package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// Email (issue 13, part 8): the SMTP settings, the durable outbox and
// the three uses, against a real SMTP server in the test process.

// staffCall calls the HTTP API as a demo staff member (Basic) and decodes
// the JSON answer into out (if any).
func staffCall(t testing.TB, addr, login, pw, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, "http://"+addr+path, rd)
	req.SetBasicAuth(login, pw)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return res.StatusCode
}

// asErr is the typed error in err, or nil.
func asErr(err error) *messages.Error {
	var e *messages.Error
	errors.As(err, &e)
	return e
}

// adminError calls the admin API and returns the status and the typed
// error it answered.
func adminError(t testing.TB, addr, method, path string, body any) (int, *messages.Error) {
	t.Helper()
	var raw json.RawMessage
	code := admin(t, addr, method, path, body, &raw)
	e := &messages.Error{}
	if code/100 != 2 {
		if err := protoIn.Unmarshal(raw, e); err != nil {
			t.Fatalf("%s %s = %d %s: not a typed error: %v", method, path, code, raw, err)
		}
	}
	return code, e
}

// chatWith starts a chat in dept from a visitor who gave their name and
// email, taken by the agent login; it returns both clients and the chat id.
func chatWith(t *testing.T, addr, login, pw, dept, name, email string) (vis, agent *gateway.Client, chatID string) {
	t.Helper()
	agent, _ = newAgent(t, addr, login, pw, true)
	vis, _ = newVisitor(t, addr, false)
	env, err := vis.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{
		Department: dept, Language: "en", Name: name, Email: email, FirstMessage: "my order #123 never came"}}})
	if err != nil {
		t.Fatal(err)
	}
	chatID = mustChatID(t, env)
	accept(t, agent, awaitOffer(t, agent).GetChatId())
	return vis, agent, chatID
}

// chatWithBob is chatWith in Support with Bob.
func chatWithBob(t *testing.T, addr, name, email string) (vis, bob *gateway.Client, chatID string) {
	t.Helper()
	return chatWith(t, addr, "bob@demo", "bob-demo-pw", "support", name, email)
}

// emailedEvents are the ChatEmailed events of a chat's record.
func emailedEvents(t testing.TB, addr, chatID string) []*messages.ChatEvent {
	t.Helper()
	var raw json.RawMessage
	if code := admin(t, addr, "GET", "/api/chats/"+chatID, nil, &raw); code != 200 {
		t.Fatalf("GET /api/chats/%s = %d %s", chatID, code, raw)
	}
	rec := &messages.ChatRecord{}
	if err := protoIn.Unmarshal(raw, rec); err != nil {
		t.Fatal(err)
	}
	var out []*messages.ChatEvent
	for _, ev := range rec.GetTranscript() {
		if ev.GetEmailed() != nil {
			out = append(out, ev)
		}
	}
	return out
}

// auditHas reports whether the audit log holds an entry of kind (prefix)
// with ok, and that no entry mentions secret.
func auditKinds(t testing.TB, addr, secret string) map[string]int {
	t.Helper()
	var raw json.RawMessage
	admin(t, addr, "GET", "/admin/audit?limit=1000", nil, &raw)
	if secret != "" && strings.Contains(string(raw), secret) {
		t.Fatalf("the audit log holds the SMTP password: %s", raw)
	}
	page := &messages.AuditPage{}
	if err := protoIn.Unmarshal(raw, page); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range page.GetEntries() {
		if e.GetOk() {
			kinds[e.GetKind()]++
		}
	}
	return kinds
}

// checkTranscriptMail: the transcript mail holds the chat's lines, in
// text and HTML, the visitor's name escaped in the HTML.
func checkTranscriptMail(t *testing.T, mail *receivedMail) {
	t.Helper()
	if mail.To != "ann@example.net" || mail.From != "support@example.com" {
		t.Fatalf("mail from %q to %q", mail.From, mail.To)
	}
	for _, want := range []string{"my order #123 never came", "sorry about that, it ships today", "Bob"} {
		if !strings.Contains(mail.Text, want) || !strings.Contains(mail.HTML, want) {
			t.Errorf("the transcript mail lacks %q:\n%s\n%s", want, mail.Text, mail.HTML)
		}
	}
	if strings.Contains(mail.HTML, "<b>Lee</b>") || !strings.Contains(mail.HTML, "Ann &lt;b&gt;Lee&lt;/b&gt;") {
		t.Errorf("the visitor's name is not escaped in the HTML body:\n%s", mail.HTML)
	}
	if mail.subject() != "Your chat with Support" || !strings.HasPrefix(mail.Header.Get("Message-ID"), "<m") {
		t.Errorf("subject %q, Message-ID %q", mail.subject(), mail.Header.Get("Message-ID"))
	}
}

// The visitor asks for the transcript once the chat is closed: it arrives
// with the chat's text (the visitor's name escaped in the HTML body), is
// recorded in the transcript as visible, and audited; the password never
// shows in an answer or the audit log.
func TestEmailTranscriptToTheVisitor(t *testing.T) {
	ms := startMailServer(t)
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/email", ms.settings())
	var got map[string]any
	admin(t, addr, "GET", "/admin/email", nil, &got)
	if strings.Contains(toJSON(got), ms.pw) || got["smtp"] == nil {
		t.Fatalf("GET /admin/email = %v: want the settings without the password", got)
	}

	vis, bob, chatID := chatWithBob(t, addr, "Ann <b>Lee</b>", "ann@example.net")
	send(t, bob, chatID, "", "sorry about that, it ships today")
	if _, err := vis.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chatID}}}); err != nil {
		t.Fatal(err)
	}
	// Not an address: refused, nothing queued.
	_, err := vis.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_EmailTranscript{EmailTranscript: &messages.EmailTranscript{ChatId: chatID, To: "not an address"}}})
	if e := asErr(err); e == nil || e.GetField() != "to" {
		t.Fatalf("a bad address: %v, want an error about to", err)
	}
	if _, err := vis.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_EmailTranscript{EmailTranscript: &messages.EmailTranscript{ChatId: chatID, To: "ann@example.net"}}}); err != nil {
		t.Fatalf("email the transcript: %v", err)
	}
	eventually(t, "the transcript mail", func() bool { return len(ms.mails()) == 1 })
	checkTranscriptMail(t, ms.mails()[0])
	var evs []*messages.ChatEvent
	eventually(t, "the emailed event", func() bool { evs = emailedEvents(t, addr, chatID); return len(evs) == 1 })
	e := evs[0]
	if e.GetInternal() || e.GetEmailed().GetPurpose() != "transcript" || e.GetEmailed().GetTo() != "ann@example.net" || e.GetEmailed().GetMailId() == "" {
		t.Fatalf("emailed event %v: want a visible transcript event", e)
	}
	kinds := auditKinds(t, addr, ms.pw)
	if kinds["mail.queued"] != 1 || kinds["mail.sent"] != 1 || kinds["admin.email.put"] != 1 {
		t.Fatalf("audit kinds %v", kinds)
	}
	transcriptLimit(t, vis, chatID, ms)
}

// transcriptLimit: a chat's transcript goes out three times at most (one
// sent already); the fourth request is RATE_LIMITED and sends nothing.
func transcriptLimit(t *testing.T, vis *gateway.Client, chatID string, ms *mailServer) {
	t.Helper()
	ask := func() error {
		_, err := vis.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_EmailTranscript{EmailTranscript: &messages.EmailTranscript{ChatId: chatID, To: "ann@example.net"}}})
		return err
	}
	for i := 0; i < 2; i++ {
		if err := ask(); err != nil {
			t.Fatal(err)
		}
	}
	if e := asErr(ask()); e.GetCode() != messages.ErrorCode_ERROR_CODE_RATE_LIMITED {
		t.Fatalf("a fourth transcript: %v", e)
	}
	eventually(t, "three transcript mails", func() bool { return len(ms.mails()) == 3 })
}

// An agent writes to the visitor from the chat (to empty: the address the
// visitor gave); the event is staff-only.
func TestEmailFromChatByAgent(t *testing.T) {
	ms := startMailServer(t)
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/email", ms.settings())
	_, bob, chatID := chatWithBob(t, addr, "Ann", "ann@example.net")
	// A subject is required.
	_, err := bob.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_EmailFromChat{EmailFromChat: &messages.EmailFromChat{ChatId: chatID, Text: "x"}}})
	if e := asErr(err); e.GetCode() != messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT {
		t.Fatalf("no subject: %v", err)
	}
	if _, err := bob.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_EmailFromChat{EmailFromChat: &messages.EmailFromChat{
		ChatId: chatID, Subject: "Your refund", Text: "The refund of 20 EUR is on its way."}}}); err != nil {
		t.Fatalf("email from the chat: %v", err)
	}
	eventually(t, "the agent's mail", func() bool { return len(ms.mails()) == 1 })
	mail := ms.mails()[0]
	if mail.To != "ann@example.net" || mail.subject() != "Your refund" || !strings.Contains(mail.Text, "The refund of 20 EUR is on its way.") ||
		!strings.Contains(mail.Text, "Bob") {
		t.Fatalf("agent's mail to %q, subject %q:\n%s", mail.To, mail.subject(), mail.Text)
	}
	var evs []*messages.ChatEvent
	eventually(t, "the emailed event", func() bool { evs = emailedEvents(t, addr, chatID); return len(evs) == 1 })
	if !evs[0].GetInternal() || evs[0].GetEmailed().GetPurpose() != "agent" || evs[0].GetEmailed().GetBy().GetId() != "bob" {
		t.Fatalf("emailed event %v: want a staff-only agent event by bob", evs[0])
	}
}

// Bad settings are refused with a typed error about the field, and
// nothing changes; an empty password keeps the stored one.
func TestEmailSettingsRefused(t *testing.T) {
	ms := startMailServer(t)
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/email", ms.settings())
	smtpWith := func(k string, v any) map[string]any {
		x := ms.settings()
		x["smtp"].(map[string]any)[k] = v
		if k == "password" {
			x["smtp"].(map[string]any)["user"] = "someone-else"
		}
		return x
	}
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"plain SMTP elsewhere", smtpWith("host", "smtp.example.com"), "smtp.security"},
		{"no sender", smtpWith("from", ""), "smtp.from"},
		{"a sender with a name", smtpWith("from", "Support <support@example.com>"), "smtp.from"},
		{"a host with a port", smtpWith("host", "smtp.example.com/25"), "smtp.host"},
		{"a new user without password", smtpWith("password", ""), "smtp.password"},
		{"a broken HTML template", map[string]any{"templates": map[string]any{"support": map[string]any{"transcript": map[string]any{"html": `<a href="{message}`}}}}, "templates.support.transcript.html"},
		{"an http logo", map[string]any{"templates": map[string]any{"": map[string]any{"logo_url": "http://example.com/logo.png"}}}, "templates..logo_url"},
		{"an unknown department", map[string]any{"templates": map[string]any{"nosuch": map[string]any{"brand_name": "X"}}}, "templates"},
	}
	for _, c := range cases {
		code, e := adminError(t, addr, "PUT", "/admin/email", c.body)
		if code != http.StatusBadRequest || e.GetCode() != messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT || c.field != "" && e.GetField() != c.field {
			t.Errorf("%s: %d %v, want 400 about %q", c.name, code, e, c.field)
		}
	}
	// "{{" in a template is text, not a template action: accepted.
	x := ms.settings()
	x["templates"] = map[string]any{"support": map[string]any{"brand_name": "Acme", "transcript": map[string]any{"subject": "Chat {{x}} with {brand.name}"}}}
	delete(x["smtp"].(map[string]any), "password") // kept: same host, port and user
	mustAdmin(t, addr, "PUT", "/admin/email", x)
	// The kept password works: the test email goes through the server's AUTH.
	var out map[string]any
	if code := admin(t, addr, "POST", "/admin/email/test", map[string]string{"to": "admin@example.net"}, &out); code != 200 {
		t.Fatalf("test email: %d %v", code, out)
	}
	eventually(t, "the test mail", func() bool { return len(ms.mails()) == 1 })
	// A server that refuses: a typed error.
	ms.refuse.Store(true)
	code, e := adminError(t, addr, "POST", "/admin/email/test", map[string]string{"to": "admin@example.net"})
	if code/100 == 2 || !strings.Contains(e.GetMessage(), "451") {
		t.Fatalf("a refusing server: %d %v", code, e)
	}
	auditKinds(t, addr, ms.pw)
}

// A restart in the middle of the outbox: the server refuses the mail (a
// retry on the broker's clock is refused too), the broker stops and
// starts again on the same data, the server now accepts: the mail
// arrives exactly once, and is recorded once.
func TestOutboxSurvivesRestart(t *testing.T) {
	ms := startMailServer(t)
	ms.refuse.Store(true)
	dir := t.TempDir()
	clock := newFakeClock()
	withClock := func(c *Config) { c.Clock, c.MailRetry = clock, time.Minute }
	m := startBroker(t, dir, withClock)
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/email", ms.settings())
	_, bob, chatID := chatWithBob(t, addr, "Ann", "ann@example.net")
	if _, err := bob.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_EmailFromChat{EmailFromChat: &messages.EmailFromChat{
		ChatId: chatID, Subject: "Hello", Text: "once only"}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first try", func() bool { return ms.tries.Load() == 1 })
	// The retry waits for the broker's clock: a minute on, the second try.
	eventually(t, "the retry timer", func() bool { return clock.Pending() > 0 })
	eventually(t, "the second try", func() bool { clock.Advance(time.Minute); return ms.tries.Load() >= 2 })
	m.Close()

	ms.refuse.Store(false)
	m = startBroker(t, dir, withClock)
	addr = m.Addr()
	eventually(t, "the mail after the restart", func() bool { return len(ms.mails()) == 1 })
	eventually(t, "the emailed event", func() bool { return len(emailedEvents(t, addr, chatID)) == 1 })
	// Marked sent: another start sends nothing more.
	m.Close()
	m = startBroker(t, dir, withClock)
	addr = m.Addr()
	clock.Advance(2 * time.Hour)
	if n := len(ms.mails()); n != 1 || len(emailedEvents(t, addr, chatID)) != 1 {
		t.Fatalf("%d mails after a second restart, want 1", n)
	}
	if got := ms.mails()[0]; !strings.Contains(got.Text, "once only") {
		t.Fatalf("mail text %q", got.Text)
	}
}
