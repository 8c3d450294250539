package actors

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// Webhook endpoints: the admin API's commands go to the endpoint's own
// delivery actor ("delivery/hook/<id>"), the only writer of its record,
// so that the broker's own changes (failing since, disabled) and the
// administrator's never overwrite each other.

// Limits of a webhook endpoint's fields.
const (
	MaxWebhookURLBytes    = 2048
	MaxWebhookSecretBytes = 256
	MinWebhookSecretBytes = 16
	MaxWebhookEvents      = 32
	MaxWebhooks           = 100
)

// CheckWebhookID checks an endpoint id: 1 to 64 letters, digits, '-' and
// '_'.
func CheckWebhookID(id string) *messages.Error {
	if id == "" || len(id) > 64 || strings.IndexFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) >= 0 {
		return refuse("id", codeInvalid, "id must be 1 to 64 letters, digits, '-' or '_'")
	}
	return nil
}

// CheckWebhookURL checks a URL the outbox posts to: absolute http or
// https, with a host, no user info, no fragment.
func CheckWebhookURL(field, raw string) *messages.Error {
	if raw == "" {
		return refuse(field, codeInvalid, "%s is required", field)
	}
	if len(raw) > MaxWebhookURLBytes {
		return refuse(field, codeInvalid, "%s is longer than %d bytes", field, MaxWebhookURLBytes)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return refuse(field, codeInvalid, "%s is not a URL", field)
	case u.Scheme != "http" && u.Scheme != "https":
		return refuse(field, codeInvalid, "%s must be an http or https URL", field)
	case u.Host == "" || u.Hostname() == "":
		return refuse(field, codeInvalid, "%s has no host", field)
	case u.User != nil:
		return refuse(field, codeInvalid, "%s must not hold a user or password", field)
	case u.Fragment != "":
		return refuse(field, codeInvalid, "%s must not hold a fragment", field)
	}
	return nil
}

// CheckWebhook checks an endpoint whose secret KeepSecret filled (a
// changed URL keeps no stored secret: one must be given).
func CheckWebhook(h *messages.WebhookEndpoint) *messages.Error {
	if e := CheckWebhookID(h.GetId()); e != nil {
		return e
	}
	if e := CheckWebhookURL("url", h.GetUrl()); e != nil {
		return e
	}
	if s := h.GetSecret(); len(s) < MinWebhookSecretBytes || len(s) > MaxWebhookSecretBytes {
		return refuse("secret", codeInvalid, "secret must be %d to %d bytes (a changed url does not keep the stored one)", MinWebhookSecretBytes, MaxWebhookSecretBytes)
	}
	if lc := h.GetLiveChat(); lc != "" && !ValidName(lc) {
		return refuse("live_chat", codeInvalid, "live_chat must be a live chat's id (or empty: every live chat)")
	}
	if len(h.GetEvents()) > MaxWebhookEvents {
		return refuse("events", codeInvalid, "at most %d event types", MaxWebhookEvents)
	}
	for _, e := range h.GetEvents() {
		if !slices.Contains(messages.WebhookEventTypes, e) {
			return refuse("events", codeInvalid, "unknown event type %q: one of %s", capText(e, 64), strings.Join(messages.WebhookEventTypes, ", "))
		}
	}
	if e := CheckText("description", h.GetDescription(), MaxNameBytes*4); e != nil {
		return e
	}
	return nil
}

// command runs an admin command on this endpoint.
func (o *outlet) command(ctx actor.Context, m *messages.WebhookCommand) {
	// The answer may come from a later message (the write's): the
	// sender is kept now.
	sender, root := ctx.Sender(), o.b.root
	reply := func(e *messages.Error) {
		r := &messages.WebhookReply{Error: e}
		if e == nil && o.hook != nil {
			r.Endpoint = RedactWebhook(o.hook)
		}
		if sender != nil {
			root.Send(sender, r)
		}
	}
	if o.kind != "hook" {
		reply(errorf(codeInvalid, "%s is not a webhook", o.target))
		return
	}
	now := o.b.clock.Now().UnixMilli()
	switch b := m.GetBody().(type) {
	case *messages.WebhookCommand_Put:
		o.putHook(m.GetCreate(), b.Put, now, reply)
	case *messages.WebhookCommand_Delete:
		o.deleteHook(reply)
	default:
		reply(errorf(codeInvalid, "an empty webhook command"))
	}
}

// putHook creates (create) or replaces this endpoint with h, once checked,
// and answers when it is written.
func (o *outlet) putHook(create bool, h *messages.WebhookEndpoint, now int64, reply func(*messages.Error)) {
	h.Id = o.id
	next, e := o.nextHook(create, h)
	if e != nil {
		reply(e)
		return
	}
	next.CreatedAtMs, next.UpdatedAtMs = o.hook.GetCreatedAtMs(), now
	if create {
		next.CreatedAtMs = now
	}
	next.FailingSinceMs, next.DisabledReason, next.DisabledAtMs = o.hook.GetFailingSinceMs(), o.hook.GetDisabledReason(), o.hook.GetDisabledAtMs()
	if next.GetEnabled() {
		// Enabled (again): its waiting deliveries go out, and its
		// failures count from the next.
		next.FailingSinceMs, next.DisabledReason, next.DisabledAtMs = 0, "", 0
	}
	prev := o.hook
	o.hook = next
	o.writeHook(create, func(ctx actor.Context, e *messages.Error) {
		if e != nil {
			o.hook = prev
			reply(e)
			return
		}
		reply(nil)
		o.resume(ctx)
	})
}

// nextHook is h as the endpoint to store, its secret kept or given, or why
// it may not be put: created twice, replaced before it exists, invalid, or
// one webhook too many.
func (o *outlet) nextHook(create bool, h *messages.WebhookEndpoint) (*messages.WebhookEndpoint, *messages.Error) {
	switch {
	case create && o.hook != nil:
		return nil, refuse("id", codeConflict, "webhook %s exists already", o.id)
	case !create && o.hook == nil:
		return nil, errorf(codeNotFound, "no webhook %s", o.id)
	}
	next := cloneHook(h)
	next.HasSecret = false
	next.Secret = KeepSecret(h.GetSecret(), o.hook.GetSecret(), o.hook != nil && h.GetUrl() == o.hook.GetUrl())
	if e := CheckWebhook(next); e != nil {
		return nil, e
	}
	if create {
		if n, err := o.b.store.Webhooks(); err != nil {
			return nil, messages.TemporaryErrorf(codeUnavailable, "cannot read the webhooks now; try again")
		} else if len(n) >= MaxWebhooks {
			return nil, errorf(codeInvalid, "at most %d webhooks", MaxWebhooks)
		}
	}
	return next, nil
}

// deleteHook deletes this endpoint, and answers when it is gone.
func (o *outlet) deleteHook(reply func(*messages.Error)) {
	if o.hook == nil {
		reply(errorf(codeNotFound, "no webhook %s", o.id))
		return
	}
	o.token++
	o.writes[o.token] = func(ctx actor.Context, e *messages.Error) {
		if e != nil {
			reply(e)
			return
		}
		reply(nil)
		// Nothing left: answers still on their way find no
		// conversation and are dropped.
		o.hook = nil
		o.forget()
	}
	o.b.store.DeleteWebhook(o.id, o.b.notifier(o.self, o.token))
}

// resume: the endpoint changed (enabled again, a new URL): every waiting
// conversation is tried at once.
func (o *outlet) resume(ctx actor.Context) {
	for id, c := range o.convs {
		if len(c.queue) > 0 && !c.sending {
			c.queue[0].NextAtMs = 0
			delete(o.waiting, id)
			o.schedule(id, c)
		}
	}
	o.kick(ctx)
}

// RedactWebhook is an endpoint as the API shows it: no secret, has_secret
// set.
func RedactWebhook(h *messages.WebhookEndpoint) *messages.WebhookEndpoint {
	out := cloneHook(h)
	out.HasSecret, out.Secret = out.GetSecret() != "", ""
	return out
}

func cloneHook(h *messages.WebhookEndpoint) *messages.WebhookEndpoint {
	if h == nil {
		return &messages.WebhookEndpoint{}
	}
	return proto.Clone(h).(*messages.WebhookEndpoint)
}

func cloneDelivery(d *messages.Delivery) *messages.Delivery {
	return proto.Clone(d).(*messages.Delivery)
}

// Webhook runs an admin command on webhook endpoint id and answers the
// endpoint as it stands (redacted), or a typed error.
func (b *Broker) Webhook(ctx context.Context, id string, cmd *messages.WebhookCommand) (*messages.WebhookEndpoint, error) {
	if e := CheckWebhookID(id); e != nil {
		return nil, e
	}
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	res, err := b.root.RequestFuture(b.PID(KindDelivery, messages.WebhookTarget(id)), cmd, timeout).Result()
	if err != nil {
		return nil, messages.TemporaryErrorf(codeUnavailable, "the webhook did not answer: %v", err)
	}
	r, ok := res.(*messages.WebhookReply)
	if !ok {
		return nil, messages.Errorf(messages.ErrorCode_ERROR_CODE_INTERNAL, "unexpected reply %T", res)
	}
	if r.GetError() != nil {
		return nil, r.GetError()
	}
	return r.GetEndpoint(), nil
}

// Webhooks lists the webhook endpoints (redacted).
func (b *Broker) Webhooks() ([]*messages.WebhookEndpoint, error) {
	hs, err := b.store.Webhooks()
	if err != nil {
		return nil, err
	}
	for i, h := range hs {
		hs[i] = RedactWebhook(h)
	}
	return hs, nil
}

// WebhookByID returns one endpoint (redacted), or nil.
func (b *Broker) WebhookByID(id string) (*messages.WebhookEndpoint, error) {
	h, err := b.store.Webhook(id)
	if h == nil || err != nil {
		return nil, err
	}
	return RedactWebhook(h), nil
}

// WebhookLog returns an endpoint's last delivery tries, oldest first.
func (b *Broker) WebhookLog(id string) (*messages.WebhookLog, error) {
	return b.store.DeliveryLog(messages.WebhookTarget(id))
}

// WebhookSecret returns an endpoint's secret, for the gateway's test
// event only (never answered over the API).
func (b *Broker) WebhookSecret(id string) (string, error) {
	h, err := b.store.Webhook(id)
	return h.GetSecret(), err
}
