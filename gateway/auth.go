package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// Tokens are "<base64url payload>.<base64url HMAC-SHA256 of it>", where the
// payload is "<kind>|<id>|<expiry unix seconds>". Kinds: "v" for a
// visitor's resume token, "a" for an agent's session token.
// The key can be replaced at run time (rotation); every token signed with
// the old one then fails.
type tokens struct {
	secret atomic.Pointer[[]byte]
}

func newTokens(secret []byte) *tokens {
	t := &tokens{}
	t.set(secret)
	return t
}

func (t *tokens) set(secret []byte) {
	k := append([]byte(nil), secret...)
	t.secret.Store(&k)
}

func (t *tokens) key() []byte { return *t.secret.Load() }

var errBadToken = errors.New("invalid or expired token")

func (t *tokens) sign(kind, id string, exp time.Time) string {
	payload := kind + "|" + id + "|" + strconv.FormatInt(exp.Unix(), 10)
	mac := hmac.New(sha256.New, t.key())
	mac.Write([]byte(payload))
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(mac.Sum(nil))
}

// newSession signs a session token for agentID. Its id carries the agent,
// the issue time (for "sessions after", set on suspension), a random
// session id (for logout) and the account's session epoch (a new password
// draws a new one, ending every older session).
func (t *tokens) newSession(agentID, epoch string, now time.Time, ttl time.Duration) (token, sid string) {
	b := make([]byte, 8)
	rand.Read(b)
	sid = fmt.Sprintf("%x", b)
	id := agentID + ":" + strconv.FormatInt(now.UnixMilli(), 10) + ":" + sid + ":" + epoch
	return t.sign("a", id, now.Add(ttl)), sid
}

// parseSession splits a verified session token's id. A token from before
// epochs has none ("", as an account from before epochs).
func parseSession(id string) (agentID string, issuedMs int64, sid, epoch string, ok bool) {
	parts := strings.Split(id, ":")
	if len(parts) == 3 {
		parts = append(parts, "")
	}
	if len(parts) != 4 || parts[0] == "" || parts[2] == "" {
		return "", 0, "", "", false
	}
	issuedMs, err := strconv.ParseInt(parts[1], 10, 64)
	return parts[0], issuedMs, parts[2], parts[3], err == nil
}

func (t *tokens) verify(kind, token string, now time.Time) (string, error) {
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return "", errBadToken
	}
	enc := base64.RawURLEncoding.Strict() // one spelling per token: no spare bits to vary
	payload, err1 := enc.DecodeString(p)
	got, err2 := enc.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return "", errBadToken
	}
	mac := hmac.New(sha256.New, t.key())
	mac.Write(payload)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return "", errBadToken
	}
	parts := strings.Split(string(payload), "|")
	if len(parts) != 3 || parts[0] != kind {
		return "", errBadToken
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || now.Unix() >= exp {
		return "", errBadToken
	}
	return parts[1], nil
}

// PasswordParams are argon2id's costs. The zero value means the defaults:
// 19 MiB of memory, 2 passes, 1 thread (OWASP's recommendation).
type PasswordParams struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

func (p PasswordParams) orDefault() PasswordParams {
	if p.MemoryKiB == 0 {
		p.MemoryKiB = 19 * 1024
	}
	if p.Time == 0 {
		p.Time = 2
	}
	if p.Threads == 0 {
		p.Threads = 1
	}
	return p
}

// HashPassword returns an argon2id hash of password in PHC string form.
func HashPassword(password string, p PasswordParams) (string, error) {
	p = p.orDefault()
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches a HashPassword hash.
func CheckPassword(hash, password string) bool {
	h, ok := parseHash(hash)
	return ok && h.matches(password)
}

// passwordHash is a parsed HashPassword hash.
type passwordHash struct {
	m, t       uint32
	p          uint8
	salt, want []byte
}

func parseHash(hash string) (passwordHash, bool) {
	var h passwordHash
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return h, false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.m, &h.t, &h.p); err != nil || h.m == 0 || h.t == 0 || h.p == 0 {
		return h, false
	}
	enc := base64.RawStdEncoding
	var err1, err2 error
	h.salt, err1 = enc.DecodeString(parts[4])
	h.want, err2 = enc.DecodeString(parts[5])
	return h, err1 == nil && err2 == nil && len(h.want) > 0
}

// matches runs argon2id: it is the costly part of a login.
func (h passwordHash) matches(password string) bool {
	got := argon2.IDKey([]byte(password), h.salt, h.t, h.m, h.p, uint32(len(h.want)))
	return subtle.ConstantTimeCompare(got, h.want) == 1
}

// HashAdminToken is how the admin credential is kept: a random token needs
// no slow hash, only not to be stored in the clear.
func HashAdminToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// helloStaff authenticates a staff socket's Hello by login and password or
// session token, as authenticate does, and requires live chat access; it
// returns nil when it refused.
func (c *wsConn) helloStaff(ref uint64, h *messages.Hello, now time.Time, attach *messages.ConnAttach) *messages.Participant {
	a, until := c.staffHello(ref, h.GetLogin(), h.GetPassword(), h.GetSessionToken(), actors.PermLiveChat, "your role has no live chat access")
	if a == nil {
		return nil
	}
	sid := ""
	if t := h.GetSessionToken(); t != "" {
		attach.SessionToken = t
		id, _ := c.s.tok.verify("a", t, now)
		_, _, sid, attach.SessionEpoch, _ = parseSession(id)
	} else {
		attach.SessionToken, sid = c.s.tok.newSession(a.GetId(), a.GetSessionEpoch(), now, c.s.cfg.SessionTTL)
		attach.SessionEpoch = a.GetSessionEpoch()
	}
	c.sid.Store(&sid)
	c.watchLoginHours(until)
	return &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_AGENT, Id: a.GetId(), DisplayName: a.GetDisplayName()}
}

// staffHello authenticates a socket's Hello (login and password, or a
// session token) and requires perm; it returns nil when it refused
// (answered, counted and, for a denial, audited: the denial's audit
// entry names the staff member), and when the login window ends.
func (c *wsConn) staffHello(ref uint64, login, password, session string, perm actors.Permission, denied string) (*messages.Agent, time.Time) {
	a, until, e := c.s.authenticate(login, password, session, c.addr)
	if e != nil {
		if e.GetCode() == messages.ErrorCode_ERROR_CODE_RATE_LIMITED {
			c.s.cfg.Metrics.refuse(refusedRateLimit)
		} else {
			c.s.cfg.Metrics.refuse(refusedAuth)
		}
		c.fail(ref, e)
		return nil, time.Time{}
	}
	perms, err := c.s.b.Permissions(a)
	if err != nil {
		c.s.cfg.Metrics.refuse(refusedAuth)
		c.fail(ref, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read roles now"))
		return nil, time.Time{}
	}
	if !perms.Has(perm) {
		id := a.GetId()
		c.whoID.Store(&id)
		c.s.cfg.Metrics.refuse(refusedAuth)
		c.fail(ref, errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "%s", denied))
		return nil, time.Time{}
	}
	return a, until
}

// authenticateAgent checks a login and password, or a session token, and
// returns the staff account. Password logins, and every refusal, go to the
// audit log with the client's address.
func (s *Server) authenticateAgent(login, password, session, addr string) (*messages.Agent, *messages.Error) {
	a, _, e := s.authenticate(login, password, session, addr)
	return a, e
}

// authenticate is authenticateAgent that also says when the staff
// member's login window ends (zero: no end), for a socket to watch.
func (s *Server) authenticate(login, password, session, addr string) (a *messages.Agent, until time.Time, e *messages.Error) {
	if session == "" {
		if dir, maps := s.ldapFor(login); dir != nil {
			return s.ldapLogin(dir, maps, login, password, addr) // audits as every directory sign-in does
		}
	}
	defer func() {
		switch {
		case e != nil:
			actor := auditLogin(login)
			if a != nil {
				actor = a.GetId()
			}
			s.audit(addr, "login.refused", actor, "", e.GetMessage(), false)
		case session == "":
			s.audit(addr, "login.ok", a.GetId(), "", "password login", true)
		}
	}()
	if a, e = s.checkAgent(login, password, session, addr); e != nil {
		return a, time.Time{}, e
	}
	until, e = s.checkAccess(a, addr)
	return a, until, e
}

func (s *Server) checkAgent(login, password, session, addr string) (*messages.Agent, *messages.Error) {
	bad := errf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "wrong login or password, or expired session")
	var a *messages.Agent
	var err error
	if session != "" {
		id, verr := s.tok.verify("a", session, s.b.Now())
		agentID, issued, sid, epoch, ok := parseSession(id)
		if verr != nil || !ok {
			return nil, bad
		}
		revoked, rerr := s.b.SessionRevoked(sid)
		if rerr != nil {
			return nil, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read sessions now")
		}
		if revoked {
			return nil, errf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "this session was logged out; log in again")
		}
		a, err = s.b.Agent(agentID)
		if err == nil && a != nil && (issued < a.GetSessionsAfterMs() || epoch != a.GetSessionEpoch()) && !a.GetSuspended() {
			return nil, errf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "this session has ended; log in again")
		}
	} else {
		var e *messages.Error
		if a, e = s.checkPassword(login, password, addr); e != nil {
			return nil, e
		}
	}
	if err != nil {
		return nil, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read accounts now")
	}
	if a == nil {
		return nil, bad
	}
	if a.GetSuspended() {
		return a, errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "this account is suspended")
	}
	return a, nil
}
