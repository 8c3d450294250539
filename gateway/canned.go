package gateway

// Canned replies over HTTP: a department's under the admin API (for
// administrators and the department's managers), one's own under /api
// with the session token. Both go through the directory actor, which
// checks and stores them; every change is audited.

import (
	"context"
	"net/http"
	"slices"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

func (s *Server) cannedRoutes() {
	dept := s.adminOr(s.managesDepartment)
	s.route("GET /admin/departments/{id}/canned", dept(s.listDepartmentCanned))
	s.route("PUT /admin/departments/{id}/canned/{shortcut}", dept(s.putCanned(func(r *http.Request) *messages.CannedReply {
		return &messages.CannedReply{Department: r.PathValue("id")}
	})))
	s.route("DELETE /admin/departments/{id}/canned/{shortcut}", dept(s.deleteCanned(func(r *http.Request) *messages.CannedReply {
		return &messages.CannedReply{Department: r.PathValue("id")}
	})))
	own := func(r *http.Request) *messages.CannedReply { return &messages.CannedReply{AgentId: caller(r)} }
	s.route("GET /api/canned", s.staff(actors.PermLiveChat, s.listOwnCanned))
	s.route("PUT /api/canned/{shortcut}", s.staff(actors.PermCannedOwn, s.putCanned(own)))
	s.route("DELETE /api/canned/{shortcut}", s.staff(actors.PermCannedOwn, s.deleteCanned(own)))
}

// managesDepartment: a staff member with queues.manage who manages the
// path's department may keep its canned replies.
func (s *Server) managesDepartment(r *http.Request, id string) bool {
	a, err := s.b.Agent(id)
	if err != nil || a == nil {
		return false
	}
	perms, err := s.b.Permissions(a)
	if err != nil || !perms.Has(actors.PermManageQueues) {
		return false
	}
	d, err := s.b.Department(r.PathValue("id"))
	return err == nil && slices.Contains(d.GetManagers(), id)
}

// staff wraps a handler of the staff's own API: the caller's session
// (Bearer, or Basic) must hold perm; a refusal is audited before anything
// happens.
func (s *Server) staff(perm actors.Permission, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, e := s.requestAgent(r)
		if e == nil {
			perms, err := s.b.Permissions(a)
			switch {
			case err != nil:
				e = messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read roles now")
			case !perms.Has(perm):
				e = errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "your role does not allow this (%s)", perm)
				s.audit(s.clientAddr(r), "permission.denied", a.GetId(), r.Method+" "+r.URL.Path, e.GetMessage(), false)
			}
		}
		if e != nil {
			writeError(w, e)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, a.GetId())))
	}
}

func (s *Server) listDepartmentCanned(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	d, err := s.b.Department(id)
	if err == nil && d == nil {
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "no department %q", id))
		return
	}
	s.writeCanned(w, err, func() ([]*messages.CannedReply, error) { return s.b.CannedReplies(id, "") })
}

// listOwnCanned: the caller's own canned replies, then those of each
// department they are in, supervise or manage.
func (s *Server) listOwnCanned(w http.ResponseWriter, r *http.Request) {
	s.writeCanned(w, nil, func() ([]*messages.CannedReply, error) { return s.b.UsableCanned(caller(r)) })
}

func (s *Server) writeCanned(w http.ResponseWriter, err error, list func() ([]*messages.CannedReply, error)) {
	var rs []*messages.CannedReply
	if err == nil {
		rs, err = list()
	}
	if err != nil {
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read canned replies now"))
		return
	}
	writeProto(w, http.StatusOK, &messages.CannedReplies{Replies: rs})
}

// putCanned creates or replaces the canned reply of the path's shortcut
// in the scope scope gives: the body is a CannedReply (its text; a
// shortcut, department or agent_id in it must be the path's).
func (s *Server) putCanned(scope func(*http.Request) *messages.CannedReply) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		want := scope(r)
		want.Shortcut = r.PathValue("shortcut")
		in := &messages.CannedReply{}
		if !readResource(w, r, in, func() string { return "" }) {
			return
		}
		for _, f := range []struct{ name, got, want string }{{"shortcut", in.GetShortcut(), want.GetShortcut()},
			{"department", in.GetDepartment(), want.GetDepartment()}, {"agent_id", in.GetAgentId(), want.GetAgentId()}} {
			if f.got != "" && f.got != f.want {
				writeError(w, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, f.name, "the %s in the body differs from the path's", f.name))
				return
			}
		}
		want.Text = in.GetText()
		if s.runAdmin(w, r, &messages.AdminCommand{Body: &messages.AdminCommand_PutCanned{PutCanned: want}}) {
			writeProto(w, http.StatusOK, &messages.CannedReply{Shortcut: want.GetShortcut(), Text: want.GetText(),
				Department: want.GetDepartment(), AgentId: want.GetAgentId()})
		}
	}
}

func (s *Server) deleteCanned(scope func(*http.Request) *messages.CannedReply) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		x := scope(r)
		x.Shortcut = r.PathValue("shortcut")
		if s.runAdmin(w, r, &messages.AdminCommand{Body: &messages.AdminCommand_DeleteCanned{DeleteCanned: x}}) {
			w.WriteHeader(http.StatusNoContent)
		}
	}
}

// cannedSubject names a canned reply in the audit log: its department or
// "agent:" and the agent, then # and the shortcut.
func cannedSubject(x *messages.CannedReply) string {
	scope := x.GetDepartment()
	if scope == "" {
		scope = "agent:" + x.GetAgentId()
	}
	return scope + "#" + x.GetShortcut()
}
