// Config: what a Broker is built from, its defaults and their checks.

package actors

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.opentelemetry.io/otel/trace"
)

// The defaults of Config, in one place (cmd/switchboard's flags show them).
const (
	DefaultAgentGrace     = time.Minute
	DefaultVisitorGrace   = time.Minute
	DefaultSilentWait     = 10 * time.Minute
	DefaultLinePerAddress = 10
	DefaultMailRetry      = 30 * time.Second
	DefaultMailRetryMax   = time.Hour
	// The delivery outbox (deliver_outbox.go).
	DefaultDeliveryRetry       = 5 * time.Second
	DefaultDeliveryRetryMax    = 30 * time.Minute
	DefaultWebhookDisableAfter = 24 * time.Hour
	DefaultDeliveriesInFlight  = 32
	DefaultDeliveriesInMemory  = 20000
)

// Config configures a Broker. Store is required; a zero value elsewhere
// means the documented default.
type Config struct {
	Store Store
	// Clock defaults to the system clock.
	Clock Clock
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// ActorSystem lets a caller bring its own (for a cluster). Default: a
	// new local actor system.
	ActorSystem *actor.ActorSystem
	// AgentGrace is how long an agent who lost their last connection keeps
	// their chats; then each chat follows its department's on_agent_left
	// policy. Default 60 s (DefaultAgentGrace); it cannot be turned off.
	AgentGrace time.Duration
	// VisitorGrace is how long a visitor who lost their last connection
	// keeps their place in a queue; then the waiting chat closes.
	// Default 60 s (DefaultVisitorGrace); it cannot be turned off.
	VisitorGrace time.Duration
	// SilentWait is how long a chat may wait in its queue while its
	// visitor has said nothing in it (no first message, no message since);
	// then it leaves the line, closed. Bots that hold places in a line
	// without a word give them up. Default 10 minutes (DefaultSilentWait);
	// negative: never.
	SilentWait time.Duration
	// TracerProvider, when set (and not a no-op), makes OpenTelemetry
	// spans of traced chat requests and messages (actors/tracing.go).
	// Default: none, tracing off.
	TracerProvider trace.TracerProvider
	// LinePerAddress is how many chats from one client address may wait in
	// one department's line at once; a further request is refused as if
	// the line were full. Default 10 (DefaultLinePerAddress: an office
	// behind one address rarely has more people waiting for one department
	// at once); negative: no limit.
	LinePerAddress int
	// Metrics are the actors' Prometheus metrics (NewMetrics). Default
	// nil: off, and the actors do no more than a nil check for them.
	Metrics *Metrics
	// Mailer sends the outbox's emails (gateway/mail's SMTP client).
	// Default nil: mails wait in the outbox, none is sent.
	Mailer Mailer
	// MailRetry is the wait after a mail's first failed try; it doubles
	// with each further one, up to MailRetryMax. Defaults 30 s
	// (DefaultMailRetry) and 1 hour (DefaultMailRetryMax). A mail is
	// tried until the server takes it.
	MailRetry    time.Duration
	MailRetryMax time.Duration
	// ChannelSender delivers chats' replies to WhatsApp channels
	// (gateway/whatsapp's Graph API client). Default nil: those replies
	// wait in the delivery outbox.
	ChannelSender ChannelSender
	// Webhooks posts the delivery outbox's signed webhooks: to webhook
	// endpoints and to API channels' callback URLs (gateway/hooks).
	// Default nil: those deliveries wait in the outbox.
	Webhooks WebhookSender
	// DeliveryRetry is the wait after a delivery's first failed try; it
	// doubles with each further one, up to DeliveryRetryMax. Defaults 5 s
	// and 30 minutes. A delivery is tried until it is taken (a webhook
	// endpoint that fails for WebhookDisableAfter is disabled: its
	// deliveries wait until it is enabled again).
	DeliveryRetry    time.Duration
	DeliveryRetryMax time.Duration
	// WebhookDisableAfter is how long a webhook endpoint may fail every
	// try before the broker disables it (audited). Default 24 hours.
	WebhookDisableAfter time.Duration
	// DeliveriesInFlight is how many of a target's conversations may have
	// a delivery on its way at once (each conversation has one at most).
	// Default 32.
	DeliveriesInFlight int
	// RecordRouting keeps the routing journal and every chat's routing
	// decisions with their reasons (routing_record.go). Default off here;
	// the switchboard command turns it on (-routing-records).
	RecordRouting bool
	// DeliveriesInMemory bounds the deliveries one target's actor holds;
	// the rest wait in the store and are read once it has sent half of
	// those it holds. Default 20,000. The bound is per target: the
	// broker holds at most (MaxWebhooks + MaxChannels) times it in all
	// (300 targets: 6 million deliveries at the default, only when every
	// target has that many waiting); lower it where memory is tight.
	DeliveriesInMemory int
}

// EnsureDefaults fills in the default of every zero field and returns c.
func (c *Config) EnsureDefaults() *Config {
	if c.AgentGrace == 0 {
		c.AgentGrace = DefaultAgentGrace
	}
	if c.VisitorGrace == 0 {
		c.VisitorGrace = DefaultVisitorGrace
	}
	if c.SilentWait == 0 {
		c.SilentWait = DefaultSilentWait
	}
	if c.LinePerAddress == 0 {
		c.LinePerAddress = DefaultLinePerAddress
	}
	if c.MailRetry <= 0 {
		c.MailRetry = DefaultMailRetry
	}
	if c.MailRetryMax <= 0 {
		c.MailRetryMax = DefaultMailRetryMax
	}
	if c.DeliveryRetry <= 0 {
		c.DeliveryRetry = DefaultDeliveryRetry
	}
	if c.DeliveryRetryMax <= 0 {
		c.DeliveryRetryMax = DefaultDeliveryRetryMax
	}
	if c.WebhookDisableAfter <= 0 {
		c.WebhookDisableAfter = DefaultWebhookDisableAfter
	}
	if c.DeliveriesInFlight <= 0 {
		c.DeliveriesInFlight = DefaultDeliveriesInFlight
	}
	if c.DeliveriesInMemory <= 0 {
		c.DeliveriesInMemory = DefaultDeliveriesInMemory
	}
	if c.Clock == nil {
		c.Clock = systemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports the first setting that makes no sense. It does not
// check Store, which New requires, so that a command line can be checked
// before storage is opened. Call it after EnsureDefaults (New does both).
func (c *Config) Validate() error {
	// The grace periods have no "off": a chat must not be held for ever by
	// a participant who is gone.
	if c.AgentGrace < 0 {
		return fmt.Errorf("actors: AgentGrace is %s; it must be positive (0: the default %s)", c.AgentGrace, DefaultAgentGrace)
	}
	if c.VisitorGrace < 0 {
		return fmt.Errorf("actors: VisitorGrace is %s; it must be positive (0: the default %s)", c.VisitorGrace, DefaultVisitorGrace)
	}
	return nil
}
