// The broker's configuration: Config, its defaults and checks, and how the
// command line and SWITCHBOARD_* environment variables fill it in.

package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"go.opentelemetry.io/otel/trace"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/gateway/hooks"
	"github.com/switchboard-chat/switchboard/gateway/mail"
	"github.com/switchboard-chat/switchboard/persistence"
)

// The defaults of Config's own fields; the other packages' fields take
// theirs from those packages' Default constants.
const (
	defaultAddr           = "127.0.0.1:8080"
	defaultDataDir        = "./data"
	defaultAuditRetention = 180 * 24 * time.Hour
	// defaultRoutingRetention is how long the routing journal is kept.
	defaultRoutingRetention = 30 * 24 * time.Hour
)

// Config is the broker's configuration. A zero value means the default;
// each field says how to turn it off where that is possible (negative).
type Config struct {
	// Addr to listen on. Default 127.0.0.1:8080; ":0" picks a free port.
	Addr string
	// DataDir holds Pebble's files. Default ./data.
	DataDir string
	// DebugAddr, when set, serves net/http/pprof and expvar there. It is
	// for operators: never expose it publicly.
	DebugAddr string
	// Demo creates the demo directory when absent.
	Demo bool
	// AdminToken is used as the admin credential when none exists yet
	// (first start). Default: a random one, printed once.
	AdminToken string
	// AdminAllow: CIDR ranges the admin credential may be used from (see
	// gateway.Config). Default: any address.
	AdminAllow []string
	// OriginPatterns: see gateway.Config.
	OriginPatterns []string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Out receives what a person must see: the admin credential on first
	// start, the demo credentials. Default os.Stdout.
	Out io.Writer
	// Password sets the argon2id costs (tests make them cheap).
	Password gateway.PasswordParams
	// Clock defaults to the system clock.
	Clock actors.Clock
	// StoreFS is the filesystem under Pebble (tests inject faults here).
	// Default: the operating system's.
	StoreFS vfs.FS
	// AgentGrace and VisitorGrace: see actors.Config. Default 60 s each.
	AgentGrace, VisitorGrace time.Duration
	// SilentWait and LinePerAddress: see actors.Config (defaults 10
	// minutes and 10; negative: no limit).
	SilentWait     time.Duration
	LinePerAddress int
	// NoRoutingRecords turns the routing journal and the chats' decision
	// records off (-routing-records=false); they are on by default.
	NoRoutingRecords bool
	// MailRetry and MailRetryMax: the outbox's backoff, see actors.Config
	// (defaults 30 s, doubling up to 1 hour). Mailer defaults to the SMTP
	// client (gateway/mail).
	MailRetry, MailRetryMax time.Duration
	Mailer                  *mail.Client
	// DeliveryRetry, DeliveryRetryMax and WebhookDisableAfter: the
	// delivery outbox's backoff and when a failing webhook endpoint is
	// disabled, see actors.Config (defaults 5 s, doubling up to 30
	// minutes; 24 hours). Webhooks configures the webhook client
	// (gateway/hooks; default: 10 s timeout, no private addresses).
	DeliveryRetry, DeliveryRetryMax, WebhookDisableAfter time.Duration
	Webhooks                                             hooks.Config
	// MinFreeBytes, DiskCheckEvery and FreeSpace: see persistence.Options
	// (default 1 GiB, checked every 5 s with statfs; negative MinFreeBytes:
	// no check).
	MinFreeBytes   int64
	DiskCheckEvery time.Duration
	FreeSpace      func(dir string) (uint64, error)
	// AuditRetention is how long audit entries are kept; older ones are
	// deleted hourly. Default 180 days; negative: for ever.
	AuditRetention time.Duration
	// RoutingRetention is how long the routing journal's entries (rj/)
	// are kept; older ones are deleted hourly. Default 30 days; negative:
	// for ever. (A chat's own decisions go with the chat.)
	RoutingRetention time.Duration
	// OTLPEndpoint, when set, turns tracing on: spans go to this
	// OTLP/HTTP base URL (http://collector:4318; /v1/traces is added
	// unless it has a path). OTLPFromEnv turns it on with the standard
	// OTEL_EXPORTER_OTLP_* variables instead. Default: off.
	OTLPEndpoint string
	OTLPFromEnv  bool
	// TraceSample is the share of chat requests and messages traced, 0 to
	// 1 (ParentBased(TraceIDRatioBased)). Default 0.01.
	TraceSample float64
	// TracerProvider, when set, is traced with instead (tests give the
	// SDK's with an in-memory exporter).
	TracerProvider trace.TracerProvider
	// NoMetrics turns the Prometheus metrics off: nothing is collected or
	// registered, and GET /metrics answers 404. Default: on (-metrics).
	NoMetrics bool
	// DrainWait is how long Close keeps serving with /readyz at 503
	// before it closes sockets, so a load balancer stops sending new
	// clients first. Default 0: none.
	DrainWait time.Duration
	// Cluster: cluster mode's settings (cluster_config.go); zero: one
	// node.
	Cluster ClusterConfig
	// Gateway lets tests change the gateway's other settings; Broker,
	// TokenSecret, AdminTokenHash, Logger, OriginPatterns, AdminAllow and
	// Password are filled in by Main.
	Gateway gateway.Config
}

// EnsureDefaults fills in the default of Config's own zero fields and
// returns c; the other packages fill in theirs when Main builds them.
func (c *Config) EnsureDefaults() *Config {
	if c.Addr == "" {
		c.Addr = defaultAddr
	}
	if c.DataDir == "" {
		c.DataDir = defaultDataDir
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Out == nil {
		c.Out = os.Stdout
	}
	if c.AuditRetention == 0 {
		c.AuditRetention = defaultAuditRetention
	}
	if c.RoutingRetention == 0 {
		c.RoutingRetention = defaultRoutingRetention
	}
	return c
}

// Validate checks every package's settings as Main will pass them on, so
// that a bad one stops the broker before it opens anything.
func (c *Config) Validate() error {
	if err := c.actorsConfig().EnsureDefaults().Validate(); err != nil {
		return err
	}
	if err := c.gatewayConfig().EnsureDefaults().Validate(); err != nil {
		return err
	}
	if err := c.Cluster.validate(); err != nil {
		return err
	}
	if c.TraceSample < 0 || c.TraceSample > 1 {
		return fmt.Errorf("-trace-sample %g: it must be from 0 to 1 (0: the default %g)", c.TraceSample, defaultTraceSample)
	}
	if c.OTLPEndpoint != "" {
		if _, err := otlpURL(c.OTLPEndpoint); err != nil {
			return err
		}
	}
	o := c.storeOptions()
	return o.EnsureDefaults().Validate()
}

// actorsConfig is the broker's part of c, without its Store.
func (c *Config) actorsConfig() *actors.Config {
	return &actors.Config{Clock: c.Clock, Logger: c.Logger, AgentGrace: c.AgentGrace, VisitorGrace: c.VisitorGrace,
		SilentWait: c.SilentWait, LinePerAddress: c.LinePerAddress, MailRetry: c.MailRetry, MailRetryMax: c.MailRetryMax,
		DeliveryRetry: c.DeliveryRetry, DeliveryRetryMax: c.DeliveryRetryMax, WebhookDisableAfter: c.WebhookDisableAfter,
		RecordRouting: !c.NoRoutingRecords}
}

// mailer is the SMTP client the outbox and the test email use.
func (c *Config) mailer() *mail.Client {
	if c.Mailer == nil {
		c.Mailer = &mail.Client{}
	}
	return c.Mailer
}

// gatewayConfig is the gateway's part of c, without the broker and the
// secrets.
func (c *Config) gatewayConfig() *gateway.Config {
	g := c.Gateway
	g.Logger, g.OriginPatterns, g.Password, g.AdminAllow = c.Logger, c.OriginPatterns, c.Password, c.AdminAllow
	return &g
}

func (c *Config) storeOptions() persistence.Options {
	return persistence.Options{Logger: c.Logger, FS: c.StoreFS, MinFreeBytes: c.MinFreeBytes,
		DiskCheckEvery: c.DiskCheckEvery, FreeSpace: c.FreeSpace}
}

// environ reads SWITCHBOARD_* variables as the flags' defaults. The first
// malformed one is kept in err: the broker does not start on it.
type environ struct {
	getenv func(string) string
	err    error
}

// value returns the variable's value, or "" when unset.
func (e *environ) value(name string) string { return e.getenv(name) }

func (e *environ) string(name, def string) string {
	if v := e.value(name); v != "" {
		return v
	}
	return def
}

// parse reads the variable with parse, or returns def when it is unset.
func parseEnv[T any](e *environ, name string, def T, want string, parse func(string) (T, error)) T {
	v := e.value(name)
	if v == "" {
		return def
	}
	x, err := parse(v)
	if err != nil {
		if e.err == nil {
			e.err = fmt.Errorf("environment variable %s=%q is not %s", name, v, want)
		}
		return def
	}
	return x
}

func (e *environ) duration(name string, def time.Duration) time.Duration {
	return parseEnv(e, name, def, "a duration (such as 90s, 10m or 2h; negative: off)", time.ParseDuration)
}

func (e *environ) bool(name string, def bool) bool {
	return parseEnv(e, name, def, "true or false", strconv.ParseBool)
}

func (e *environ) float(name string, def float64) float64 {
	return parseEnv(e, name, def, "a number", func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
}

func (e *environ) int(name string, def int) int {
	return parseEnv(e, name, def, "a whole number", strconv.Atoi)
}

func (e *environ) int64(name string, def int64) int64 {
	return parseEnv(e, name, def, "a whole number", func(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) })
}

// limits turns the limit flags into gateway.Limits: 0 is the default,
// negative is off, and a rate's burst follows from the rate as the
// defaults' do (frames 4x, hellos a half, chats a third).
func limits(frames float64, conns int, chats, hellos float64) gateway.Limits {
	var l gateway.Limits
	l.FramesPerSecond, l.FrameBurst = rateFlag(frames, 4*frames)
	l.HellosPerMinute, l.HelloBurst = rateFlag(hellos, hellos/2)
	l.ChatRequestsPerMinute, l.ChatRequestBurst = rateFlag(chats, chats/3)
	switch {
	case conns < 0:
		l.ConnsPerAddress, l.HTTPConnsPerAddress = -1, -1
	case conns > 0:
		l.ConnsPerAddress, l.HTTPConnsPerAddress = conns, conns+(gateway.DefaultHTTPConnsPerAddress-gateway.DefaultConnsPerAddress)
	}
	return l
}

// rateFlag is a rate and its burst from a flag: 0 the defaults, negative
// off.
func rateFlag(rate, burst float64) (float64, int) {
	switch {
	case rate < 0:
		return -1, -1
	case rate == 0:
		return 0, 0
	}
	return rate, int(max(1, burst))
}

// orOff is -1 for a negative value (off), else v.
func orOff[T int | int64](v T) T { return max(v, -1) }

// serveFlags are the flags whose values are not Config's fields as they
// stand.
type serveFlags struct {
	origins, adminAllow, proxies, level, logFormat string
	attachTypes                                    string
	minFreeMB, attachMB                            int64
	frames, hellos, chats                          float64
	conns                                          int
	metrics                                        bool
	routingRecords                                 bool
	cluster                                        clusterFlags
}

// parseServe reads the broker's command line and environment into a
// Config. A malformed value is an error that names the flag or the
// variable and the value.
func parseServe(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("switchboard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, f := Config{}, serveFlags{}
	e := &environ{getenv: getenv}
	bindServe(fs, e, &cfg, &f)
	if e.err != nil {
		return cfg, e.err
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	return cfg, f.apply(&cfg, e, stderr)
}

// bindServe declares the broker's flags. Each flag's default is its
// variable's value when set, else the owning package's default constant.
func bindServe(fs *flag.FlagSet, e *environ, cfg *Config, f *serveFlags) {
	fs.StringVar(&cfg.Addr, "addr", e.string("SWITCHBOARD_ADDR", defaultAddr), "listen address (env SWITCHBOARD_ADDR)")
	fs.StringVar(&cfg.DataDir, "data", e.string("SWITCHBOARD_DATA", defaultDataDir), "data folder for Pebble (env SWITCHBOARD_DATA)")
	bindCluster(fs, e, &cfg.Cluster, &f.cluster)
	fs.BoolVar(&cfg.Demo, "demo", false, "create a demo directory (departments, languages, agents) when absent")
	fs.StringVar(&f.origins, "origins", e.string("SWITCHBOARD_ORIGINS", ""), "comma-separated host patterns whose pages may open websockets (env SWITCHBOARD_ORIGINS)")
	fs.StringVar(&cfg.DebugAddr, "debug-addr", e.string("SWITCHBOARD_DEBUG_ADDR", ""), "serve /debug/pprof and /debug/vars on this address; keep it private (env SWITCHBOARD_DEBUG_ADDR)")
	fs.DurationVar(&cfg.AgentGrace, "agent-grace", e.duration("SWITCHBOARD_AGENT_GRACE", actors.DefaultAgentGrace), "how long an agent whose connection dropped keeps their chats (env SWITCHBOARD_AGENT_GRACE)")
	fs.DurationVar(&cfg.VisitorGrace, "visitor-grace", e.duration("SWITCHBOARD_VISITOR_GRACE", actors.DefaultVisitorGrace), "how long a waiting visitor whose connection dropped keeps their place (env SWITCHBOARD_VISITOR_GRACE)")
	fs.DurationVar(&cfg.Gateway.FrameTimeout, "frame-timeout", e.duration("SWITCHBOARD_FRAME_TIMEOUT", gateway.DefaultFrameTimeout), "how long a frame may take to arrive once its first bytes came; then the socket is dropped (env SWITCHBOARD_FRAME_TIMEOUT)")
	fs.DurationVar(&cfg.Gateway.ParkAfter, "park-after", e.duration("SWITCHBOARD_PARK_AFTER", gateway.DefaultParkAfter), "how long a socket may read nothing before it gives up its goroutine and waits in the poller (Linux); negative: never (env SWITCHBOARD_PARK_AFTER)")
	fs.DurationVar(&cfg.SilentWait, "silent-wait", e.duration("SWITCHBOARD_SILENT_WAIT", actors.DefaultSilentWait), "how long a chat may wait in its queue while its visitor has said nothing; negative: no limit (env SWITCHBOARD_SILENT_WAIT)")
	fs.IntVar(&cfg.LinePerAddress, "line-per-address", e.int("SWITCHBOARD_LINE_PER_ADDRESS", actors.DefaultLinePerAddress), "chats from one client address that may wait in one department's line; negative: no limit (env SWITCHBOARD_LINE_PER_ADDRESS)")
	fs.BoolVar(&f.routingRecords, "routing-records", e.bool("SWITCHBOARD_ROUTING_RECORDS", true), "keep every routing decision with its reasons, and the routing journal switchboard simulate replays (env SWITCHBOARD_ROUTING_RECORDS)")
	fs.DurationVar(&cfg.DrainWait, "drain-wait", e.duration("SWITCHBOARD_DRAIN_WAIT", 0), "at shutdown, how long /readyz answers 503 before sockets close, for load balancers to stop sending clients (env SWITCHBOARD_DRAIN_WAIT)")
	fs.DurationVar(&cfg.AuditRetention, "audit-retention", e.duration("SWITCHBOARD_AUDIT_RETENTION", defaultAuditRetention), "how long audit entries are kept; negative: for ever (env SWITCHBOARD_AUDIT_RETENTION)")
	fs.DurationVar(&cfg.RoutingRetention, "routing-retention", e.duration("SWITCHBOARD_ROUTING_RETENTION", defaultRoutingRetention), "how long the routing journal's entries are kept; negative: for ever (env SWITCHBOARD_ROUTING_RETENTION)")
	fs.Int64Var(&f.minFreeMB, "min-free-mb", e.int64("SWITCHBOARD_MIN_FREE_MB", persistence.DefaultMinFreeBytes>>20), "refuse writes (new chats, messages) while the data folder's disk has less free space, in MiB; negative: no check (env SWITCHBOARD_MIN_FREE_MB)")
	fs.IntVar(&cfg.Gateway.AuditPerMinute, "audit-per-minute", e.int("SWITCHBOARD_AUDIT_PER_MINUTE", gateway.DefaultAuditPerMinute), "audit entries of one kind from one client address a minute; the rest are counted in one audit.suppressed entry; negative: no limit (env SWITCHBOARD_AUDIT_PER_MINUTE)")
	fs.Float64Var(&f.frames, "limit-frames", e.float("SWITCHBOARD_LIMIT_FRAMES", gateway.DefaultFramesPerSecond), "frames a second one connection may send, in bursts of 4x; negative: no limit (env SWITCHBOARD_LIMIT_FRAMES)")
	fs.IntVar(&f.conns, "limit-conns", e.int("SWITCHBOARD_LIMIT_CONNS", gateway.DefaultConnsPerAddress), "open websockets per client address (and this plus 100 TCP connections per peer address); negative: no limit (env SWITCHBOARD_LIMIT_CONNS)")
	fs.Float64Var(&f.hellos, "limit-hellos", e.float("SWITCHBOARD_LIMIT_HELLOS", gateway.DefaultHellosPerMinute), "new visitor sessions a minute per client address, in bursts of a half; negative: no limit (env SWITCHBOARD_LIMIT_HELLOS)")
	fs.Float64Var(&f.chats, "limit-chats", e.float("SWITCHBOARD_LIMIT_CHATS", gateway.DefaultChatRequestsPerMinute), "chat requests a minute per client address, in bursts of a third; negative: no limit (env SWITCHBOARD_LIMIT_CHATS)")
	fs.StringVar(&f.adminAllow, "admin-allow", e.string("SWITCHBOARD_ADMIN_ALLOW", ""), "comma-separated CIDR ranges the admin credential may be used from; empty: any (env SWITCHBOARD_ADMIN_ALLOW)")
	fs.IntVar(&cfg.Gateway.Logins.MaxHashes, "login-hashes", e.int("SWITCHBOARD_LOGIN_HASHES", 0), "password checks (argon2id) that may run at once; 0: a quarter of GOMEMLIMIT (or 256 MiB) over the argon2id memory, at most 4 per CPU (env SWITCHBOARD_LOGIN_HASHES)")
	fs.StringVar(&f.proxies, "trusted-proxies", e.string("SWITCHBOARD_TRUSTED_PROXIES", ""), "comma-separated CIDR ranges of reverse proxies whose forwarded header names the client (env SWITCHBOARD_TRUSTED_PROXIES)")
	fs.StringVar(&cfg.Gateway.ForwardedHeader, "forwarded-header", e.string("SWITCHBOARD_FORWARDED_HEADER", gateway.DefaultForwardedHeader), "the header trusted proxies put the client's address in (env SWITCHBOARD_FORWARDED_HEADER)")
	fs.StringVar(&cfg.OTLPEndpoint, "otlp-endpoint", e.string("SWITCHBOARD_OTLP_ENDPOINT", ""), "send traces to this OTLP/HTTP collector, e.g. http://127.0.0.1:4318; empty: off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (env SWITCHBOARD_OTLP_ENDPOINT)")
	fs.Float64Var(&cfg.TraceSample, "trace-sample", e.float("SWITCHBOARD_TRACE_SAMPLE", defaultTraceSample), "share of chat requests and messages traced when tracing is on, 0 to 1 (env SWITCHBOARD_TRACE_SAMPLE)")
	fs.BoolVar(&f.metrics, "metrics", e.bool("SWITCHBOARD_METRICS", true), "collect Prometheus metrics and serve them at GET /metrics on -addr; false: nothing collected, /metrics is 404 (env SWITCHBOARD_METRICS)")
	fs.Int64Var(&f.attachMB, "attachment-max-mb", e.int64("SWITCHBOARD_ATTACHMENT_MAX_MB", gateway.DefaultAttachmentBytes>>20), "the largest file a visitor or agent may send in a chat, in MiB (env SWITCHBOARD_ATTACHMENT_MAX_MB)")
	fs.StringVar(&f.attachTypes, "attachment-types", e.string("SWITCHBOARD_ATTACHMENT_TYPES", strings.Join(gateway.DefaultAttachmentTypes, ",")), "comma-separated content types a file sent in a chat may have, as sniffed from its bytes (env SWITCHBOARD_ATTACHMENT_TYPES)")
	fs.DurationVar(&cfg.WebhookDisableAfter, "webhook-disable-after", e.duration("SWITCHBOARD_WEBHOOK_DISABLE_AFTER", actors.DefaultWebhookDisableAfter), "how long a webhook endpoint may fail every delivery before it is disabled (env SWITCHBOARD_WEBHOOK_DISABLE_AFTER)")
	fs.DurationVar(&cfg.Webhooks.Timeout, "webhook-timeout", e.duration("SWITCHBOARD_WEBHOOK_TIMEOUT", hooks.DefaultTimeout), "how long one webhook request may take (env SWITCHBOARD_WEBHOOK_TIMEOUT)")
	fs.BoolVar(&cfg.Webhooks.AllowPrivate, "webhook-allow-private", e.bool("SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE", false), "let all outbound calls (webhooks, API channels' callbacks, the WhatsApp Graph API and its media URLs) go to loopback and private addresses, and over http (env SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE)")
	fs.StringVar(&f.level, "log", e.string("SWITCHBOARD_LOG", "info"), "log level: debug, info, warn, error")
	fs.StringVar(&f.logFormat, "log-format", e.string("SWITCHBOARD_LOG_FORMAT", ""), "log format: json or text; default json when the log (standard error) is not a terminal, text when it is (env SWITCHBOARD_LOG_FORMAT)")
}

// apply puts the flags that need a conversion into cfg, with the
// environment-only settings, and checks the result.
func (f *serveFlags) apply(cfg *Config, e *environ, stderr io.Writer) error {
	cfg.Gateway.Limits = limits(f.frames, f.conns, f.chats, f.hellos)
	cfg.NoMetrics = !f.metrics
	cfg.MinFreeBytes = orOff(f.minFreeMB)
	cfg.NoRoutingRecords = !f.routingRecords
	if cfg.MinFreeBytes > 0 {
		cfg.MinFreeBytes <<= 20
	}
	cfg.Gateway.TrustedProxies = splitList(f.proxies)
	cfg.Gateway.MaxAttachmentBytes, cfg.Gateway.AttachmentTypes = f.attachMB<<20, splitList(f.attachTypes)
	cfg.AdminAllow, cfg.OriginPatterns = splitList(f.adminAllow), splitList(f.origins)
	var err error
	if cfg.Logger, err = newLogger(stderr, f.level, f.logFormat); err != nil {
		return err
	}
	cfg.AdminToken = e.value("SWITCHBOARD_ADMIN_TOKEN")
	if err := f.cluster.apply(&cfg.Cluster, e); err != nil {
		return err
	}
	cfg.OTLPFromEnv = e.value("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || e.value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	if kib := e.value("SWITCHBOARD_ARGON2_MEMORY_KIB"); kib != "" {
		n, err := strconv.ParseUint(kib, 10, 32)
		if err != nil {
			return fmt.Errorf("environment variable SWITCHBOARD_ARGON2_MEMORY_KIB=%q is not a whole number of KiB", kib)
		}
		cfg.Password.MemoryKiB, cfg.Password.Time = uint32(n), 1
	}
	return cfg.Validate()
}

// newLogger is the broker's logger on w: level is debug, info, warn or
// error; format json, text, or "" for json unless w is a terminal (a
// person reads it), as log collectors want JSON.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log: %w", err)
	}
	if format == "" {
		format = "json"
		if isTerminal(w) {
			format = "text"
		}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format (env SWITCHBOARD_LOG_FORMAT) %q: want json or text", format)
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// splitList splits a comma-separated list; empty is none.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
