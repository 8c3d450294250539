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

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway/whatsapp"
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

// Server is the HTTP handler of Switchboard.
type Server struct {
	cfg      Config
	tracing  tracing
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
	poll     *poller      // where idle sockets park (park.go)
	parked   atomic.Int64 // how many are parked now
	parks    atomic.Int64 // and how many times one was
	patterns []string
	web      webAssets
	addrs    addrTable
	logins   loginGuard
	audits   auditLimiter
	fwd      *Forwarding
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
	// oidc is OpenID Connect sign-in's client and one-time codes.
	oidc oidcState
	// syncMu makes LDAP syncs (periodic and manual) one at a time;
	// stopSync ends the periodic one (Shutdown).
	syncMu   sync.Mutex
	stopSync func()
	stopOnce sync.Once
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
	if err := cfg.EnsureDefaults().Validate(); err != nil {
		return nil, err
	}
	if len(cfg.VisitorRefKey) == 0 {
		cfg.VisitorRefKey = cfg.TokenSecret
	}
	fwd, err := NewForwarding(cfg.TrustedProxies, cfg.ForwardedHeader)
	if err != nil {
		return nil, err
	}
	adminNet, err := parsePrefixes(cfg.AdminAllow)
	if err != nil {
		return nil, fmt.Errorf("gateway: AdminAllow: %w", err)
	}
	s := &Server{fwd: fwd, cfg: cfg, b: cfg.Broker, tok: newTokens(cfg.TokenSecret), visitorView: actors.NewVisitorView(cfg.VisitorRefKey), log: cfg.Logger, poll: &thePoller, conns: map[*wsConn]struct{}{},
		addrs: addrTable{limit: cfg.Limits}, adminNet: adminNet, logins: loginGuard{max: cfg.Logins.TableEntries},
		hashes: newHashGate(cfg.Logins.MaxHashes, cfg.Logins.HashWait), tracing: newTracing(cfg.TracerProvider)}
	if s.cfg.WhatsApp == nil {
		s.cfg.WhatsApp = whatsapp.New(whatsapp.Config{Chats: cfg.Broker})
	}
	s.adminKey.Store(&cfg.AdminTokenHash)
	if s.dummyHash, err = newDummyHash(cfg.Password); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	s.mux = http.NewServeMux()
	s.routes()
	s.stopSync = s.startLDAPSync()
	return s, nil
}

// ServeHTTP implements http.Handler. A request that matches no route gets
// a typed JSON error too (NOT_FOUND, or 405 with Allow), not the mux's
// plain text.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Every route's body is capped, whether it reads it through readBody
	// or not: a file upload's at MaxAttachmentBytes, the others' at
	// maxBodyBytes.
	h, pattern := s.mux.Handler(r)
	limit := int64(maxBodyBytes)
	if pattern == uploadRoute {
		limit = s.cfg.MaxAttachmentBytes
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+1) // +1: the handlers tell "too large" apart
	if pattern != "" {
		if logRequests(pattern) {
			s.serveLogged(w, r, pattern)
			return
		}
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
	s.mux.HandleFunc(pattern, s.cfg.Metrics.instrument(pattern, h))
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
	s.route("GET /metrics", s.serveMetrics)
	s.route("GET /readyz", s.readyz)
	s.route("GET /ws/visitor", func(w http.ResponseWriter, r *http.Request) { s.serveWS(w, r, roleVisitor) })
	s.route("GET /ws/agent", func(w http.ResponseWriter, r *http.Request) { s.serveWS(w, r, roleAgent) })
	s.apiRoutes()
	s.adminRoutes()
	s.signInRoutes()
	s.emailRoutes()
	s.webhookRoutes()
	s.offlineRoutes()
	s.patchRoutes()
	s.liveChatRoutes()
	s.cannedRoutes()
	s.statsLiveRoutes()
	s.channelRoutes()
	s.webRoutes()
}

// readyz is the readiness probe: 200 {"status":"ready"} while the node
// can take traffic, else 503 {"status":"unavailable","reason":...} with a
// short reason (shutting down, storage unavailable, disk low). /healthz
// stays the liveness probe: a node that is not ready is still alive.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	var err error
	switch {
	case closed:
		err = errors.New("shutting down")
	case s.cfg.Ready != nil:
		err = s.cfg.Ready()
	}
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// Shutdown stops taking sockets and closes every open one with
// CloseGoingAway, waiting (up to ctx) for their goroutines to end.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(s.stopSync)
	defer s.flushAudits()
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

// serveMetrics serves the Prometheus exposition when metrics are on.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if s.cfg.MetricsHandler == nil {
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "metrics are off (-metrics=false)"))
		return
	}
	s.cfg.MetricsHandler.ServeHTTP(w, r)
}
