package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// DefaultTimeout bounds one delivery, from the dial to QUIT.
const DefaultTimeout = 30 * time.Second

// Client sends mails through SMTP. The zero value is ready.
type Client struct {
	// Timeout bounds one delivery; 0: DefaultTimeout.
	Timeout time.Duration
	// Hostname is what the client says in EHLO; "": localhost.
	Hostname string
	// Now stamps the Date header; nil: time.Now.
	Now func() time.Time
}

// Send delivers m in its own goroutine and calls done with the result.
func (c *Client) Send(s *messages.SmtpSettings, m *messages.OutboxMail, done func(error)) {
	go func() { done(c.SendNow(context.Background(), s, m)) }()
}

// Refused is the server's refusal of a mail: its SMTP code and text.
type Refused struct {
	Code int
	Msg  string
}

func (e *Refused) Error() string { return fmt.Sprintf("the SMTP server refused: %d %s", e.Code, e.Msg) }

// Permanent says whether the server said not to try again (5xx).
func (e *Refused) Permanent() bool { return e.Code >= 500 }

// SendNow delivers m and waits for the server's answer.
func (c *Client) SendNow(ctx context.Context, s *messages.SmtpSettings, m *messages.OutboxMail) error {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, err := c.compose(s, m)
	if err != nil {
		return err
	}
	cl, err := c.dial(ctx, s)
	if err != nil {
		return err
	}
	defer cl.Close()
	err = deliver(cl, s, m.GetTo(), body)
	var te *textproto.Error
	if errors.As(err, &te) {
		return &Refused{Code: te.Code, Msg: te.Msg}
	}
	return err
}

// dial connects (TLS from the start for SMTP_SECURITY_TLS), says EHLO and
// upgrades with STARTTLS unless the security is none.
func (c *Client) dial(ctx context.Context, s *messages.SmtpSettings) (*smtp.Client, error) {
	host := s.GetHost()
	addr := net.JoinHostPort(host, strconv.Itoa(int(port(s))))
	tc, err := tlsConfig(s)
	if err != nil {
		return nil, err
	}
	var conn net.Conn
	if s.GetSecurity() == messages.SmtpSecurity_SMTP_SECURITY_TLS {
		conn, err = (&tls.Dialer{Config: tc}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot reach the SMTP server %s: %w", addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	cl, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s does not speak SMTP: %w", addr, err)
	}
	hello := c.Hostname
	if hello == "" {
		hello = "localhost"
	}
	if err := cl.Hello(hello); err != nil {
		cl.Close()
		return nil, err
	}
	if s.GetSecurity() == messages.SmtpSecurity_SMTP_SECURITY_STARTTLS {
		if ok, _ := cl.Extension("STARTTLS"); !ok {
			cl.Close()
			return nil, fmt.Errorf("the SMTP server %s does not offer STARTTLS", addr)
		}
		if err := cl.StartTLS(tc); err != nil {
			cl.Close()
			return nil, fmt.Errorf("STARTTLS with %s: %w", addr, err)
		}
	}
	return cl, nil
}

// deliver authenticates when a user is set and sends one mail.
func deliver(cl *smtp.Client, s *messages.SmtpSettings, to string, body []byte) error {
	if s.GetUser() != "" {
		// PlainAuth refuses to send the password over a connection
		// without TLS, except to this machine.
		if err := cl.Auth(smtp.PlainAuth("", s.GetUser(), s.GetPassword(), s.GetHost())); err != nil {
			return err
		}
	}
	if err := cl.Mail(s.GetFrom()); err != nil {
		return err
	}
	if err := cl.Rcpt(to); err != nil {
		return err
	}
	w, err := cl.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return cl.Quit()
}

func port(s *messages.SmtpSettings) uint32 {
	if p := s.GetPort(); p != 0 {
		return p
	}
	switch s.GetSecurity() {
	case messages.SmtpSecurity_SMTP_SECURITY_TLS:
		return 465
	case messages.SmtpSecurity_SMTP_SECURITY_NONE:
		return 25
	}
	return 587
}

func tlsConfig(s *messages.SmtpSettings) (*tls.Config, error) {
	tc := &tls.Config{ServerName: s.GetHost(), MinVersion: tls.VersionTLS12}
	if pem := s.GetCaPem(); pem != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(pem)) {
			return nil, errors.New("ca_pem holds no certificate")
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// compose builds the message: headers, then a text and an HTML part
// (multipart/alternative), both quoted-printable UTF-8. The Message-ID is
// the outbox id, the same on every try: receivers that deduplicate show a
// mail sent twice (a crash between the server's acceptance and the
// outbox's mark) once.
func (c *Client) compose(s *messages.SmtpSettings, m *messages.OutboxMail) ([]byte, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	domain := "switchboard.invalid"
	if i := strings.LastIndexByte(s.GetFrom(), '@'); i >= 0 {
		domain = s.GetFrom()[i+1:]
	}
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, oneLine(v)) }
	header("From", s.GetFrom())
	header("To", m.GetTo())
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(m.GetSubject())))
	header("Date", now().Format(time.RFC1123Z))
	header("Message-ID", "<"+m.GetId()+"@"+domain+">")
	header("MIME-Version", "1.0")
	mw := multipart.NewWriter(&b)
	header("Content-Type", "multipart/alternative; boundary="+mw.Boundary())
	b.WriteString("\r\n")
	for _, part := range []struct{ kind, text string }{{"text/plain", m.GetText()}, {"text/html", m.GetHtml()}} {
		if part.text == "" {
			continue
		}
		pw, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {part.kind + "; charset=utf-8"}, "Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return nil, err
		}
		qw := quotedprintable.NewWriter(pw)
		if _, err := qw.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(part.text, "\r\n", "\n"), "\n", "\r\n"))); err != nil {
			return nil, err
		}
		if err := qw.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// oneLine keeps a header value on its line.
func oneLine(v string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
}
