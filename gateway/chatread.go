package gateway

// Who may read a chat over HTTP (its record, its files, its visitor's
// context): one rule for every such route.

import (
	"net/http"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// chatUser is who calls a chat's HTTP route: the admin credential, a
// visitor (by their resume token) or staff (session token or Basic).
type chatUser struct {
	admin bool
	who   *messages.Participant
	agent *messages.Agent
	perms actors.Perms
}

// auditID is who the audit log names for c.
func (c chatUser) auditID() string {
	switch {
	case c.admin:
		return actors.CallerAdmin
	case c.agent != nil:
		return c.agent.GetId()
	}
	return c.who.GetId()
}

// chatCaller authenticates r for a chat route.
func (s *Server) chatCaller(r *http.Request) (chatUser, *messages.Error) {
	if used, e := s.adminCredential(r); used {
		return chatUser{admin: e == nil}, e
	}
	if tok, ok := bearer(r); ok {
		if id, err := s.tok.verify("v", tok, s.b.Now()); err == nil && actors.ValidID(id) {
			return chatUser{who: &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_VISITOR, Id: id}}, nil
		}
	}
	return s.staffCaller(r)
}

// staffCaller authenticates r as the admin credential or staff (never a
// visitor).
func (s *Server) staffCaller(r *http.Request) (chatUser, *messages.Error) {
	if s.isAdmin(r) {
		return chatUser{admin: true}, nil
	}
	a, e := s.requestAgent(r)
	if e != nil {
		return chatUser{}, e
	}
	perms, err := s.b.Permissions(a)
	if err != nil {
		return chatUser{}, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read roles now")
	}
	return chatUser{agent: a, perms: perms, who: &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_AGENT,
		Id: a.GetId(), DisplayName: a.GetDisplayName()}}, nil
}

// readChat answers whether c may read the chat of r's {id}, with its
// record; a refusal is answered here (and audited for staff).
func (s *Server) readChat(w http.ResponseWriter, r *http.Request, c chatUser) (*messages.ChatRecord, bool) {
	id := r.PathValue("id")
	rec, err := s.b.ChatRecord(id)
	if err != nil {
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read the chat now"))
		return nil, false
	}
	notFound := errf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "no chat %q", id)
	switch {
	case rec == nil:
		writeError(w, notFound)
		return nil, false
	case c.admin:
		return rec, true
	case c.agent == nil:
		// A visitor reads their own chats; another's looks like none.
		if chatVisitor(rec) != c.who.GetId() {
			writeError(w, notFound)
			return nil, false
		}
		return rec, true
	}
	switch ok, err := s.staffReadsChat(c.agent, c.perms, rec); {
	case err != nil:
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read departments now"))
		return nil, false
	case !ok:
		e := errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "you may not see chat %q", id)
		s.audit(s.clientAddr(r), "permission.denied", c.agent.GetId(), id, e.GetMessage(), false)
		writeError(w, e)
		return nil, false
	}
	return rec, true
}

// chatVisitor is the id of a chat's visitor (its first participant).
func chatVisitor(rec *messages.ChatRecord) string {
	for _, p := range rec.GetParticipants() {
		if p.GetKind() == messages.ParticipantKind_PARTICIPANT_KIND_VISITOR {
			return p.GetId()
		}
	}
	return ""
}

// staffReadsChat is which chats staff may read: with reports.view (or
// admin) every chat; otherwise what their actors.ChatReader allows (the
// rule the history search applies too).
func (s *Server) staffReadsChat(a *messages.Agent, perms actors.Perms, rec *messages.ChatRecord) (bool, error) {
	if actors.AskedBy(chatVisitor(rec), a.GetId()) {
		return false, nil // their own question: read it as its colleague
	}
	if readsEverything(perms) {
		return true, nil
	}
	var agents []string
	for _, p := range rec.GetParticipants() {
		if p.GetKind() == messages.ParticipantKind_PARTICIPANT_KIND_AGENT {
			agents = append(agents, p.GetId())
		}
	}
	r, err := s.b.ReaderOf(a, perms)
	return r.May(chatVisitor(rec), rec.GetDepartments(), agents), err
}

// readsEverything: staff with reports.view or admin read every chat.
func readsEverything(perms actors.Perms) bool {
	return perms.Has(actors.PermReports) || perms.Has(actors.PermAdmin)
}
