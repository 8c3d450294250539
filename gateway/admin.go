package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

func (s *Server) adminRoutes() {
	s.route("GET /admin/directory", s.admin(s.getDirectory))
	s.route("GET /admin/audit", s.admin(s.getAudit))
	s.route("PUT /admin/departments/{id}", s.admin(s.putDepartment))
	s.route("DELETE /admin/departments/{id}", s.admin(s.deleteThing(func(id string) *messages.AdminCommand {
		return &messages.AdminCommand{Body: &messages.AdminCommand_DeleteDepartment{DeleteDepartment: id}}
	})))
	s.route("PUT /admin/languages/{id}", s.admin(s.putLanguage))
	s.route("DELETE /admin/languages/{id}", s.admin(s.deleteThing(func(id string) *messages.AdminCommand {
		return &messages.AdminCommand{Body: &messages.AdminCommand_DeleteLanguage{DeleteLanguage: id}}
	})))
	s.route("PUT /admin/roles/{id}", s.admin(s.putRole))
	s.route("DELETE /admin/roles/{id}", s.admin(s.deleteThing(func(id string) *messages.AdminCommand {
		return &messages.AdminCommand{Body: &messages.AdminCommand_DeleteRole{DeleteRole: id}}
	})))
	s.route("POST /admin/owner", s.admin(s.transferOwner))
	s.route("POST /admin/secrets/rotate", s.admin(s.rotateSecrets))
	s.route("PUT /admin/settings", s.admin(s.putSettings))
	s.route("DELETE /admin/workspace", s.admin(s.deleteWorkspace))
	s.route("PUT /admin/agents/{id}", s.admin(s.putAgent))
	s.route("DELETE /admin/agents/{id}", s.admin(s.deleteThing(func(id string) *messages.AdminCommand {
		return &messages.AdminCommand{Body: &messages.AdminCommand_DeleteAgent{DeleteAgent: id}}
	})))
}

type callerKey struct{}

// caller is who is calling the admin API: actors.CallerAdmin for the
// admin credential, or the staff member's id.
func caller(r *http.Request) string {
	c, _ := r.Context().Value(callerKey{}).(string)
	return c
}

// admin wraps a handler of the admin API. It may be called with the admin
// credential, or with the session token of a staff member whose role has
// the admin permission; anyone else is refused (and audited) before
// anything happens.
func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc { return s.adminOr(nil)(h) }

// adminOr is admin that also lets in staff without the admin permission
// whom also allows for this request (nil: nobody else).
func (s *Server) adminOr(also func(r *http.Request, id string) bool) func(http.HandlerFunc) http.HandlerFunc {
	return func(h http.HandlerFunc) http.HandlerFunc { return s.adminHandler(also, h) }
}

func (s *Server) adminHandler(also func(r *http.Request, id string) bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who, e := s.adminCaller(r)
		if e.GetCode() == messages.ErrorCode_ERROR_CODE_FORBIDDEN && also != nil && also(r, who) {
			e = nil
		}
		if e != nil {
			kind := "admin.refused"
			if e.GetCode() == messages.ErrorCode_ERROR_CODE_FORBIDDEN {
				kind = "permission.denied"
			}
			s.audit(s.clientAddr(r), kind, who, r.Method+" "+r.URL.Path, e.GetMessage(), false)
			writeError(w, e)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, who)))
	}
}

func (s *Server) adminCaller(r *http.Request) (string, *messages.Error) {
	if used, e := s.adminCredential(r); used {
		return actors.CallerAdmin, e
	}
	tok, ok := bearer(r)
	if !ok {
		return "", errf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "the admin API needs Authorization: Bearer <admin token or session token>")
	}
	a, e := s.authenticateAgent("", "", tok, s.clientAddr(r))
	if e != nil {
		return "", e
	}
	perms, err := s.b.Permissions(a)
	if err != nil {
		return a.GetId(), messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read roles now")
	}
	if !perms.Has(actors.PermAdmin) {
		return a.GetId(), errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "your role does not have the admin permission")
	}
	return a.GetId(), nil
}

func (s *Server) getDirectory(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.DirectoryView()
	if err != nil {
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read the directory now"))
		return
	}
	writeProto(w, http.StatusOK, v)
}

// runAdmin applies an admin command; on refusal it answers the typed error.
// Either way the audit log gets it.
func (s *Server) runAdmin(w http.ResponseWriter, r *http.Request, cmd *messages.AdminCommand) bool {
	kind, subject := adminKind(cmd)
	cmd.By = caller(r) // the directory checks the caller's rank
	if err := s.b.Admin(r.Context(), cmd); err != nil {
		s.audit(s.clientAddr(r), kind, caller(r), subject, err.Error(), false)
		writeError(w, err)
		return false
	}
	s.audit(s.clientAddr(r), kind, caller(r), subject, "", true)
	s.accessChanged(cmd)
	return true
}

// adminKind names an admin command for the audit log.
func adminKind(cmd *messages.AdminCommand) (kind, subject string) {
	switch b := cmd.GetBody().(type) {
	case *messages.AdminCommand_PutDepartment:
		return "admin.department.put", b.PutDepartment.GetId()
	case *messages.AdminCommand_DeleteDepartment:
		return "admin.department.delete", b.DeleteDepartment
	case *messages.AdminCommand_PutLanguage:
		return "admin.language.put", b.PutLanguage.GetCode()
	case *messages.AdminCommand_DeleteLanguage:
		return "admin.language.delete", b.DeleteLanguage
	case *messages.AdminCommand_PutAgent:
		return "admin.agent.put", b.PutAgent.GetId()
	case *messages.AdminCommand_DeleteAgent:
		return "admin.agent.delete", b.DeleteAgent
	case *messages.AdminCommand_PutRole:
		return "admin.role.put", b.PutRole.GetId()
	case *messages.AdminCommand_DeleteRole:
		return "admin.role.delete", b.DeleteRole
	case *messages.AdminCommand_TransferOwner:
		return "admin.owner.transfer", b.TransferOwner
	case *messages.AdminCommand_PutSettings:
		return "admin.settings.put", ""
	case *messages.AdminCommand_PutSignIn:
		return "admin.signin.put", ""
	case *messages.AdminCommand_PutCanned:
		return "canned.put", cannedSubject(b.PutCanned)
	case *messages.AdminCommand_DeleteCanned:
		return "canned.delete", cannedSubject(b.DeleteCanned)
	case *messages.AdminCommand_PutEmail:
		return "admin.email.put", ""
	case *messages.AdminCommand_PutLiveChat:
		return "admin.livechat.put", b.PutLiveChat.GetId()
	case *messages.AdminCommand_DeleteLiveChat:
		return "admin.livechat.delete", b.DeleteLiveChat
	case *messages.AdminCommand_PutChannel:
		return "admin.channel.put", b.PutChannel.GetId()
	case *messages.AdminCommand_DeleteChannel:
		return "admin.channel.delete", b.DeleteChannel
	}
	return "admin.unknown", ""
}

// getAudit serves the audit log: ?actor=ID&kind=PREFIX&from=RFC3339&to=RFC3339&limit=N,
// oldest first. Page on with from = the last entry's time plus a millisecond.
func (s *Server) getAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, to := time.Unix(0, 0), s.b.Now().Add(time.Second)
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				writeError(w, errf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "%s must be an RFC 3339 time such as 2026-11-21T09:00:00Z", p.name))
				return
			}
			*p.t = t
		}
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, errf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "limit must be 1 to 1000"))
			return
		}
		limit = n
	}
	actor, kind := q.Get("actor"), q.Get("kind")
	entries, err := s.b.AuditLog(from, to, func(e *messages.AuditEntry) bool {
		return (actor == "" || e.GetActor() == actor) && strings.HasPrefix(e.GetKind(), kind)
	}, limit)
	if err != nil {
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read the audit log now"))
		return
	}
	writeProto(w, http.StatusOK, &messages.AuditPage{Entries: entries})
}

var protoIn = protojson.UnmarshalOptions{}

// readResource decodes a department or language body into m and checks
// that the id it carries, if any, is the one in the path. On failure it
// answers the typed error and returns false.
func readResource(w http.ResponseWriter, r *http.Request, m proto.Message, id func() string) bool {
	data, err := readBody(r)
	if err != nil {
		writeError(w, err)
		return false
	}
	if err := protoIn.Unmarshal(data, m); err != nil {
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "invalid body: %v", err))
		return false
	}
	if got := id(); got != "" && got != r.PathValue("id") {
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "the id in the body differs from the path"))
		return false
	}
	return true
}

// putResource is a PUT of a directory resource: the body is decoded into m
// (an id in it must match the path's), setID gives it the path's id, and
// cmd wraps it for the directory; the stored resource is the answer.
func putResource[T proto.Message](s *Server, w http.ResponseWriter, r *http.Request, m T, id func() string, setID func(string), cmd func(T) *messages.AdminCommand) {
	if !readResource(w, r, m, id) {
		return
	}
	setID(r.PathValue("id"))
	if s.runAdmin(w, r, cmd(m)) {
		writeProto(w, http.StatusOK, m)
	}
}

func (s *Server) putDepartment(w http.ResponseWriter, r *http.Request) {
	d := &messages.Department{}
	putResource(s, w, r, d, d.GetId, func(id string) { d.Id = id }, func(d *messages.Department) *messages.AdminCommand {
		return &messages.AdminCommand{Body: &messages.AdminCommand_PutDepartment{PutDepartment: d}}
	})
}

func (s *Server) putLanguage(w http.ResponseWriter, r *http.Request) {
	l := &messages.Language{}
	putResource(s, w, r, l, l.GetCode, func(id string) { l.Code = id }, func(l *messages.Language) *messages.AdminCommand {
		return &messages.AdminCommand{Body: &messages.AdminCommand_PutLanguage{PutLanguage: l}}
	})
}

func (s *Server) putRole(w http.ResponseWriter, r *http.Request) {
	x := &messages.Role{}
	putResource(s, w, r, x, x.GetId, func(id string) { x.Id = id }, func(x *messages.Role) *messages.AdminCommand {
		return &messages.AdminCommand{Body: &messages.AdminCommand_PutRole{PutRole: x}}
	})
}

func (s *Server) putSettings(w http.ResponseWriter, r *http.Request) {
	x := &messages.Settings{}
	putResource(s, w, r, x, func() string { return "" }, func(string) {}, func(x *messages.Settings) *messages.AdminCommand {
		return &messages.AdminCommand{Body: &messages.AdminCommand_PutSettings{PutSettings: x}}
	})
}

// ownerOnly refuses (and audits) a caller who is not the owner, for what
// only the owner may do, with their own session.
func (s *Server) ownerOnly(w http.ResponseWriter, r *http.Request, what string) bool {
	if me, _ := s.b.Agent(caller(r)); me != nil && actors.RoleOf(me) == actors.RoleOwner {
		return true
	}
	e := errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "only the owner %s", what)
	s.audit(s.clientAddr(r), "permission.denied", caller(r), r.Method+" "+r.URL.Path, e.GetMessage(), false)
	writeError(w, e)
	return false
}

// workspaceConfirmation is what the owner must send to delete the
// workspace.
const workspaceConfirmation = "delete every chat, account and setting"

// deleteWorkspace: the owner, with their own session and the confirmation
// phrase, deletes everything but the broker's secrets. The broker closes
// every socket, wipes its data and starts again empty.
func (s *Server) deleteWorkspace(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Confirm string `json:"confirm"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if !s.ownerOnly(w, r, "deletes the workspace") {
		return
	}
	switch {
	case in.Confirm != workspaceConfirmation:
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "send {\"confirm\": %q} to delete the workspace", workspaceConfirmation))
		return
	case s.cfg.DeleteWorkspace == nil:
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "this broker cannot delete its workspace"))
		return
	}
	s.log.Warn("the owner deleted the workspace", "owner", caller(r), "address", s.clientAddr(r))
	writeJSON(w, http.StatusAccepted, map[string]string{"message": "the workspace is being deleted; the broker starts again empty"})
	s.cfg.DeleteWorkspace()
}

// transferOwner hands ownership on: {"agent_id": "..."}. Only the owner,
// with their own session, may.
func (s *Server) transferOwner(w http.ResponseWriter, r *http.Request) {
	var in struct {
		AgentID string `json:"agent_id"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if !s.ownerOnly(w, r, "hands ownership on") {
		return
	}
	if s.runAdmin(w, r, &messages.AdminCommand{Body: &messages.AdminCommand_TransferOwner{TransferOwner: in.AgentID}}) {
		w.WriteHeader(http.StatusNoContent)
	}
}

// AgentInput is the body of PUT /admin/agents/{id}. Password is required
// when the account is created and optional afterwards.
type AgentInput struct {
	Login       string   `json:"login"`
	Password    string   `json:"password,omitempty"`
	DisplayName string   `json:"display_name,omitempty"`
	Departments []string `json:"departments,omitempty"`
	Languages   []string `json:"languages,omitempty"`
	MaxChats    uint32   `json:"max_chats,omitempty"`
	ChatAgent   bool     `json:"chat_agent"`
	AutoAccept  bool     `json:"auto_accept,omitempty"`
	Suspended   bool     `json:"suspended,omitempty"`
	Role        string   `json:"role,omitempty"`
	AvatarURL   string   `json:"avatar_url,omitempty"`
	// SignIn is how they sign in: "password", "ldap" or "oidc" (or the
	// directory view's SIGN_IN_METHOD_LDAP and the like); left
	// out, the account's own (password for a new one). A directory
	// account has no password here.
	SignIn string `json:"sign_in,omitempty"`
	// Access is AccessRules in protojson: {"ip_allow":[…],"login_hours":[{"days":[1,2,3,4,5],"start":"09:00","end":"17:00"}],"time_zone":"Europe/Stockholm"}.
	Access json.RawMessage `json:"access,omitempty"`
	// Schedule is Schedule in protojson: {"shifts":[{"days":[1,2,3,4,5],"start":"09:00","end":"17:00"}],"time_zone":"Europe/Stockholm"}.
	Schedule json.RawMessage `json:"schedule,omitempty"`
}

// ParseAgentInput decodes and checks an agent body (strict JSON).
func ParseAgentInput(data []byte) (*AgentInput, error) {
	var in AgentInput
	if err := decodeJSON(data, &in); err != nil {
		return nil, err
	}
	if len(in.Password) > 1024 {
		return nil, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "password", "password is longer than 1024 bytes")
	}
	if in.Password != "" && len(in.Password) < 8 {
		return nil, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "password", "password must have at least 8 characters")
	}
	m, ok := signInMethod(in.SignIn)
	switch {
	case !ok:
		return nil, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "sign_in", "sign_in is password, ldap or oidc")
	case m != messages.SignInMethod_SIGN_IN_METHOD_PASSWORD && in.Password != "":
		return nil, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "password",
			"an account that signs in with %s has no password here; leave password out", in.SignIn)
	}
	return &in, nil
}

func (s *Server) putAgent(w http.ResponseWriter, r *http.Request) {
	data, err := readBody(r)
	if err != nil {
		writeError(w, err)
		return
	}
	in, err := ParseAgentInput(data)
	if err != nil {
		writeError(w, err)
		return
	}
	id := r.PathValue("id")
	a := &messages.Agent{Id: id, Login: in.Login, DisplayName: in.DisplayName, Departments: in.Departments,
		Languages: in.Languages, MaxChats: in.MaxChats, ChatAgent: in.ChatAgent, AutoAccept: in.AutoAccept, Suspended: in.Suspended,
		Role: in.Role, AvatarUrl: in.AvatarURL}
	a.SignIn, _ = signInMethod(in.SignIn)
	if in.SignIn == "" { // an edit that leaves the method out keeps it
		old, err := s.b.Agent(id)
		if err != nil {
			writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read accounts now"))
			return
		}
		a.SignIn = old.GetSignIn()
	}
	if len(in.Access) > 0 {
		a.Access = &messages.AccessRules{}
		if err := protoIn.Unmarshal(in.Access, a.Access); err != nil {
			writeError(w, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "access", "access: %v", err))
			return
		}
	}
	if len(in.Schedule) > 0 {
		a.Schedule = &messages.Schedule{}
		if err := protoIn.Unmarshal(in.Schedule, a.Schedule); err != nil {
			writeError(w, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "schedule", "schedule: %v", err))
			return
		}
	}
	if in.Password != "" {
		if a.PasswordHash, err = HashPassword(in.Password, s.cfg.Password); err != nil {
			writeError(w, err)
			return
		}
	} // else the directory keeps the account's own (PutAgent without a hash)
	if s.runAdmin(w, r, &messages.AdminCommand{Body: &messages.AdminCommand_PutAgent{PutAgent: a}}) {
		// a now belongs to the directory actor: answer with a copy.
		out := proto.Clone(a).(*messages.Agent)
		out.PasswordHash, out.SessionEpoch = "", ""
		writeProto(w, http.StatusOK, out)
	}
}

// signInMethod reads AgentInput.SignIn: ldap, or as the directory view
// spells it, SIGN_IN_METHOD_LDAP ("" is password).
func signInMethod(name string) (messages.SignInMethod, bool) {
	for _, m := range []messages.SignInMethod{messages.SignInMethod_SIGN_IN_METHOD_PASSWORD,
		messages.SignInMethod_SIGN_IN_METHOD_LDAP, messages.SignInMethod_SIGN_IN_METHOD_OIDC} {
		if name == actors.MethodName(m) || name == m.String() {
			return m, true
		}
	}
	return 0, name == ""
}

func (s *Server) deleteThing(mk func(id string) *messages.AdminCommand) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.runAdmin(w, r, mk(r.PathValue("id"))) {
			w.WriteHeader(http.StatusNoContent)
		}
	}
}
