package actors

import (
	"strings"

	"github.com/switchboard-chat/switchboard/messages"
)

// The directory's email settings: the SMTP server (its password kept like
// the other secrets: write-only, and never following a changed server)
// and the templates per department. The gateway tries the server (a test
// email); the actor only decides.

// MaxTemplateSets bounds the departments with their own templates.
const MaxTemplateSets = 500

// putEmail checks and stores the email settings. An empty password keeps
// the stored one while host, port and user stay the same.
func (d *directory) putEmail(x *messages.EmailSettings) (*change, *messages.Error) {
	old, err := d.b.store.EmailSettings()
	if err != nil {
		return nil, messages.TemporaryErrorf(codeUnavailable, "cannot read the email settings now")
	}
	KeepMailSecret(x, old)
	if e := CheckEmailSettings(x); e != nil {
		return nil, e
	}
	for dept := range x.GetTemplates() {
		if dept != "" && d.deps[dept] == nil {
			return nil, refuse("templates", codeInvalid, "no department %q", dept)
		}
	}
	return &change{write: func(done func(error)) { d.b.store.PutEmailSettings(x, done) }}, nil
}

// KeepMailSecret fills an empty SMTP password from old when it would go
// to the same server (host and port as given) for the same user.
func KeepMailSecret(x, old *messages.EmailSettings) {
	s, o := x.GetSmtp(), old.GetSmtp()
	if s != nil {
		s.Password = KeepSecret(s.GetPassword(), o.GetPassword(), s.GetHost() == o.GetHost() && s.GetPort() == o.GetPort() && s.GetUser() == o.GetUser())
	}
}

// CheckEmailSettings checks the settings on their own (the password
// filled by KeepMailSecret): what the gateway checks before it tries the
// server, and the directory before it stores them.
func CheckEmailSettings(x *messages.EmailSettings) *messages.Error {
	if e := checkSmtp(x.GetSmtp()); e != nil {
		return e
	}
	if len(x.GetTemplates()) > MaxTemplateSets {
		return refuse("templates", codeInvalid, "at most %d template sets", MaxTemplateSets)
	}
	for dept, ts := range x.GetTemplates() {
		if dept != "" && !ValidName(dept) {
			return refuse("templates", codeInvalid, "%q is not a department id", dept)
		}
		if e := checkTemplates("templates."+dept, ts); e != nil {
			return e
		}
	}
	return nil
}

func checkSmtp(s *messages.SmtpSettings) *messages.Error {
	if !s.GetEnabled() {
		return nil
	}
	host := s.GetHost()
	switch {
	case host == "" || len(host) > 253 || strings.ContainsAny(host, " /@\r\n"):
		return refuse("smtp.host", codeInvalid, "host must be the SMTP server's name or address (without port or scheme), such as smtp.example.com")
	case s.GetPort() > 65535:
		return refuse("smtp.port", codeInvalid, "port is 1 to 65535 (0: the security's usual port)")
	case messages.SmtpSecurity_name[int32(s.GetSecurity())] == "":
		return refuse("smtp.security", codeInvalid, "security is SMTP_SECURITY_STARTTLS, SMTP_SECURITY_TLS or SMTP_SECURITY_NONE")
	case s.GetSecurity() == messages.SmtpSecurity_SMTP_SECURITY_NONE && !loopbackHost(host):
		return refuse("smtp.security", codeInvalid, "SMTP without TLS sends mail and passwords in the clear: use STARTTLS or TLS (no TLS only to this machine)")
	case s.GetUser() != "" && s.GetPassword() == "":
		return refuse("smtp.password", codeInvalid, "the password is required with a user (a changed host, port or user does not keep the stored one)")
	case len(s.GetUser()) > 256 || len(s.GetPassword()) > 1024 || strings.ContainsAny(s.GetUser(), "\r\n"):
		return refuse("smtp.user", codeInvalid, "user has at most 256 bytes, password at most 1024")
	case len(s.GetCaPem()) > 64<<10:
		return refuse("smtp.ca_pem", codeInvalid, "ca_pem has at most 64 KiB")
	}
	return CheckMailAddress("smtp.from", s.GetFrom())
}
