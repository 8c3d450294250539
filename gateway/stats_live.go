package gateway

import (
	"net/http"
	"slices"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// Live figures (issue 16): GET /api/stats/live[?department=ID], each
// department's figures now, asked of its queue actor. Who sees which is
// the statistics' one rule (actors.StatsScope): reports.view (and admin,
// and the admin credential) every department; a supervisor or manager of
// a department, it; anyone else is refused.

func (s *Server) statsLiveRoutes() {
	s.route("GET /api/stats/live", s.statsLive)
}

// statsLive answers a StatsLive: one entry per department the caller may
// see (or just ?department=), by id.
func (s *Server) statsLive(w http.ResponseWriter, r *http.Request) {
	c, e := s.staffCaller(r)
	if e != nil {
		writeError(w, e)
		return
	}
	deps, e := s.liveDepartments(c, r.URL.Query().Get("department"))
	if e != nil {
		if e.GetCode() == messages.ErrorCode_ERROR_CODE_FORBIDDEN {
			s.audit(s.clientAddr(r), "permission.denied", c.auditID(), r.Method+" "+r.URL.Path, e.GetMessage(), false)
		}
		writeError(w, e)
		return
	}
	live, err := s.b.LiveFigures(r.Context(), deps)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeProto(w, http.StatusOK, live)
}

// liveDepartments is the departments whose live figures c asked for
// (only, when not empty) and may see (actors.StatsScope), by id, or why
// none: a caller who may see no department is refused before the
// department is looked at.
func (s *Server) liveDepartments(c chatUser, only string) ([]string, *messages.Error) {
	scope, e := s.statsScope(c)
	if e != nil {
		return nil, e
	}
	list, err := s.b.Departments()
	if err != nil {
		return nil, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read departments now")
	}
	var mine []string
	for _, d := range list {
		if scope.MayDepartment(d.GetId()) {
			mine = append(mine, d.GetId())
		}
	}
	switch {
	case !scope.Everything && len(mine) == 0:
		return nil, errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "you supervise or manage no department (%s sees them all)", actors.PermReports)
	case only == "":
		return mine, nil
	case !actors.ValidName(only):
		return nil, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "department", "%q is not a department id", only)
	case slices.Contains(mine, only):
		return []string{only}, nil
	case scope.Everything:
		return nil, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "department", "there is no department %q", only)
	}
	return nil, errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "you do not supervise or manage department %q", only)
}

// statsScope is whose figures c may read: the admin credential reads
// everything.
func (s *Server) statsScope(c chatUser) (actors.StatsScope, *messages.Error) {
	if c.admin {
		return actors.StatsScope{Everything: true}, nil
	}
	scope, err := s.b.StatsScopeOf(c.agent, c.perms)
	if err != nil {
		return scope, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read departments now")
	}
	return scope, nil
}
