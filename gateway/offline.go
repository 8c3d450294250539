package gateway

import (
	"net/http"
	"slices"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// Offline messages for staff: the list of a department's messages, and
// the answer by email. Staff see the messages of the departments they
// are in, supervise or manage (chats.view); reports.view, admin and the
// admin credential see all. Answering needs chats.email too.

func (s *Server) offlineRoutes() {
	s.route("GET /api/offline-messages", s.listOffline)
	s.route("POST /api/offline-messages/{id}/reply", s.replyOffline)
}

// offlineReader is who reads offline messages, and which.
type offlineReader struct {
	a     *messages.Agent // nil: the admin credential
	perms actors.Perms
	all   bool
}

// offlineCaller authenticates a staff caller of these routes.
func (s *Server) offlineCaller(r *http.Request) (*offlineReader, *messages.Error) {
	c, e := s.staffCaller(r)
	if e != nil {
		return nil, e
	}
	if c.admin {
		return &offlineReader{all: true}, nil
	}
	return &offlineReader{a: c.agent, perms: c.perms, all: readsEverything(c.perms)}, nil
}

// id is who the audit log names.
func (o *offlineReader) id() string {
	if o.a == nil {
		return actors.CallerAdmin
	}
	return o.a.GetId()
}

// may says whether the caller sees dept's offline messages.
func (s *Server) mayReadOffline(o *offlineReader, dept string) bool {
	if o.all {
		return true
	}
	if !o.perms.Has(actors.PermViewChats) {
		return false
	}
	if slices.Contains(o.a.GetDepartments(), dept) {
		return true
	}
	d, _ := s.b.Department(dept)
	return s.b.Supervises(d, o.a.GetId()) || slices.Contains(d.GetManagers(), o.a.GetId())
}

// listOffline is GET /api/offline-messages?department=ID&answered=false|true:
// oldest first, the caller's departments only.
func (s *Server) listOffline(w http.ResponseWriter, r *http.Request) {
	o, e := s.offlineCaller(r)
	if e != nil {
		writeError(w, e)
		return
	}
	q := r.URL.Query()
	dept, answered := q.Get("department"), q.Get("answered")
	if answered != "" && answered != "true" && answered != "false" {
		writeError(w, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "answered", "answered is true or false"))
		return
	}
	if dept != "" && !s.mayReadOffline(o, dept) {
		e := errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "you may not see the offline messages of %q", dept)
		s.audit(s.clientAddr(r), "permission.denied", o.id(), "offline:"+dept, e.GetMessage(), false)
		writeError(w, e)
		return
	}
	readable := map[string]bool{}
	list, err := s.b.OfflineMessages(func(x *messages.OfflineMessage) bool {
		d := x.GetDepartment()
		if _, ok := readable[d]; !ok {
			readable[d] = s.mayReadOffline(o, d)
		}
		return readable[d] && (dept == "" || d == dept) && (answered == "" || x.GetAnswered() == (answered == "true"))
	})
	if err != nil {
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read offline messages now"))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeProto(w, http.StatusOK, &messages.OfflineMessageList{Messages: list})
}

// replyOffline is POST /api/offline-messages/{id}/reply {"subject": "...",
// "text": "..."}: the answer goes to the visitor through the outbox and
// the message is marked answered, in one write; audited either way.
func (s *Server) replyOffline(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Subject string `json:"subject"`
		Text    string `json:"text"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	o, e := s.offlineCaller(r)
	if e != nil {
		writeError(w, e)
		return
	}
	id := r.PathValue("id")
	if o.a != nil && !o.perms.Has(actors.PermEmail) {
		e = errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "your role does not allow this (%s)", actors.PermEmail)
	} else if x, err := s.b.OfflineMessage(id); err != nil {
		e = messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read offline messages now")
	} else if x == nil || !s.mayReadOffline(o, x.GetDepartment()) {
		e = errf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "no offline message %q", id)
	}
	if e != nil {
		kind := "offline.answer"
		if e.GetCode() == messages.ErrorCode_ERROR_CODE_FORBIDDEN {
			kind = "permission.denied"
		}
		s.audit(s.clientAddr(r), kind, o.id(), id, e.GetMessage(), false)
		writeError(w, e)
		return
	}
	by := &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_AGENT, Id: o.id(), DisplayName: o.a.GetDisplayName()}
	mailID, err := s.b.AnswerOffline(&messages.AnswerOffline{Id: id, By: by, Subject: in.Subject, Text: in.Text})
	if err != nil {
		s.audit(s.clientAddr(r), "offline.answer", o.id(), id, asError(err).GetMessage(), false)
		writeError(w, err)
		return
	}
	s.audit(s.clientAddr(r), "offline.answer", o.id(), id, "by email, mail "+mailID, true)
	writeJSON(w, http.StatusOK, map[string]string{"mail_id": mailID})
}
