package actors

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// The delivery outbox: one actor per target ("delivery/hook/<id>",
// "delivery/channel/<id>"), so that a slow or dead receiver holds up only
// its own deliveries. The store makes the deliveries (persistence's
// delivery round, in the batches that hold the events) and hands them to
// their targets' actors (Broker.WakeDeliveries); an actor loads its
// target's waiting deliveries when it starts.
//
// An actor sends each conversation's deliveries in order, one at a time,
// with up to DeliveriesInFlight conversations on their way at once. A
// delivery the receiver took is deleted (deletions, the tries' updates,
// the delivery log and the outside ids go out in one batch per round of
// answers, through the store's group commit: synced, but a crash that
// loses one only sends those deliveries again, which receivers drop by
// id). A failed try waits DeliveryRetry, doubled per try up to
// DeliveryRetryMax, on the broker's clock; the conversation's later
// deliveries wait behind it. A webhook endpoint that fails every try for
// WebhookDisableAfter is disabled (audited); its deliveries wait until it
// is enabled again. A channel's permanent refusal drops the delivery and
// records ChatDelivered "failed" in its chat.

// WebhookSender posts a delivery as a signed webhook to url (a webhook
// endpoint, an API channel's callback). Post must not block: it works in
// its own goroutine and calls done once, from any goroutine, with the
// receiver's HTTP status (0: none) and nil once the receiver took it (a
// 2xx). An error with Permanent() true is not worth trying again.
type WebhookSender interface {
	Post(url, secret string, d *messages.Delivery, done func(status int, err error))
}

// DeliveryLogSize is how many tries an endpoint's delivery log keeps.
const DeliveryLogSize = 500

// outlet is one target's delivery outbox.
type outlet struct {
	b      *Broker
	target string
	kind   string // "hook" or "channel"
	id     string
	self   *actor.PID

	hook    *messages.WebhookEndpoint // a hook target's record (nil: none)
	channel *messages.Channel         // a channel target's record (nil: none)

	convs    map[string]*outConv
	ready    []string        // conversations whose first delivery is due, in turn
	waiting  map[string]bool // conversations whose first delivery waits for its retry
	inFlight int
	held     int // deliveries in memory
	// overflow: the store holds deliveries not in memory (wakes are
	// dropped until they are read).
	overflow bool
	// hw is the last sequence taken in per conversation: a wake or a
	// reload never takes a delivery twice.
	hw map[string]uint64

	// The next batched write, and whether one is on its way.
	put, done []*messages.Delivery
	refs      map[string]*messages.DeliveryRef
	log       *messages.WebhookLog
	logDirty  bool
	flushing  bool

	retry  timer
	token  uint64
	writes map[uint64]func(actor.Context, *messages.Error)
	// epoch grows when the target is deleted: answers of tries begun
	// before are dropped.
	epoch uint64
}

type outConv struct {
	queue   []*messages.Delivery // by sequence
	sending bool
	inReady bool
}

func newOutlet(b *Broker, target string) *outlet {
	kind, id, _ := strings.Cut(target, "/")
	return &outlet{b: b, target: target, kind: kind, id: id, convs: map[string]*outConv{}, waiting: map[string]bool{},
		hw: map[string]uint64{}, refs: map[string]*messages.DeliveryRef{}, writes: map[uint64]func(actor.Context, *messages.Error){}}
}

func (o *outlet) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		o.self = ctx.Self()
		o.start(ctx)
	case *actor.Stopping, *actor.Stopped, *actor.Restarting:
	case *messages.DeliveryWake:
		o.wake(ctx, m)
	case *messages.DeliveryDone:
		o.answered(ctx, m)
	case *messages.DeliveryTick:
		if o.retry.fired(m.GetToken()) {
			o.due(ctx)
		}
	case *messages.Persisted:
		then := o.writes[m.GetToken()]
		delete(o.writes, m.GetToken())
		if then != nil {
			then(ctx, m.GetError())
		}
	case *messages.WebhookCommand:
		o.command(ctx, m)
	default:
		ctx.Logger().Warn("delivery: unexpected message", "target", o.target, "type", fmt.Sprintf("%T", m))
	}
}

// start reads the target's record, its log and its waiting deliveries.
func (o *outlet) start(ctx actor.Context) {
	log, err := o.b.store.DeliveryLog(o.target)
	if err != nil {
		panic(fmt.Errorf("delivery %s: load: %w", o.target, err)) // the supervisor restarts us
	}
	o.log = log
	o.refresh(ctx)
}

// refresh reads the target's record again and takes in its waiting
// deliveries. A webhook or channel that is gone takes its deliveries with
// it (they are made only while it exists; a delivery round that read it
// before its deletion may leave some behind).
func (o *outlet) refresh(ctx actor.Context) {
	var err error
	switch o.kind {
	case "hook":
		o.hook, err = o.b.store.Webhook(o.id)
	case "channel":
		o.channel, err = o.b.store.Channel(o.id)
	}
	if err != nil {
		panic(fmt.Errorf("delivery %s: load: %w", o.target, err))
	}
	if o.gone() {
		o.forget()
		o.b.store.DropDeliveries(o.target, func(err error) {
			if err != nil {
				o.b.log.Error("delivery: drop a deleted target's deliveries", "target", o.target, "err", err)
			}
		})
		return
	}
	o.reload(ctx)
}

// gone reports whether the target (a webhook, a channel) has no record.
func (o *outlet) gone() bool {
	return o.kind == "hook" && o.hook == nil || o.kind == "channel" && o.channel == nil
}

// forget drops everything in memory: the target is gone. Answers of
// tries on their way are dropped (epoch).
func (o *outlet) forget() {
	o.log = nil
	o.epoch++
	o.inFlight = 0
	o.convs, o.waiting, o.hw, o.ready, o.held, o.overflow = map[string]*outConv{}, map[string]bool{}, map[string]uint64{}, nil, 0, false
	o.put, o.done, o.refs, o.logDirty = nil, nil, map[string]*messages.DeliveryRef{}, false
	o.retry.cancel()
}

// reload takes in the store's waiting deliveries not in memory yet.
func (o *outlet) reload(ctx actor.Context) {
	o.overflow = false
	err := o.b.store.EachDelivery(o.target, func(d *messages.Delivery) bool {
		if d.GetSeq() <= o.hw[d.GetConversation()] {
			return true
		}
		if o.held >= o.b.deliveriesInMemory {
			o.overflow = true
			return false
		}
		d.NextAtMs = 0 // a start tries every conversation at once
		o.take(d)
		return true
	})
	if err != nil {
		panic(fmt.Errorf("delivery %s: load: %w", o.target, err))
	}
	o.kick(ctx)
}

// wake takes in new deliveries (or, with reload, rereads the target).
func (o *outlet) wake(ctx actor.Context, m *messages.DeliveryWake) {
	if m.GetReload() {
		o.refresh(ctx)
		return
	}
	if o.gone() {
		// Deleted (or, a channel, created since it was read): read
		// again; leftovers of a deleted one are dropped.
		o.refresh(ctx)
		return
	}
	for _, d := range m.GetDeliveries() {
		if d.GetSeq() <= o.hw[d.GetConversation()] {
			continue
		}
		if o.overflow || o.held >= o.b.deliveriesInMemory {
			o.overflow = true // read from the store once there is room
			break
		}
		o.take(d)
	}
	o.kick(ctx)
}

// take queues d behind its conversation's deliveries.
func (o *outlet) take(d *messages.Delivery) {
	c := o.convs[d.GetConversation()]
	if c == nil {
		c = &outConv{}
		o.convs[d.GetConversation()] = c
	}
	c.queue = append(c.queue, d)
	o.held++
	o.hw[d.GetConversation()] = d.GetSeq()
	if len(c.queue) == 1 {
		o.schedule(d.GetConversation(), c)
	}
}

// schedule puts conversation id in turn (its first delivery due) or
// among those waiting for a retry.
func (o *outlet) schedule(id string, c *outConv) {
	if c.sending || c.inReady || len(c.queue) == 0 {
		return
	}
	if c.queue[0].GetNextAtMs() <= o.b.clock.Now().UnixMilli() {
		c.inReady = true
		o.ready = append(o.ready, id)
		return
	}
	o.waiting[id] = true
}

// open reports whether the target takes deliveries now, and why not.
func (o *outlet) open() (bool, string) {
	switch o.kind {
	case "hook":
		switch {
		case o.hook == nil:
			return false, "no such webhook"
		case !o.hook.GetEnabled():
			return false, "the webhook is disabled"
		case o.b.webhooks == nil:
			return false, "this broker posts no webhooks"
		}
	case "channel":
		switch {
		case o.channel == nil:
			return false, "no such channel"
		case !o.channel.GetEnabled():
			return false, "the channel is disabled"
		case o.channel.GetKind() == messages.ChannelKind_CHANNEL_KIND_API && o.b.webhooks == nil:
			return false, "this broker posts no webhooks"
		case o.channel.GetKind() == messages.ChannelKind_CHANNEL_KIND_WHATSAPP && o.b.channelSender == nil:
			return false, "this broker sends nothing to WhatsApp"
		}
	default:
		return false, "unknown target"
	}
	return true, ""
}

// kick sends the first delivery of conversations in turn, while fewer
// than DeliveriesInFlight are on their way; then sets the retry timer.
func (o *outlet) kick(ctx actor.Context) {
	if ok, _ := o.open(); ok {
		for o.inFlight < o.b.deliveriesInFlight && len(o.ready) > 0 {
			id := o.ready[0]
			o.ready[0] = ""
			o.ready = o.ready[1:]
			c := o.convs[id]
			if c == nil {
				continue
			}
			c.inReady = false
			if c.sending || len(c.queue) == 0 {
				continue
			}
			o.send(id, c)
		}
	}
	if o.overflow && o.held < o.b.deliveriesInMemory/2 {
		o.reload(ctx)
		return
	}
	o.armRetry()
}

// armRetry sets the timer for the first waiting conversation's retry.
func (o *outlet) armRetry() {
	var next int64
	for id := range o.waiting {
		c := o.convs[id]
		if c == nil || len(c.queue) == 0 {
			delete(o.waiting, id)
			continue
		}
		if at := c.queue[0].GetNextAtMs(); next == 0 || at < next {
			next = at
		}
	}
	if next == 0 {
		o.retry.cancel()
		return
	}
	d := time.Duration(next-o.b.clock.Now().UnixMilli()) * time.Millisecond
	o.retry.start(o.b, o.self, max(d, 0), deliveryTick)
}

func deliveryTick(token uint64) any { return &messages.DeliveryTick{Token: token} }

// due: a retry time came; the conversations due are in turn again.
func (o *outlet) due(ctx actor.Context) {
	now := o.b.clock.Now().UnixMilli()
	for id := range o.waiting {
		c := o.convs[id]
		if c != nil && len(c.queue) > 0 && c.queue[0].GetNextAtMs() > now {
			continue
		}
		delete(o.waiting, id)
		if c != nil {
			o.schedule(id, c)
		}
	}
	o.kick(ctx)
}

// send hands conversation id's first delivery to the receiver; the
// answer comes back as DeliveryDone.
func (o *outlet) send(id string, c *outConv) {
	d := c.queue[0]
	c.sending = true
	o.inFlight++
	root, self, seq, start, epoch := o.b.root, o.self, d.GetSeq(), time.Now(), o.epoch
	answer := func(ref string, status int, err error) {
		r := &messages.DeliveryDone{Conversation: id, Seq: seq, Ref: ref, Status: int32(status), TookMs: time.Since(start).Milliseconds(), Epoch: epoch}
		if err != nil {
			var p interface{ Permanent() bool }
			r.Error, r.Permanent = err.Error(), errors.As(err, &p) && p.Permanent()
		}
		root.Send(self, r)
	}
	switch {
	case o.hook != nil:
		o.b.webhooks.Post(o.hook.GetUrl(), o.hook.GetSecret(), d, func(status int, err error) { answer("", status, err) })
	case o.channel.GetKind() == messages.ChannelKind_CHANNEL_KIND_API:
		api := o.channel.GetApi()
		o.b.webhooks.Post(api.GetCallbackUrl(), api.GetSecret(), d, func(status int, err error) { answer("", status, err) })
	default:
		o.b.channelSender.Send(o.channel, d, func(ref string, err error) { answer(ref, 0, err) })
	}
}

// answered: one try is over.
func (o *outlet) answered(ctx actor.Context, m *messages.DeliveryDone) {
	c := o.convs[m.GetConversation()]
	if m.GetEpoch() != o.epoch || c == nil || !c.sending || len(c.queue) == 0 || c.queue[0].GetSeq() != m.GetSeq() {
		return // the target was deleted or reloaded meanwhile
	}
	c.sending = false
	o.inFlight--
	d := c.queue[0]
	now := o.b.clock.Now()
	o.logTry(d, m, now)
	switch {
	case m.GetError() == "":
		o.finish(m.GetConversation(), c)
		if m.GetRef() != "" {
			o.refs[m.GetRef()] = &messages.DeliveryRef{ChatId: d.GetEvent().GetChatId(), Seq: d.GetSeq(), DeliveryId: d.GetId()}
		}
		o.worked(now)
	case m.GetPermanent() && o.kind == "channel":
		ctx.Logger().Warn("delivery: refused for good", "target", o.target, "delivery", d.GetId(), "err", m.GetError())
		o.finish(m.GetConversation(), c)
		if ev := d.GetEvent(); ev != nil {
			o.b.Send(KindChat, ev.GetChatId(), &messages.RecordDelivered{ChatId: ev.GetChatId(),
				Delivered: &messages.ChatDelivered{OfSeq: ev.GetSeq(), State: "failed", Channel: o.id, Error: capText(m.GetError(), 500)}})
		}
	default:
		d.Attempts++
		d.LastError = capText(m.GetError(), 500)
		d.NextAtMs = now.Add(o.b.deliveryBackoff(d.GetAttempts())).UnixMilli()
		o.put = append(o.put, d)
		o.schedule(m.GetConversation(), c)
		o.failed(ctx, now, m.GetError())
	}
	o.flush()
	o.kick(ctx)
}

// finish drops conversation id's first delivery (done with) and puts the
// next in turn.
func (o *outlet) finish(id string, c *outConv) {
	o.done = append(o.done, c.queue[0])
	c.queue[0] = nil
	c.queue = c.queue[1:]
	o.held--
	if len(c.queue) == 0 {
		delete(o.convs, id)
		delete(o.waiting, id)
		return
	}
	o.schedule(id, c)
}

// maxHighWater bounds the conversations whose last sequence an actor
// keeps: past it, those of conversations with nothing in memory are
// dropped once every deletion is durable (a reload then cannot read
// back a delivery already sent).
const maxHighWater = 100000

// pruneHighWater drops the high-water marks of idle conversations.
func (o *outlet) pruneHighWater() {
	if len(o.hw) <= maxHighWater || o.flushing || len(o.done) > 0 {
		return
	}
	for id := range o.hw {
		if o.convs[id] == nil {
			delete(o.hw, id)
		}
	}
}

// logTry appends a try to the target's delivery log.
func (o *outlet) logTry(d *messages.Delivery, m *messages.DeliveryDone, now time.Time) {
	if o.log == nil {
		o.log = &messages.WebhookLog{}
	}
	a := &messages.WebhookAttempt{Id: d.GetId(), Type: d.GetType(), Attempt: d.GetAttempts() + 1, Status: m.GetStatus(),
		Ok: m.GetError() == "", Error: capText(m.GetError(), 300), AtMs: now.UnixMilli(), TookMs: m.GetTookMs()}
	o.log.Attempts = append(o.log.Attempts, a)
	if n := len(o.log.Attempts); n > DeliveryLogSize {
		o.log.Attempts = append(o.log.Attempts[:0:0], o.log.Attempts[n-DeliveryLogSize:]...)
	}
	o.logDirty = true
}

// worked: a try worked; a webhook that was failing is not any more.
func (o *outlet) worked(now time.Time) {
	if o.hook != nil && o.hook.GetFailingSinceMs() != 0 {
		o.hook.FailingSinceMs = 0
		o.saveHook(nil)
	}
}

// failed: a try failed. A webhook failing every try for
// WebhookDisableAfter is disabled.
func (o *outlet) failed(ctx actor.Context, now time.Time, why string) {
	h := o.hook
	if h == nil {
		return
	}
	if h.GetFailingSinceMs() == 0 {
		h.FailingSinceMs = now.UnixMilli()
		o.saveHook(nil)
		return
	}
	since := time.UnixMilli(h.GetFailingSinceMs())
	if now.Sub(since) < o.b.hookDisableAfter || !h.GetEnabled() {
		return
	}
	h.Enabled, h.DisabledAtMs = false, now.UnixMilli()
	h.DisabledReason = capText(fmt.Sprintf("every try failed since %s (the last: %s)", since.UTC().Format(time.RFC3339), why), 500)
	ctx.Logger().Warn("delivery: webhook disabled", "webhook", h.GetId(), "failing_since", since, "err", why)
	o.saveHook(nil)
	o.b.Audit(&messages.AuditEntry{Kind: "webhook.disabled", Actor: "@broker", Subject: h.GetId(), Detail: h.GetDisabledReason(), Ok: true})
}

// saveHook writes the webhook's record; then runs once it is durable.
func (o *outlet) saveHook(then func(actor.Context, *messages.Error)) {
	o.writeHook(false, then)
}

// writeHook writes the webhook's record, its deliveries cleared when
// create (persistence.Store.PutWebhook); then runs once it is durable.
func (o *outlet) writeHook(create bool, then func(actor.Context, *messages.Error)) {
	o.token++
	o.writes[o.token] = then
	o.b.store.PutWebhook(cloneHook(o.hook), create, o.b.notifier(o.self, o.token))
}

// flush writes the deletions, tries, outside ids and log gathered, unless
// a write is on its way (then the next gathers more).
func (o *outlet) flush() {
	if o.flushing || (len(o.put) == 0 && len(o.done) == 0 && len(o.refs) == 0 && !o.logDirty) {
		return
	}
	put, done, refs := o.put, o.done, o.refs
	var log *messages.WebhookLog
	if o.logDirty {
		log = &messages.WebhookLog{Attempts: append([]*messages.WebhookAttempt(nil), o.log.GetAttempts()...)}
	}
	// The tries' updates are copies: the next try may change them.
	for i, d := range put {
		put[i] = cloneDelivery(d)
	}
	o.put, o.done, o.refs, o.logDirty = nil, nil, map[string]*messages.DeliveryRef{}, false
	o.flushing = true
	o.token++
	o.writes[o.token] = func(ctx actor.Context, e *messages.Error) {
		o.flushing = false
		if e != nil {
			// Those deliveries go out again after a restart; receivers
			// drop them by id.
			ctx.Logger().Error("delivery: write", "target", o.target, "err", e.GetMessage())
		}
		o.flush()
		o.pruneHighWater()
	}
	o.b.store.WriteDeliveries(o.target, put, done, refs, log, o.b.notifier(o.self, o.token))
}
