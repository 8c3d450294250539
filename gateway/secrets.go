package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// rotateSecrets is POST /admin/secrets/rotate {"admin_token": true,
// "signing_key": true}: the owner (with their own session) or the admin
// credential replaces the admin credential, the token-signing key, or
// both. There is no grace period: a rotation answers a leak, so the old
// secret is refused at once. A new signing key ends every staff session
// (their sockets close with 4004) and every visitor's resume token (open
// visitor sockets go on); the answer carries the new admin credential
// (shown once) and, for the owner, a fresh session token.
func (s *Server) rotateSecrets(w http.ResponseWriter, r *http.Request) {
	var in struct {
		AdminToken bool `json:"admin_token"`
		SigningKey bool `json:"signing_key"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if caller(r) != actors.CallerAdmin && !s.ownerOnly(w, r, "rotates the broker's secrets") {
		return
	}
	switch {
	case !in.AdminToken && !in.SigningKey:
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "say what to rotate: {\"admin_token\": true, \"signing_key\": true}"))
		return
	case s.cfg.SaveSecrets == nil:
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "this broker cannot rotate its secrets"))
		return
	}
	var out struct {
		AdminToken   string `json:"admin_token,omitempty"`
		SessionToken string `json:"session_token,omitempty"`
	}
	var hash, key []byte
	var what []string
	if in.AdminToken {
		out.AdminToken = hex.EncodeToString(randomBytes(24))
		hash, what = HashAdminToken(out.AdminToken), append(what, "admin_token")
	}
	if in.SigningKey {
		key, what = randomBytes(32), append(what, "signing_key")
	}
	if err := s.cfg.SaveSecrets(hash, key); err != nil {
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot store the new secrets: %v", err))
		return
	}
	if hash != nil {
		s.adminKey.Store(&hash)
	}
	if key != nil {
		s.tok.set(key)
		s.closeStaffSockets("the token-signing key was rotated; log in again")
		if me, _ := s.b.Agent(caller(r)); me != nil {
			out.SessionToken, _ = s.tok.newSession(me.GetId(), me.GetSessionEpoch(), s.b.Now(), s.cfg.SessionTTL)
		}
	}
	s.audit(s.clientAddr(r), "admin.secrets.rotate", caller(r), strings.Join(what, ","), "", true)
	s.log.Warn("secrets rotated", "what", what, "by", caller(r), "address", s.clientAddr(r))
	writeJSON(w, http.StatusOK, out)
}

// closeStaffSockets ends every staff socket with CloseLoggedOut, and the
// customer-side sockets staff opened with their session (colleague.go).
func (s *Server) closeStaffSockets(why string) {
	s.mu.Lock()
	var ended []*wsConn
	for c := range s.conns {
		if c.role == roleAgent || c.sid.Load() != nil {
			ended = append(ended, c)
		}
	}
	s.mu.Unlock()
	for _, c := range ended {
		c.close(CloseLoggedOut, why)
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("gateway: no randomness: " + err.Error())
	}
	return b
}
