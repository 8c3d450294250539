package gateway

import (
	"context"
	"net/http"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// The email settings routes: the SMTP server (its password write-only,
// kept like the directory sign-in's secrets) and the templates, stored by
// the directory actor (actors/directory_email.go); and a test email sent
// at once through the stored settings. The outbox that sends the chats'
// emails is the actors' (actors/outbox.go).

func (s *Server) emailRoutes() {
	s.route("GET /admin/email", s.admin(s.getEmail))
	s.route("PUT /admin/email", s.admin(s.putEmail))
	s.route("POST /admin/email/test", s.admin(s.testEmail))
}

// redactEmail is the settings as an answer shows them: no password.
func redactEmail(x *messages.EmailSettings) *messages.EmailSettings {
	out := proto.Clone(x).(*messages.EmailSettings)
	if sm := out.GetSmtp(); sm != nil {
		sm.Password = ""
	}
	return out
}

func (s *Server) emailSettings() (*messages.EmailSettings, *messages.Error) {
	x, err := s.b.EmailSettings()
	if err != nil {
		return nil, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read the email settings now")
	}
	return x, nil
}

func (s *Server) getEmail(w http.ResponseWriter, r *http.Request) {
	x, e := s.emailSettings()
	if e != nil {
		writeError(w, e)
		return
	}
	writeProto(w, http.StatusOK, redactEmail(x))
}

// putEmail stores new settings (checked by the directory actor; an empty
// password keeps the stored one for the same server and user).
func (s *Server) putEmail(w http.ResponseWriter, r *http.Request) {
	x := &messages.EmailSettings{}
	if !readResource(w, r, x, func() string { return "" }) {
		return
	}
	if s.runAdmin(w, r, &messages.AdminCommand{Body: &messages.AdminCommand_PutEmail{PutEmail: x}}) {
		writeProto(w, http.StatusOK, redactEmail(x))
	}
}

// testTimeout bounds the test email.
const testTimeout = 20 * time.Second

// testEmail is POST /admin/email/test {"to": "someone@example.com"}: one
// email sent at once through the stored settings, the server's refusal
// answered as a typed error about the field it is likely about.
func (s *Server) testEmail(w http.ResponseWriter, r *http.Request) {
	var in struct {
		To string `json:"to"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	x, e := s.emailSettings()
	switch {
	case e != nil:
	case s.cfg.SendMail == nil:
		e = errf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "this broker sends no email")
	case !x.GetSmtp().GetEnabled():
		e = messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "smtp.enabled", "no SMTP server is set up: PUT /admin/email first")
	default:
		e = actors.CheckMailAddress("to", in.To)
	}
	if e == nil {
		ctx, cancel := context.WithTimeout(r.Context(), testTimeout)
		defer cancel()
		m := &messages.OutboxMail{Id: "test-" + s.b.Now().Format("20060102T150405.000"), To: in.To, Subject: "Switchboard test email",
			Text: "This is a test email from Switchboard: the SMTP settings work.\n"}
		if err := s.cfg.SendMail(ctx, x.GetSmtp(), m); err != nil {
			e = probeError("smtp.host", "the SMTP server did not take the test email", err)
		}
	}
	if e != nil {
		s.audit(s.clientAddr(r), "admin.email.test", caller(r), "", e.GetMessage(), false)
		writeError(w, e)
		return
	}
	s.audit(s.clientAddr(r), "admin.email.test", caller(r), "", "sent", true)
	writeJSON(w, http.StatusOK, map[string]string{"message": "the test email was sent to " + in.To})
}
