package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

const maxBodyBytes = 1 << 20

// httpStatus maps a typed error to its HTTP status.
func httpStatus(code messages.ErrorCode) int {
	switch code {
	case messages.ErrorCode_ERROR_CODE_BAD_FRAME, messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE:
		return http.StatusBadRequest
	case messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED:
		return http.StatusUnauthorized
	case messages.ErrorCode_ERROR_CODE_FORBIDDEN:
		return http.StatusForbidden
	case messages.ErrorCode_ERROR_CODE_NOT_FOUND:
		return http.StatusNotFound
	case messages.ErrorCode_ERROR_CODE_CONFLICT:
		return http.StatusConflict
	case messages.ErrorCode_ERROR_CODE_TOO_LARGE:
		return http.StatusRequestEntityTooLarge
	case messages.ErrorCode_ERROR_CODE_RATE_LIMITED:
		return http.StatusTooManyRequests
	case messages.ErrorCode_ERROR_CODE_UNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// WriteError answers with a typed error as the gateway does (its status,
// Retry-After when temporary, the error as JSON): for the cluster's
// front (cmd/switchboard), so a client sees one kind of error body.
func WriteError(w http.ResponseWriter, err error) { writeError(w, err) }

// writeError answers with a typed error as JSON: {"code", "message",
// "temporary"}. A temporary 429 or 503 says Retry-After (1 s unless the
// handler set it).
func writeError(w http.ResponseWriter, err error) {
	e := typedOr(err, func(err error) *messages.Error {
		return messages.Errorf(messages.ErrorCode_ERROR_CODE_INTERNAL, "%v", err)
	})
	status := httpStatus(e.GetCode())
	if e.GetTemporary() && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	writeProto(w, status, e)
}

// typedOr is err's own typed error, or the one or makes of it.
func typedOr(err error, or func(error) *messages.Error) *messages.Error {
	var e *messages.Error
	if errors.As(err, &e) {
		return e
	}
	return or(err)
}

func writeProto(w http.ResponseWriter, status int, m proto.Message) {
	data, err := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: false}.Marshal(m)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data)
	w.Write([]byte("\n"))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func readBody(r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, messages.Errorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "cannot read body: %v", err)
	}
	if len(data) > maxBodyBytes {
		return nil, messages.Errorf(messages.ErrorCode_ERROR_CODE_TOO_LARGE, "body is larger than %d bytes", maxBodyBytes)
	}
	return data, nil
}

// decodeJSON decodes a strict JSON body: unknown fields are an error.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return messages.Errorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "invalid JSON body: %v", err)
	}
	if dec.More() {
		return messages.Errorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "invalid JSON body: trailing data")
	}
	return nil
}

// readJSON reads a strict JSON body into v; on failure it answers the
// typed error and returns false.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	data, err := readBody(r)
	if err == nil {
		err = decodeJSON(data, v)
	}
	if err != nil {
		writeError(w, err)
		return false
	}
	return true
}

func (s *Server) apiRoutes() {
	s.route("POST /api/login", s.login)
	s.route("POST /api/logout", s.logout)
	s.route("GET /api/chats", s.chatList)
	s.route("GET /api/chats/{id}", s.chatRecord)
	s.route("GET /api/chats/{id}/routing", s.chatRouting)
	s.route("POST /api/chats/{id}/reopen", s.reopenChat)
	s.route("GET /api/widget/config", s.widgetConfig)
	s.fileRoutes()
	s.statsRoutes()
}

// widgetConfig is public (the visitor widget reads it before any hello):
// the departments of one live chat (?livechat=ID, "main" when left out),
// whether each takes chats now and when a closed one opens, their look,
// and the languages. No staff data; it reads the store only, and any site
// may read it (it says what the widget shows anyway). An internal live
// chat's is for staff with livechat.internal only (Authorization: Bearer
// <session token>).
func (s *Server) widgetConfig(w http.ResponseWriter, r *http.Request) {
	lc, e := s.widgetLiveChat(r)
	if e != nil {
		writeError(w, e)
		return
	}
	cfg, err := s.b.WidgetConfig(lc)
	if err != nil {
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read the configuration now: %v", err))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, cfg)
}

type loginRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

type loginResponse struct {
	AgentID      string `json:"agent_id"`
	DisplayName  string `json:"display_name"`
	SessionToken string `json:"session_token"`
	ExpiresAt    string `json:"expires_at"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if !readJSON(w, r, &req) {
		return
	}
	a, e := s.authenticateAgent(req.Login, req.Password, "", s.clientAddr(r))
	if e != nil {
		writeError(w, e)
		return
	}
	now := s.b.Now()
	tok, _ := s.tok.newSession(a.GetId(), a.GetSessionEpoch(), now, s.cfg.SessionTTL)
	writeJSON(w, http.StatusOK, loginResponse{AgentID: a.GetId(), DisplayName: a.GetDisplayName(),
		SessionToken: tok, ExpiresAt: now.Add(s.cfg.SessionTTL).UTC().Format(time.RFC3339)})
}

// logout ends the session of the Bearer token: the token stops working and
// the sockets that logged in with it close with 4004.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	tok, ok := bearer(r)
	if !ok {
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "log out with Authorization: Bearer <session token>"))
		return
	}
	a, e := s.authenticateAgent("", "", tok, s.clientAddr(r))
	if e != nil {
		writeError(w, e)
		return
	}
	id, _ := s.tok.verify("a", tok, s.b.Now())
	_, _, sid, _, _ := parseSession(id)
	if err := s.b.RevokeSession(sid, s.b.Now().Add(s.cfg.SessionTTL)); err != nil {
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot log out now: %v", err))
		return
	}
	s.mu.Lock()
	var ended []*wsConn
	for c := range s.conns {
		if p := c.sid.Load(); p != nil && *p == sid {
			ended = append(ended, c)
		}
	}
	s.mu.Unlock()
	for _, c := range ended {
		c.close(CloseLoggedOut, "logged out")
	}
	s.audit(s.clientAddr(r), "logout", a.GetId(), "", "", true)
	w.WriteHeader(http.StatusNoContent)
}

// requestAgent authenticates an HTTP request as a staff member, by session
// token (Authorization: Bearer) or login and password (Basic).
func (s *Server) requestAgent(r *http.Request) (*messages.Agent, *messages.Error) {
	if login, pw, ok := r.BasicAuth(); ok {
		return s.authenticateAgent(login, pw, "", s.clientAddr(r))
	}
	if tok, ok := bearer(r); ok {
		return s.authenticateAgent("", "", tok, s.clientAddr(r))
	}
	return nil, errf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "log in: Authorization: Bearer <session token> or Basic")
}

// chatRecord serves a chat's record and transcript to the administrator
// (and staff with reports.view), to an agent who took part in it, and to
// members of the department it is in now (the last of its departments,
// after any transfer). Members of a department it left may no longer read
// it unless they took part; supervisors and managers read the chats of
// the departments they oversee (actors.ChatReader).
func (s *Server) chatRecord(w http.ResponseWriter, r *http.Request) {
	c, e := s.staffCaller(r)
	if e != nil {
		writeError(w, e)
		return
	}
	if rec, ok := s.readChat(w, r, c); ok {
		writeProto(w, http.StatusOK, rec)
	}
}

// reopenChat opens a closed chat again for a staff member with
// chats.reopen (session token or Basic), as the ReopenChat command does
// on a socket: the chat checks the rest (closed, theirs to see, its
// department online) and answers once the reopened event is stored.
func (s *Server) reopenChat(w http.ResponseWriter, r *http.Request) {
	a, e := s.requestAgent(r)
	if e != nil {
		writeError(w, e)
		return
	}
	perms, err := s.b.Permissions(a)
	if err != nil {
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read roles now"))
		return
	}
	id, addr := r.PathValue("id"), s.clientAddr(r)
	if !perms.Has(actors.PermReopen) {
		e := errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "your role does not allow this (%s)", actors.PermReopen)
		s.audit(addr, "permission.denied", a.GetId(), id, e.GetMessage(), false)
		writeError(w, e)
		return
	}
	if !actors.ValidID(id) {
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "no chat %q", id))
		return
	}
	cmd := &messages.ChatCommand{ChatId: id, Address: addr, Body: &messages.ChatCommand_Reopen{Reopen: &messages.ReopenChat{ChatId: id}}}
	if err := s.b.StaffChatCommand(r.Context(), a, perms, cmd); err != nil {
		writeError(w, err)
		return
	}
	writeProto(w, http.StatusOK, &messages.Ack{ChatId: id})
}
