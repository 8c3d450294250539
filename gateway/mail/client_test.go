package mail

import (
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

func TestCompose(t *testing.T) {
	c := &Client{Now: func() time.Time { return time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC) }}
	s := &messages.SmtpSettings{From: "support@acme.example"}
	m := &messages.OutboxMail{Id: "m0123", To: "ann@example.net", Subject: "Din chatt med Säljavdelningen\r\nBcc: evil@example.com",
		Text: "Hej Ann,\n.\nline after a lone dot: " + strings.Repeat("x", 100), Html: "<p>Hej</p>"}
	raw, err := c.compose(s, m)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "\nBcc:") {
		t.Fatalf("a header was injected:\n%s", raw)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subject != "Din chatt med Säljavdelningen  Bcc: evil@example.com" || msg.Header.Get("Message-ID") != "<m0123@acme.example>" ||
		msg.Header.Get("Date") != "Wed, 02 Dec 2026 09:00:00 +0000" {
		t.Fatalf("headers %v (subject %q)", msg.Header, subject)
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var parts []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		parts = append(parts, p.Header.Get("Content-Type")+"|"+string(b))
	}
	want := []string{"text/plain; charset=utf-8|Hej Ann,\r\n.\r\nline after a lone dot: " + strings.Repeat("x", 100), "text/html; charset=utf-8|<p>Hej</p>"}
	if len(parts) != 2 || parts[0] != want[0] || parts[1] != want[1] {
		t.Fatalf("parts %q", parts)
	}
}
