package gateway

import (
	"crypto/rand"
	"math"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// Password logins: the length caps, then the failed-login guard
// (loginguard.go), then one argon2id hash under the bound on hashes at
// once (hashgate.go), against the account's hash or, for an unknown
// login, a dummy that costs the same.

const (
	// MaxLoginBytes is the longest login accepted (as PUT /admin/agents
	// accepts); a longer one is refused before any work.
	MaxLoginBytes = 254
	// MaxPasswordBytes is the longest password accepted (as PUT
	// /admin/agents accepts).
	MaxPasswordBytes = 1024
	// auditLoginBytes is how much of a refused login the audit log keeps.
	auditLoginBytes = 64
)

// LoginLimits bound password logins. A zero field takes its default.
type LoginLimits struct {
	// MaxHashes is how many password checks (argon2id, each holding
	// PasswordParams.MemoryKiB) may run at once. Default: a quarter of
	// GOMEMLIMIT (or 256 MiB when none is set) divided by the argon2id
	// memory cost, at most 4 per CPU and at least 1: with the default
	// 19 MiB cost and no GOMEMLIMIT, 13, or fewer on small machines.
	MaxHashes int
	// HashWait is how long a login waits for a free slot before it is
	// refused with a temporary UNAVAILABLE. At most 4 logins per slot
	// wait; more are refused at once. Default 1 s; negative: no wait.
	HashWait time.Duration
	// TableEntries bounds the failed-login table (entries per login, per
	// address and per login and address together); the least recently
	// used entry makes room for a new one. Default 65536 (about 25 MiB
	// at the longest logins), at least 16.
	TableEntries int
}

func (l *LoginLimits) fill(p PasswordParams) {
	if l.MaxHashes == 0 {
		budget := int64(256 << 20)
		if lim := debug.SetMemoryLimit(-1); lim != math.MaxInt64 {
			budget = lim / 4
		}
		n := budget / (int64(p.orDefault().MemoryKiB) << 10)
		l.MaxHashes = int(max(1, min(n, int64(4*runtime.GOMAXPROCS(0)))))
	}
	if l.HashWait == 0 {
		l.HashWait = time.Second
	}
	if l.TableEntries == 0 {
		l.TableEntries = 65536
	}
	l.TableEntries = max(l.TableEntries, 16)
}

// checkPassword checks a password login from addr. It returns the account,
// nil (no error) for a wrong login or password, or a typed error: the
// login or password too long, too many failures, too many logins at once,
// or the store unreadable.
func (s *Server) checkPassword(login, password, addr string) (*messages.Agent, *messages.Error) {
	key, now, e := s.beginLogin(login, password, addr)
	if key == "" {
		return nil, e
	}
	a, err := s.b.AgentByLogin(login)
	if err != nil {
		s.logins.cancel(key, addr)
		return nil, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read accounts now")
	}
	// An unknown login, an account without a usable hash, or one that
	// signs in through a directory (a hash kept from before does not
	// count) is checked against the dummy: it costs one hash too, so
	// logins cannot be told apart by time.
	h, known := parseHash(a.GetPasswordHash())
	known = known && a.GetSignIn() == messages.SignInMethod_SIGN_IN_METHOD_PASSWORD
	if a == nil || !known {
		h = s.dummyHash
	}
	if !s.hashes.acquire() {
		s.logins.cancel(key, addr)
		return nil, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "too many logins at once; try again in a second")
	}
	match := h.matches(password)
	s.hashes.release()
	if a == nil || !known || !match {
		return nil, nil
	}
	s.logins.succeeded(key, addr, now)
	return a, nil
}

// beginLogin applies what every login with a password shares, whatever
// checks the password: the length caps, then the failed-login guard,
// which counts the attempt as failed until succeeded takes it back. It
// returns the guard's key for the login, or "" and the refusal (nil for
// an empty login or password: a wrong one).
func (s *Server) beginLogin(login, password, addr string) (key string, now time.Time, e *messages.Error) {
	if login == "" || password == "" {
		return "", now, nil
	}
	if len(login) > MaxLoginBytes || len(password) > MaxPasswordBytes {
		return "", now, errf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT,
			"a login has at most %d bytes and a password at most %d", MaxLoginBytes, MaxPasswordBytes)
	}
	key, now = guardKey(login), s.b.Now()
	if until, ok := s.logins.begin(key, addr, now); !ok {
		s.cfg.Metrics.limit(limitLogins)
		return "", now, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_RATE_LIMITED,
			"too many failed logins; try again after %s", until.UTC().Format(time.RFC3339))
	}
	return key, now, nil
}

// guardKey is the failed-login guard's name for a login: without case
// and with its spaces collapsed, as directories compare logins ("alice",
// " Alice" and "alice  " are one login to LDAP, so they share their
// failures here).
func guardKey(login string) string {
	return strings.Join(strings.Fields(strings.ToLower(login)), " ")
}

// newDummyHash is a hash with the configured costs that no password
// matches, for unknown logins to be checked against.
func newDummyHash(p PasswordParams) (passwordHash, error) {
	// The costs are what a real check pays; salt and key are random, so
	// no password matches it. Nothing is hashed here: making it costs no
	// argon2id run (19 MiB) at start.
	p = p.orDefault()
	h := passwordHash{m: p.MemoryKiB, t: p.Time, p: p.Threads, salt: make([]byte, 16), want: make([]byte, 32)}
	if _, err := rand.Read(h.salt); err != nil {
		return passwordHash{}, err
	}
	if _, err := rand.Read(h.want); err != nil {
		return passwordHash{}, err
	}
	return h, nil
}

// auditLogin is a login as the audit log keeps it: at most
// auditLoginBytes, cut at a character boundary.
func auditLogin(login string) string {
	if len(login) <= auditLoginBytes {
		return login
	}
	cut := auditLoginBytes
	for cut > 0 && !utf8RuneStart(login[cut]) {
		cut--
	}
	return strings.ToValidUTF8(login[:cut], "\uFFFD") + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
