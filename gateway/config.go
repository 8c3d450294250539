// Config and Limits: what a Server is built from, their defaults in one
// place and their checks (pebble's Options.EnsureDefaults/Validate).

package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway/whatsapp"
	"github.com/switchboard-chat/switchboard/messages"
)

// The defaults of Config, in one place (cmd/switchboard's flags show them).
const (
	DefaultMaxFrameBytes     = 64 << 10
	DefaultHardFrameBytes    = 1 << 20
	DefaultOutboundQueue     = 1024
	DefaultOutboundBytes     = 4 << 20
	DefaultWriteTimeout      = 10 * time.Second
	DefaultHelloTimeout      = 10 * time.Second
	DefaultFrameTimeout      = 30 * time.Second
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultHTTPWriteTimeout  = time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultSessionTTL        = 12 * time.Hour
	DefaultResumeTTL         = 30 * 24 * time.Hour
	DefaultAuditPerMinute    = 20
	DefaultForwardedHeader   = "X-Forwarded-For"
	DefaultAttachmentBytes   = 10 << 20
)

// DefaultAttachmentTypes are the content types a file may have by default,
// as sniffed from its bytes: pictures, PDF and plain text.
var DefaultAttachmentTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"}

// The defaults of Limits.
const (
	DefaultFramesPerSecond       = 50
	DefaultFrameBurst            = 4 * DefaultFramesPerSecond
	DefaultConnsPerAddress       = 1000
	DefaultChatRequestsPerMinute = 30
	DefaultChatRequestBurst      = DefaultChatRequestsPerMinute / 3
	DefaultHellosPerMinute       = 60
	DefaultHelloBurst            = DefaultHellosPerMinute / 2
	DefaultFrameBytesPerAddress  = 8 << 20
	DefaultHTTPConnsPerAddress   = DefaultConnsPerAddress + 100
)

// Config configures a Server. Broker and TokenSecret are required; a zero
// value elsewhere means the documented default. Sizes, counts and
// timeouts without a word on "negative" cannot be turned off, and
// Validate refuses a negative one.
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
	// SendMail delivers one email at once (the test email of POST
	// /admin/email/test). Without it, that route is refused.
	SendMail func(ctx context.Context, smtp *messages.SmtpSettings, m *messages.OutboxMail) error
	// WhatsApp fetches the media of WhatsApp channels' inbound messages.
	// Default: whatsapp.New with the broker's chats.
	WhatsApp *whatsapp.Client
	// PostWebhook posts one signed webhook at once (the test event of
	// POST /admin/webhooks/{id}/test; gateway/hooks' Sender.PostNow) and
	// answers the receiver's status. Default nil: no test event.
	PostWebhook func(ctx context.Context, url, secret string, d *messages.Delivery) (int, error)
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
	// ParkAfter is how long a socket may read nothing before it gives up
	// its reader goroutine and waits in the poller (Linux; park.go): an
	// idle socket then costs no goroutine stack. Default 500 ms; negative:
	// never.
	ParkAfter time.Duration
	// ReadHeaderTimeout, ReadTimeout, HTTPWriteTimeout and IdleTimeout are
	// the HTTP server's (see HTTPServer): how long a request's headers,
	// its whole reading, its answer and a keep-alive connection's wait for
	// the next request may take. Defaults 10 s, 30 s, 60 s and 120 s.
	ReadHeaderTimeout, ReadTimeout, HTTPWriteTimeout, IdleTimeout time.Duration
	// SessionTTL is how long an agent's session token is valid. Default 12 h.
	SessionTTL time.Duration
	// ResumeTTL is how long a visitor's resume token is valid. Default 30 days.
	ResumeTTL time.Duration
	// MaxAttachmentBytes bounds a file sent in a chat. Default 10 MiB.
	MaxAttachmentBytes int64
	// AttachmentTypes are the content types a file may have, as
	// net/http.DetectContentType sniffs them from its bytes (without
	// parameters: "text/plain"); the type a client declares is not
	// trusted. Default DefaultAttachmentTypes.
	AttachmentTypes []string
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
	// TracerProvider, when set (and not a no-op), makes the spans of chat
	// requests and messages (tracing.go). Default: none, tracing off.
	TracerProvider trace.TracerProvider
	// Metrics, when set, counts connections, frames, errors, rate limits,
	// delivery latency and API requests (NewMetrics). Default nil: off,
	// and the hot paths pay one nil check.
	Metrics *Metrics
	// MetricsHandler, when set, serves GET /metrics (the Prometheus
	// exposition of the registry the Metrics were registered on).
	// Default nil: /metrics answers 404.
	MetricsHandler http.Handler
	// DeleteWorkspace, when set, is called (once the owner confirmed
	// DELETE /admin/workspace and the answer went out) to stop the broker,
	// wipe its data but the secrets, and start it again empty.
	DeleteWorkspace func()
	// Ready, when set, says whether the node can take traffic (nil) or
	// why not; GET /readyz answers 503 with that reason. The gateway adds
	// its own condition: not shutting down. Default: ready while serving.
	Ready func() error
}

// Limits bound what one connection or one client address may do. A zero
// field takes its default; a negative one turns that limit off (for a
// rate and its burst, either one negative turns both off).
type Limits struct {
	// FramesPerSecond and FrameBurst bound the frames one connection may
	// send (a token bucket). Default 50 per second, bursts of 200: far
	// above what a person types, far below a flood.
	FramesPerSecond float64
	FrameBurst      int
	// ConnsPerAddress bounds the open websockets from one client address.
	// Default 1000 (offices and mobile carriers put many people behind
	// one address).
	ConnsPerAddress int
	// ChatRequestsPerMinute and ChatRequestBurst bound the chats visitors
	// from one client address may ask for. Default 30 a minute, bursts
	// of 10.
	ChatRequestsPerMinute float64
	ChatRequestBurst      int
	// HellosPerMinute and HelloBurst bound the new visitor sessions (Hello
	// without a resume token) one client address may open: each one is a
	// visitor actor. Default 60 a minute, bursts of 30.
	HellosPerMinute float64
	HelloBurst      int
	// FrameBytesPerAddress bounds the bytes of frames being read, at once,
	// over every socket of one client address: a socket that would pass
	// it is closed (1008). Default 8 MiB, eight frames of the hard limit.
	FrameBytesPerAddress int64
	// HTTPConnsPerAddress bounds the open TCP connections (HTTP requests
	// and websockets alike) from one peer address; trusted proxies are
	// exempt. Default 1100: ConnsPerAddress websockets and some room for
	// API calls.
	HTTPConnsPerAddress int
}

// orDefault returns def for zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// EnsureDefaults fills in the default of every zero field and returns c.
func (c *Config) EnsureDefaults() *Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.MaxFrameBytes = orDefault(c.MaxFrameBytes, DefaultMaxFrameBytes)
	c.HardFrameBytes = orDefault(c.HardFrameBytes, DefaultHardFrameBytes)
	c.OutboundQueue = orDefault(c.OutboundQueue, DefaultOutboundQueue)
	c.OutboundBytes = orDefault(c.OutboundBytes, DefaultOutboundBytes)
	c.WriteTimeout = orDefault(c.WriteTimeout, DefaultWriteTimeout)
	c.HelloTimeout = orDefault(c.HelloTimeout, DefaultHelloTimeout)
	c.FrameTimeout = orDefault(c.FrameTimeout, DefaultFrameTimeout)
	c.ParkAfter = orDefault(c.ParkAfter, DefaultParkAfter)
	c.ReadHeaderTimeout = orDefault(c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	c.ReadTimeout = orDefault(c.ReadTimeout, DefaultReadTimeout)
	c.HTTPWriteTimeout = orDefault(c.HTTPWriteTimeout, DefaultHTTPWriteTimeout)
	c.IdleTimeout = orDefault(c.IdleTimeout, DefaultIdleTimeout)
	c.SessionTTL = orDefault(c.SessionTTL, DefaultSessionTTL)
	c.ResumeTTL = orDefault(c.ResumeTTL, DefaultResumeTTL)
	c.MaxAttachmentBytes = orDefault(c.MaxAttachmentBytes, DefaultAttachmentBytes)
	if len(c.AttachmentTypes) == 0 {
		c.AttachmentTypes = DefaultAttachmentTypes
	}
	c.AuditPerMinute = orDefault(c.AuditPerMinute, DefaultAuditPerMinute)
	c.ForwardedHeader = orDefault(c.ForwardedHeader, DefaultForwardedHeader)
	c.Limits.EnsureDefaults()
	c.Logins.fill(c.Password)
	return c
}

// Validate reports the first setting that makes no sense: a negative
// value where there is no "off", a limit that is not a number, a CIDR
// range that does not parse. It does not check Broker and TokenSecret,
// which New requires, so that a command line can be checked before the
// broker is built. Call it after EnsureDefaults (New does both).
func (c *Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"MaxFrameBytes", c.MaxFrameBytes}, {"HardFrameBytes", c.HardFrameBytes},
		{"OutboundQueue", int64(c.OutboundQueue)}, {"OutboundBytes", int64(c.OutboundBytes)},
		{"WriteTimeout", int64(c.WriteTimeout)}, {"HelloTimeout", int64(c.HelloTimeout)}, {"FrameTimeout", int64(c.FrameTimeout)},
		{"ReadHeaderTimeout", int64(c.ReadHeaderTimeout)}, {"ReadTimeout", int64(c.ReadTimeout)},
		{"HTTPWriteTimeout", int64(c.HTTPWriteTimeout)}, {"IdleTimeout", int64(c.IdleTimeout)},
		{"SessionTTL", int64(c.SessionTTL)}, {"ResumeTTL", int64(c.ResumeTTL)}, {"MaxAttachmentBytes", c.MaxAttachmentBytes},
		{"Logins.MaxHashes", int64(c.Logins.MaxHashes)}, {"Logins.TableEntries", int64(c.Logins.TableEntries)},
	} {
		if f.v < 0 {
			return fmt.Errorf("gateway: %s is negative (%d); it cannot be turned off (0: the default)", f.name, f.v)
		}
	}
	if _, err := parsePrefixes(c.TrustedProxies); err != nil {
		return fmt.Errorf("gateway: TrustedProxies: %w", err)
	}
	if _, err := parsePrefixes(c.AdminAllow); err != nil {
		return fmt.Errorf("gateway: AdminAllow: %w", err)
	}
	return c.Limits.Validate()
}

// EnsureDefaults fills in the default of every zero field and returns l.
func (l *Limits) EnsureDefaults() *Limits {
	l.FramesPerSecond = orDefault(l.FramesPerSecond, DefaultFramesPerSecond)
	l.FrameBurst = orDefault(l.FrameBurst, DefaultFrameBurst)
	l.ConnsPerAddress = orDefault(l.ConnsPerAddress, DefaultConnsPerAddress)
	l.ChatRequestsPerMinute = orDefault(l.ChatRequestsPerMinute, DefaultChatRequestsPerMinute)
	l.ChatRequestBurst = orDefault(l.ChatRequestBurst, DefaultChatRequestBurst)
	l.HellosPerMinute = orDefault(l.HellosPerMinute, DefaultHellosPerMinute)
	l.HelloBurst = orDefault(l.HelloBurst, DefaultHelloBurst)
	l.FrameBytesPerAddress = orDefault(l.FrameBytesPerAddress, DefaultFrameBytesPerAddress)
	l.HTTPConnsPerAddress = orDefault(l.HTTPConnsPerAddress, DefaultHTTPConnsPerAddress)
	return l
}

// Validate reports a rate that is not a number or is infinite.
func (l *Limits) Validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"FramesPerSecond", l.FramesPerSecond}, {"ChatRequestsPerMinute", l.ChatRequestsPerMinute}, {"HellosPerMinute", l.HellosPerMinute}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("gateway: Limits.%s is %v; it must be a finite number (negative: no limit)", f.name, f.v)
		}
	}
	return nil
}
