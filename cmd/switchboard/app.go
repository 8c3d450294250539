package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"expvar"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/gateway/hooks"
	"github.com/switchboard-chat/switchboard/gateway/whatsapp"
	"github.com/switchboard-chat/switchboard/persistence"
)

// Main is one running broker: storage, actors, gateway, HTTP listener.
// cmd/switchboard and the end-to-end tests both use it.
type Main struct {
	cfg    Config
	store  *persistence.Store
	broker *actors.Broker
	hooks  *hooks.Sender
	gw     *gateway.Server
	// wa is the WhatsApp channels' Graph API client (channels.go).
	wa     *whatsapp.Client
	srv    *http.Server
	ln     net.Listener
	debug  *http.Server
	served chan struct{}
	once   sync.Once
	err    error
	life   sync.Mutex               // orders Close and a workspace reset
	prune  func() bool              // stops the audit retention timer
	tp     *sdktrace.TracerProvider // built by startTracing (tracing.go)
	// reg is this run's metrics registry; nil when metrics are off.
	reg *prometheus.Registry
	// draining is set first thing in Close: /readyz turns 503 before
	// any socket closes. recovered is set once Broker.Recover returned.
	draining, recovered atomic.Bool
	// shared, in cluster mode, is the replicated store the node opened:
	// Main uses it and leaves closing it to the node (cluster_node.go).
	// sharedReg is the registry the node opened it with (nil: metrics
	// off): Main registers the rest on it, so the owner's /metrics has the
	// store's figures too.
	shared    *persistence.Store
	sharedReg *prometheus.Registry
	// wrap, when set, wraps the HTTP handler (the cluster's routes).
	wrap func(http.Handler) http.Handler
	// abort: Close closes every connection at once, with no drain (a
	// cluster node that lost the actors).
	abort atomic.Bool
}

// NewMain returns a Main for cfg.
func NewMain(cfg Config) *Main {
	return &Main{cfg: *cfg.EnsureDefaults()}
}

// Run opens storage, recovers the actors' state, creates the demo directory
// if asked, and starts serving. It returns once the broker answers.
func (m *Main) Run(ctx context.Context) error {
	log := m.cfg.Logger
	// Every package's settings are checked before anything is opened.
	if err := m.cfg.Validate(); err != nil {
		return err
	}
	m.draining.Store(false)
	reg := m.newRegistry()
	var err error
	if err := m.openStore(reg); err != nil {
		return err
	}
	if err := m.startTracing(ctx); err != nil {
		return err
	}
	acfg := m.cfg.actorsConfig()
	acfg.Store, acfg.TracerProvider, acfg.Mailer = m.store, m.tracerProvider(), m.cfg.mailer()
	acfg.ChannelSender = m.whatsApp()
	m.hooks = hooks.New(m.cfg.Webhooks)
	acfg.Webhooks = m.hooks
	actorsMetrics(acfg, reg)
	if m.broker, err = actors.New(*acfg); err != nil {
		return err
	}
	// The store tells the delivery outbox of the deliveries it makes.
	m.store.SetDeliveryWake(m.broker.WakeDeliveries)
	queued, active, err := m.broker.Recover()
	if err != nil {
		return err
	}
	m.recovered.Store(true)
	m.retention()
	log.Info("recovered", "queued_chats", queued, "active_chats", active)

	secret, _, err := m.store.Secret(secretTokenKey, 32)
	if err != nil {
		return err
	}
	// The key of visitors' staff references is its own secret: rotating
	// the signing key (a leak) leaves them as they were, and a leaked
	// signing key does not turn them back into staff ids.
	refKey, _, err := m.store.Secret(secretVisitorRefKey, 32)
	if err != nil {
		return err
	}
	adminHash, err := m.adminCredential()
	if err != nil {
		return err
	}
	gcfg := m.cfg.gatewayConfig()
	gcfg.Broker, gcfg.TokenSecret, gcfg.AdminTokenHash, gcfg.VisitorRefKey = m.broker, secret, adminHash, refKey
	if m.shared == nil { // a cluster's workspace is every node's copy
		gcfg.DeleteWorkspace = func() { go m.resetWorkspace() }
	}
	gcfg.SaveSecrets, gcfg.TracerProvider = m.saveSecrets, m.tracerProvider()
	gcfg.SendMail = m.cfg.mailer().SendNow
	gcfg.WhatsApp = m.whatsApp()
	gcfg.PostWebhook = m.hooks.PostNow
	m.gatewayMetrics(gcfg, reg)
	gcfg.Ready = m.ready(m.store)
	if m.gw, err = gateway.New(*gcfg); err != nil {
		return err
	}
	if m.cfg.Demo {
		if err := m.seedDemo(ctx); err != nil {
			return fmt.Errorf("demo directory: %w", err)
		}
	}
	if m.ln, err = net.Listen("tcp", m.cfg.Addr); err != nil {
		return err
	}
	if m.srv, err = m.httpServer(ctx); err != nil {
		return err
	}
	m.served = make(chan struct{})
	go func() {
		defer close(m.served)
		if err := m.srv.Serve(m.gw.Listener(m.ln)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http", "err", err)
		}
	}()
	if m.cfg.DebugAddr != "" {
		dln, err := net.Listen("tcp", m.cfg.DebugAddr)
		if err != nil {
			return fmt.Errorf("debug listener: %w", err)
		}
		m.debug = &http.Server{Handler: debugHandler(), ReadHeaderTimeout: 10 * time.Second}
		go m.debug.Serve(dln)
		log.Info("debug endpoints", "addr", dln.Addr().String())
	}
	log.Info("switchboard listening", "addr", m.Addr(), "data", m.cfg.DataDir)
	fmt.Fprintf(m.cfg.Out, "Web console: http://%s/\n", m.Addr())
	fmt.Fprintf(m.cfg.Out, "Listening on http://%s\n", m.Addr())
	return nil
}

// httpServer is the gateway's server, with the demo page (-demo) and
// the cluster's routes (wrap) in front.
func (m *Main) httpServer(ctx context.Context) (*http.Server, error) {
	srv := m.gw.HTTPServer()
	if m.cfg.Demo {
		if err := m.seedDemoOrigin(ctx); err != nil {
			return nil, fmt.Errorf("demo widget origin: %w", err)
		}
		srv.Handler = withDemoPage(srv.Handler, m.Addr())
		fmt.Fprintf(m.cfg.Out, "Demo customer page with the widget: %s/demo/\n", demoOrigin(m.Addr()))
	}
	if m.wrap != nil {
		srv.Handler = m.wrap(srv.Handler)
	}
	return srv, nil
}

// openStore opens the data folder's store, or takes the cluster node's
// replicated one (shared).
func (m *Main) openStore(reg *prometheus.Registry) error {
	if m.store = m.shared; m.store != nil {
		return nil
	}
	var err error
	m.store, err = persistence.Open(m.cfg.DataDir, storeMetrics(m.storeOptions(), reg))
	return err
}

// adminCredential returns the stored hash of the admin credential, creating
// the credential (and showing it once) on first start.
func (m *Main) adminCredential() ([]byte, error) {
	token := m.cfg.AdminToken
	if token == "" {
		buf := make([]byte, 24)
		if _, err := rand.Read(buf); err != nil {
			return nil, err
		}
		token = hex.EncodeToString(buf)
	}
	hash, created, err := m.store.SecretOr(secretAdminHash, gateway.HashAdminToken(token))
	if err != nil {
		return nil, err
	}
	if created {
		fmt.Fprintf(m.cfg.Out, "\nAdmin credential (shown once; keep it): %s\nUse it as: Authorization: Bearer %s\n\n", token, token)
	} else if m.cfg.AdminToken != "" && !bytes.Equal(hash, gateway.HashAdminToken(m.cfg.AdminToken)) {
		m.cfg.Logger.Warn("SWITCHBOARD_ADMIN_TOKEN is ignored: the data folder has its own admin credential since its first start; "+
			"to change it, the owner (or the current credential) calls POST /admin/secrets/rotate {\"admin_token\": true}", "data", m.cfg.DataDir)
	}
	return hash, nil
}

// saveSecrets durably stores rotated secrets (nil: unchanged).
func (m *Main) saveSecrets(adminHash, tokenSecret []byte) error {
	for _, s := range []struct {
		name  string
		value []byte
	}{{secretAdminHash, adminHash}, {secretTokenKey, tokenSecret}} {
		if s.value == nil {
			continue
		}
		if err := m.store.SetSecret(s.name, s.value); err != nil {
			return err
		}
	}
	return nil
}

// Addr is the address the broker listens on.
func (m *Main) Addr() string {
	if m.ln == nil {
		return ""
	}
	return m.ln.Addr().String()
}

// Gateway returns the running gateway.
func (m *Main) Gateway() *gateway.Server { return m.gw }

// Close shuts the broker down cleanly: it stops accepting, closes every
// socket with a going-away code, closes storage (finishing every write in
// flight) and shuts the actor system down (Broker.Shutdown says why in
// that order).
// It is safe to call more than once.
func (m *Main) Close() error {
	m.life.Lock()
	defer m.life.Unlock()
	m.once.Do(func() { m.err = m.close() })
	return m.err
}

// The names of the broker's secrets in the store.
const (
	// secretTokenKey signs session and resume tokens.
	secretTokenKey = "token-secret"
	// secretVisitorRefKey keys the references visitors see in place of
	// staff ids (actors.VisitorView).
	secretVisitorRefKey = "visitor-ref-key"
	// secretAdminHash is HashAdminToken of the admin credential.
	secretAdminHash = "admin-token-sha256"
)

// resetWorkspace stops the broker (sockets close with 1001), wipes its
// data but the admin credential, leaving nothing of it readable in the
// data folder, and starts it again, empty, on the same address. The
// token-signing key is not kept: a new one ends every session and resume
// token issued before.
func (m *Main) resetWorkspace() {
	m.life.Lock()
	defer m.life.Unlock()
	log := m.cfg.Logger
	addr := m.Addr()
	if err := m.close(); err != nil {
		log.Error("delete workspace: stopping", "err", err)
	}
	store, err := persistence.Open(m.cfg.DataDir, m.storeOptions())
	if err == nil {
		err = store.WipeWorkspace(secretAdminHash)
		store.Close()
	}
	if err != nil {
		log.Error("delete workspace: wiping", "err", err)
		return
	}
	m.cfg.Addr, m.cfg.Demo = addr, false
	if err := m.Run(context.Background()); err != nil {
		log.Error("delete workspace: starting again", "err", err)
		return
	}
	log.Warn("workspace deleted; the broker runs again, empty")
}

// ready is the readiness of the broker on store (/readyz): not draining,
// recovered, and storage writable. The listener opens only after recovery,
// so "recovering" is not seen today; it keeps the probe true should that
// order change (cluster membership would join here).
func (m *Main) ready(store *persistence.Store) func() error {
	return func() error {
		switch {
		case m.draining.Load():
			return errors.New("shutting down")
		case !m.recovered.Load():
			return errors.New("recovering")
		}
		// Short reasons: /readyz is public, so no paths or Pebble errors
		// (the log has those).
		switch err := store.Writable(); {
		case err == nil:
			return nil
		case errors.Is(err, persistence.ErrDiskLow):
			return errors.New("storage unavailable: disk low")
		case errors.Is(err, persistence.ErrClosed):
			return errors.New("storage closed")
		}
		return errors.New("storage unavailable")
	}
}

// drain turns /readyz to 503 and, with DrainWait, gives load balancers
// that long to notice before sockets close.
func (m *Main) drain() {
	if m.draining.Swap(true) || m.cfg.DrainWait <= 0 || m.srv == nil {
		return
	}
	m.cfg.Logger.Info("draining: /readyz answers 503", "wait", m.cfg.DrainWait)
	time.Sleep(m.cfg.DrainWait) // the wait is the point: nothing to poll
}

// Abort closes at once: no drain, and sockets closed before anything
// else (a cluster node that lost the actors must stop serving them now).
func (m *Main) Abort() error {
	m.abort.Store(true)
	return m.Close()
}

func (m *Main) close() error {
	if !m.abort.Load() {
		m.drain()
	}
	m.recovered.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if m.prune != nil {
		m.prune()
		m.prune = nil
	}
	var errs []error
	if m.srv != nil {
		// Stops accepting at once; websockets are hijacked, so it does not
		// wait for them: the gateway closes them next.
		if m.abort.Load() {
			errs = append(errs, m.srv.Close())
		} else {
			errs = append(errs, m.srv.Shutdown(ctx))
		}
		<-m.served
	}
	if m.debug != nil {
		m.debug.Close()
	}
	if m.gw != nil {
		errs = append(errs, m.gw.Shutdown(ctx))
	}
	if m.shared != nil && m.broker != nil {
		m.handOn()
	}
	if m.store != nil {
		m.store.SetDeliveryWake(nil)
		if m.shared == nil {
			// Close drains the writer: everything submitted is committed.
			// (A cluster node closes its store once Main is closed.)
			errs = append(errs, m.store.Close())
		}
	}
	if m.broker != nil {
		m.broker.Shutdown()
	}
	errs = append(errs, m.stopTracing(ctx))
	return errors.Join(errs...)
}

// handOn, in cluster mode, ends this node's part in the actors: they
// stop (their timers must not act for an owner that is gone), every write
// they submitted is committed or failed, and the store refuses any more,
// before the node gives the ownership up.
func (m *Main) handOn() {
	m.broker.Halt(5 * time.Second)
	// An empty request lands after every write submitted before it.
	if err := waitErr(func(done func(error)) { m.store.Guard(nil, done) }); err != nil {
		m.cfg.Logger.Warn("cluster: the last writes before handing on", "err", err)
	}
	m.store.Seal()
}

func (m *Main) storeOptions() persistence.Options { return m.cfg.storeOptions() }

// pruneEvery is how often old audit entries and, per department, old
// closed chats are deleted.
const pruneEvery = time.Hour

// retention deletes the audit entries older than AuditRetention, the
// routing journal's entries older than RoutingRetention and the closed
// chats older than their department's retention_days, now and then every
// pruneEvery (on the broker's clock).
func (m *Main) retention() {
	store, broker, log := m.store, m.broker, m.cfg.Logger
	before := func(what string, keep time.Duration, del func(time.Time) error) {
		if keep < 0 {
			return // kept for ever
		}
		if err := del(broker.Now().Add(-keep)); err != nil {
			log.Error(what+" retention", "err", err)
		}
	}
	prune := func() {
		before("audit", m.cfg.AuditRetention, store.DeleteAuditBefore)
		before("routing journal", m.cfg.RoutingRetention, store.DeleteRoutingBefore)
		if n, err := broker.ApplyRetention(); err != nil {
			log.Error("chat retention", "err", err, "deleted", n)
		} else if n > 0 {
			log.Info("chat retention", "deleted", n)
		}
	}
	var pass func()
	pass = func() {
		m.life.Lock() // not while Close or a reset runs
		defer m.life.Unlock()
		if m.prune == nil || m.store != store {
			return // stopped: a new Run arms its own
		}
		prune()
		m.prune = broker.AfterFunc(pruneEvery, pass)
	}
	prune()
	m.prune = broker.AfterFunc(pruneEvery, pass)
}

// debugHandler serves the profiler and the runtime's variables.
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/vars", expvar.Handler())
	return mux
}
