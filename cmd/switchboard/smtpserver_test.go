package main

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailServer is a real SMTP server in the test process (emersion/go-smtp),
// with AUTH PLAIN for one user, that keeps what it accepts; refuse makes
// it answer 451 to every mail (a server that is down for a while).
type mailServer struct {
	addr     string
	user, pw string
	refuse   atomic.Bool
	tries    atomic.Int32
	mu       sync.Mutex
	got      []*receivedMail
}

// receivedMail is one accepted mail: its envelope, headers and parts.
type receivedMail struct {
	From, To string
	Header   mail.Header
	Text     string
	HTML     string
}

func startMailServer(t testing.TB) *mailServer {
	t.Helper()
	ms := &mailServer{user: "mailer", pw: "smtp-secret-pw-42"}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{ms: ms}, nil }))
	srv.Domain, srv.AllowInsecureAuth = "localhost", true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ms.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ms
}

func (ms *mailServer) port() int {
	_, p, _ := net.SplitHostPort(ms.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// mails returns what the server accepted so far.
func (ms *mailServer) mails() []*receivedMail {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]*receivedMail(nil), ms.got...)
}

// settings are the email settings for this server (no TLS: loopback).
func (ms *mailServer) settings() map[string]any {
	return map[string]any{"smtp": map[string]any{"enabled": true, "host": "127.0.0.1", "port": ms.port(),
		"security": "SMTP_SECURITY_NONE", "user": ms.user, "password": ms.pw, "from": "support@example.com"}}
}

type mailSession struct {
	ms     *mailServer
	authed bool
	from   string
	to     []string
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pw string) error {
		if user != s.ms.user || pw != s.ms.pw {
			return errors.New("bad credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	s.ms.tries.Add(1)
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.ms.refuse.Load() {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	m, err := parseMail(string(data))
	if err != nil {
		return err
	}
	m.From, m.To = s.from, strings.Join(s.to, ",")
	s.ms.mu.Lock()
	s.ms.got = append(s.ms.got, m)
	s.ms.mu.Unlock()
	return nil
}

func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }

// parseMail reads the headers and the text and HTML parts.
func parseMail(raw string) (*receivedMail, error) {
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		return nil, err
	}
	out := &receivedMail{Header: msg.Header}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(p)
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			out.HTML = string(body)
		} else {
			out.Text = string(body)
		}
	}
}

// subject decodes the Subject header.
func (m *receivedMail) subject() string {
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return m.Header.Get("Subject")
	}
	return s
}
