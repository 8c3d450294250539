package gateway

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// Close codes of ours (4000-4999), sent when the server closes a socket.
const (
	// CloseUnauthenticated: no valid Hello within HelloTimeout.
	CloseUnauthenticated = 4001
	// CloseSuspended: the account was suspended or removed; do not
	// reconnect.
	CloseSuspended = actors.CloseSuspended
	// CloseLoggedOut: the session this socket used ended: logged out, the
	// account's password changed, or the token-signing key was rotated.
	CloseLoggedOut = actors.CloseLoggedOut
	// CloseLoginHours: the staff member's login window closed (or their
	// address is no longer allowed).
	CloseLoginHours = 4005
	// CloseSlowClient: the outbound queue filled up; reconnect and resume
	// from the last sequence seen.
	CloseSlowClient = 4008
	// CloseGoingAway (1001, the standard code): the server is shutting down;
	// reconnect (to this or another node) and resume.
	CloseGoingAway = 1001
)

// Config configures a Server. Broker and TokenSecret are required; zero
// values elsewhere mean the documented defaults.
type Config struct {
	Broker *actors.Broker
	// TokenSecret signs visitors' resume tokens and agents' session tokens.
	TokenSecret []byte
	// VisitorRefKey keys the references visitors see in place of staff
	// ids; kept apart from TokenSecret so that rotating that leaves them
	// unchanged. Default: derived from TokenSecret.
	VisitorRefKey []byte
	// AdminTokenHash is HashAdminToken of the admin credential at start.
	// Empty: the admin credential is refused.
	AdminTokenHash []byte
	// AdminAllow are CIDR ranges the admin credential may be used from,
	// like a staff member's ip_allow. Default: none, so any address.
	AdminAllow []string
	// SaveSecrets, when set, durably stores rotated secrets (nil: that one
	// is unchanged) before POST /admin/secrets/rotate puts them in force.
	// Without it, rotation is refused.
	SaveSecrets func(adminTokenHash, tokenSecret []byte) error
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// OriginPatterns are the host patterns (path.Match syntax, e.g.
	// "*.example.com") whose pages may open websockets. Default: none, so
	// only same-origin pages and non-browser clients (no Origin header)
	// can connect; this blocks cross-site websocket hijacking.
	OriginPatterns []string
	// MaxFrameBytes is the largest frame answered normally; a larger one
	// gets a TOO_LARGE error. Default 64 KiB.
	MaxFrameBytes int64
	// HardFrameBytes is the largest frame read at all; a larger one closes
	// the socket with 1009. Default 1 MiB.
	HardFrameBytes int64
	// OutboundQueue is how many envelopes may wait for a slow socket.
	// Default 1024.
	OutboundQueue int
	// OutboundBytes is how many bytes may wait for a slow socket (what is
	// queued and what is being written); past either bound it is closed
	// with 4008. Replays come in pages of at most about 64 KiB
	// (actors.ReplayPageBytes), the next one once a page is written, so a
	// socket that does not read holds at most this much. Default 4 MiB.
	OutboundBytes int
	// WriteTimeout bounds every socket write. Default 10 s.
	WriteTimeout time.Duration
	// HelloTimeout is how long a new socket has to authenticate. Default 10 s.
	HelloTimeout time.Duration
	// FrameTimeout is how long a frame may take to arrive once its header
	// came: a socket whose frame is not complete by then is dropped, and
	// the bytes it buffered are let go. Default 30 s (a 64 KiB frame at
	// 2 KiB/s).
	FrameTimeout time.Duration
	// ReadHeaderTimeout, ReadTimeout, HTTPWriteTimeout and IdleTimeout are
	// the HTTP server's (see HTTPServer): how long a request's headers,
	// its whole reading, its answer and a keep-alive connection's wait for
	// the next request may take. Defaults 10 s, 30 s, 60 s and 120 s.
	ReadHeaderTimeout, ReadTimeout, HTTPWriteTimeout, IdleTimeout time.Duration
	// SessionTTL is how long an agent's session token is valid. Default 12 h.
	SessionTTL time.Duration
	// ResumeTTL is how long a visitor's resume token is valid. Default 30 days.
	ResumeTTL time.Duration
	// Password sets the argon2id costs for new staff passwords.
	Password PasswordParams
	// Limits bound frames per connection, connections per address and
	// chat requests per address.
	Limits Limits
	// Logins bound password logins: hashes at once and the failed-login
	// table.
	Logins LoginLimits
	// TrustedProxies are CIDR ranges of reverse proxies in front of the
	// broker; for a request from one of them the client's address is read
	// from ForwardedHeader (default X-Forwarded-For). Default: none, and
	// the header is ignored.
	TrustedProxies  []string
	ForwardedHeader string
	// AuditPerMinute bounds the audit entries of one kind from one client
	// address a minute (refused logins, permission denials, refused admin
	// calls); the rest are counted in one "audit.suppressed" entry at the
	// end of the minute. Default 20; negative: no limit.
	AuditPerMinute int
	// DeleteWorkspace, when set, is called (once the owner confirmed
	// DELETE /admin/workspace and the answer went out) to stop the broker,
	// wipe its data but the secrets, and start it again empty.
	DeleteWorkspace func()
}

func (c *Config) fill() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = 64 << 10
	}
	if c.HardFrameBytes <= 0 {
		c.HardFrameBytes = 1 << 20
	}
	if c.OutboundQueue <= 0 {
		c.OutboundQueue = 1024
	}
	if c.OutboundBytes <= 0 {
		c.OutboundBytes = 4 << 20
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.HelloTimeout <= 0 {
		c.HelloTimeout = 10 * time.Second
	}
	if c.AuditPerMinute == 0 {
		c.AuditPerMinute = 20
	}
	if c.FrameTimeout <= 0 {
		c.FrameTimeout = 30 * time.Second
	}
	c.fillHTTP()
	if c.SessionTTL <= 0 {
		c.SessionTTL = 12 * time.Hour
	}
	if c.ResumeTTL <= 0 {
		c.ResumeTTL = 30 * 24 * time.Hour
	}
	c.Limits.fill()
	c.Logins.fill(c.Password)
	if c.ForwardedHeader == "" {
		c.ForwardedHeader = "X-Forwarded-For"
	}
}

func (c *Config) fillHTTP() {
	for _, f := range []struct {
		d   *time.Duration
		def time.Duration
	}{{&c.ReadHeaderTimeout, 10 * time.Second}, {&c.ReadTimeout, 30 * time.Second}, {&c.HTTPWriteTimeout, time.Minute}, {&c.IdleTimeout, 2 * time.Minute}} {
		if *f.d <= 0 {
			*f.d = f.def
		}
	}
}

// Server is the HTTP handler of Switchboard.
type Server struct {
	cfg      Config
	b        *actors.Broker
	tok      *tokens
	adminKey atomic.Pointer[[]byte] // HashAdminToken of the admin credential
	adminNet []netip.Prefix
	log      *slog.Logger
	mux      *http.ServeMux
	mu       sync.Mutex
	conns    map[*wsConn]struct{}
	closed   bool
	wg       sync.WaitGroup
	patterns []string
	web      webAssets
	addrs    addrTable
	logins   loginGuard
	audits   auditLimiter
	proxies  []netip.Prefix
	// visitorView redacts every frame to a visitor.
	visitorView actors.VisitorView
	// peakQueued is the most bytes any socket's outbound queue held.
	peakQueued atomic.Int64
	hashes     *hashGate
	// accessGen counts changes of access rules, for a login that raced
	// with one to check again.
	accessGen atomic.Uint64
	// dummyHash is checked for an unknown login, so it costs what a
	// known one does.
	dummyHash passwordHash
}

func (s *Server) notePeak(n int) {
	for {
		p := s.peakQueued.Load()
		if int64(n) <= p || s.peakQueued.CompareAndSwap(p, int64(n)) {
			return
		}
	}
}

// TakePeakQueuedBytes returns the most bytes that any socket's outbound
// queue has held (Config.OutboundBytes bounds it) since it was last
// called, for tests and monitoring.
func (s *Server) TakePeakQueuedBytes() int64 { return s.peakQueued.Swap(0) }

// New builds a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Broker == nil || len(cfg.TokenSecret) < 16 {
		return nil, errors.New("gateway: Config.Broker and a TokenSecret of 16 bytes or more are required")
	}
	cfg.fill()
	if len(cfg.VisitorRefKey) == 0 {
		cfg.VisitorRefKey = cfg.TokenSecret
	}
	proxies, err := parsePrefixes(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("gateway: TrustedProxies: %w", err)
	}
	adminNet, err := parsePrefixes(cfg.AdminAllow)
	if err != nil {
		return nil, fmt.Errorf("gateway: AdminAllow: %w", err)
	}
	s := &Server{proxies: proxies, cfg: cfg, b: cfg.Broker, tok: newTokens(cfg.TokenSecret), visitorView: actors.NewVisitorView(cfg.VisitorRefKey), log: cfg.Logger, conns: map[*wsConn]struct{}{},
		addrs: addrTable{limit: cfg.Limits}, adminNet: adminNet, logins: loginGuard{max: cfg.Logins.TableEntries},
		hashes: newHashGate(cfg.Logins.MaxHashes, cfg.Logins.HashWait)}
	s.adminKey.Store(&cfg.AdminTokenHash)
	if s.dummyHash, err = newDummyHash(cfg.Password); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	s.mux = http.NewServeMux()
	s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler. A request that matches no route gets
// a typed JSON error too (NOT_FOUND, or 405 with Allow), not the mux's
// plain text.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Every route's body is capped, whether it reads it through readBody
	// or not.
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes+1) // +1: readBody tells "too large" apart
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	probe := &statusProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	switch {
	case probe.status == http.StatusMethodNotAllowed:
		w.Header().Set("Allow", probe.header.Get("Allow"))
		writeProto(w, http.StatusMethodNotAllowed, errf(messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE,
			"%s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, probe.header.Get("Allow")))
	case probe.status >= 300 && probe.status < 400:
		w.Header().Set("Location", probe.header.Get("Location"))
		w.WriteHeader(probe.status)
	default:
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "no route for %s %s", r.Method, r.URL.Path))
	}
}

// statusProbe records what the mux's own not-found, method-not-allowed or
// redirect handler would answer.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header { return p.header }
func (p *statusProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
func (p *statusProbe) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}

// openAPI describes the HTTP API; TestOpenAPIMatchesRoutes keeps it true.
//
//go:embed openapi.json
var openAPI []byte

// route registers a route and remembers its pattern, so a test can check
// the OpenAPI document against the real routes.
func (s *Server) route(pattern string, h http.HandlerFunc) {
	s.patterns = append(s.patterns, pattern)
	s.mux.HandleFunc(pattern, h)
}

// Routes returns the patterns of every route ("GET /admin/directory").
func (s *Server) Routes() []string { return slices.Clone(s.patterns) }

func (s *Server) routes() {
	s.route("GET /api/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPI)
	})
	s.route("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	s.route("GET /ws/visitor", func(w http.ResponseWriter, r *http.Request) { s.serveWS(w, r, roleVisitor) })
	s.route("GET /ws/agent", func(w http.ResponseWriter, r *http.Request) { s.serveWS(w, r, roleAgent) })
	s.apiRoutes()
	s.adminRoutes()
	s.patchRoutes()
	s.webRoutes()
}

// Shutdown stops taking sockets and closes every open one with
// CloseGoingAway, waiting (up to ctx) for their goroutines to end.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*wsConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close(CloseGoingAway, "server shutting down; reconnect and resume")
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) track(c *wsConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c *wsConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// Connections returns how many sockets are open.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// isAdmin reports whether r carries the admin credential from an address
// it may be used from.
func (s *Server) isAdmin(r *http.Request) bool {
	ok, e := s.adminCredential(r)
	return ok && e == nil
}

// adminCredential is the one check of the admin credential: used says r
// carries it; e is set when it comes from an address outside AdminAllow.
func (s *Server) adminCredential(r *http.Request) (used bool, e *messages.Error) {
	tok, ok := bearer(r)
	want := *s.adminKey.Load()
	if !ok || len(want) == 0 || subtle.ConstantTimeCompare(HashAdminToken(tok), want) != 1 {
		return false, nil
	}
	if len(s.adminNet) == 0 {
		return true, nil
	}
	addr := s.clientAddr(r)
	if ip, err := netip.ParseAddr(addr); err == nil {
		for _, p := range s.adminNet {
			if p.Contains(ip.Unmap()) {
				return true, nil
			}
		}
	}
	return true, errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "the admin credential is not allowed from %s", addr)
}

// parsePrefixes parses CIDR ranges.
func parsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range list {
		pre, err := netip.ParsePrefix(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR range", p)
		}
		out = append(out, pre)
	}
	return out, nil
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	return strings.TrimSpace(tok), ok && tok != ""
}
