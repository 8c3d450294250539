package persistence

import (
	"github.com/cockroachdb/pebble/v2"

	"github.com/switchboard-chat/switchboard/messages"
)

// The delivery round: the history indexer's round (IndexFeed) folds each
// chat's new events, read from the durable feed written with them, and
// hands each to the round, which writes, in the round's batch, a Delivery
// for every enabled webhook endpoint whose live chat and filter match,
// and one for the chat's channel. A crash before the batch lands redoes
// the round from the feed: it writes the same keys (w/<target>\x00<chat
// id>\x00<seq>) with the same ids, so a delivery is made at least once
// and receivers deduplicate by id. A rebuilt index (a new version, a
// reindex) folds the logs without a round: old events are not delivered
// again.
//
// Internal events (whispers, invisible joins, tags) never go out: not to
// webhooks, not to channels.

// deliveryRound gathers one indexing round's deliveries. The endpoints,
// channels and departments it needs are read once a round.
type deliveryRound struct {
	db       pebble.Reader
	b        *pebble.Batch
	hooks    []*messages.WebhookEndpoint
	loaded   bool
	channels map[string]*messages.Channel
	liveOf   map[string]string // department -> live chat
	out      []*messages.Delivery
	err      error
}

func newDeliveryRound(db pebble.Reader, b *pebble.Batch) *deliveryRound {
	return &deliveryRound{db: db, b: b, channels: map[string]*messages.Channel{}, liveOf: map[string]string{}}
}

func (r *deliveryRound) fail(err error) {
	if r.err == nil && err != nil {
		r.err = err
	}
}

// endpoints are the webhook endpoints, read once a round.
func (r *deliveryRound) endpoints() []*messages.WebhookEndpoint {
	if !r.loaded {
		r.loaded = true
		r.hooks, r.err = readEndpoints(r.db)
	}
	return r.hooks
}

// readEndpoints reads every webhook endpoint from db.
func readEndpoints(db pebble.Reader) ([]*messages.WebhookEndpoint, error) {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte(prefixHook), UpperBound: upperBound([]byte(prefixHook))})
	if err != nil {
		return nil, err
	}
	var out []*messages.WebhookEndpoint
	for ok := it.First(); ok; ok = it.Next() {
		h := &messages.WebhookEndpoint{}
		if err := unmarshal(it.Key(), it.Value(), h); err != nil {
			it.Close()
			return nil, err
		}
		out = append(out, h)
	}
	return out, it.Close()
}

// channel is channel id's record (nil: none), read once a round.
func (r *deliveryRound) channel(id string) *messages.Channel {
	c, ok := r.channels[id]
	if !ok {
		c = &messages.Channel{}
		found, err := getFrom(r.db, channelKey(id), c)
		r.fail(err)
		if !found {
			c = nil
		}
		r.channels[id] = c
	}
	return c
}

// liveChatOf is department dept's live chat.
func (r *deliveryRound) liveChatOf(dept string) string {
	lc, ok := r.liveOf[dept]
	if !ok {
		d := &messages.Department{}
		_, err := getFrom(r.db, departmentKey(dept), d)
		r.fail(err)
		lc = messages.LiveChatOr(d.GetLiveChat())
		r.liveOf[dept] = lc
	}
	return lc
}

// chatEvent makes ev's deliveries; e is its chat's entry, folded up to ev.
func (r *deliveryRound) chatEvent(e *messages.ChatHistoryEntry, ev *messages.ChatEvent) {
	if r == nil {
		return
	}
	if c := ev.GetCreated(); c != nil {
		e.Channel = c.GetChannel()
		e.LiveChat = c.GetLiveChat()
		if e.LiveChat == "" {
			e.LiveChat = r.liveChatOf(c.GetDepartment())
		}
	}
	typ := messages.DeliveryType(ev)
	if ev.GetInternal() || typ == "" {
		return
	}
	lc := messages.LiveChatOr(e.GetLiveChat())
	for _, h := range r.endpoints() {
		if hookMatches(h, lc, typ) {
			r.put(messages.WebhookTarget(h.GetId()), e, ev, typ, lc)
		}
	}
	if e.GetChannel() != "" && channelTakes(r.channel(e.GetChannel()), ev) {
		r.put(messages.ChannelTarget(e.GetChannel()), e, ev, typ, lc)
	}
}

// channelTakes reports whether channel c gets event ev (not internal): an
// API channel every one, a WhatsApp channel the staff's messages and
// attachments (the visitor's own come from there).
func channelTakes(c *messages.Channel, ev *messages.ChatEvent) bool {
	switch {
	case c == nil:
		return false
	case c.GetKind() == messages.ChannelKind_CHANNEL_KIND_API:
		return true
	case ev.GetMessage() != nil:
		return ev.GetMessage().GetFrom().GetKind() == messages.ParticipantKind_PARTICIPANT_KIND_AGENT
	case ev.GetAttachment() != nil:
		return ev.GetAttachment().GetFrom().GetKind() == messages.ParticipantKind_PARTICIPANT_KIND_AGENT
	}
	return false
}

// put writes ev's delivery of type typ to target into the round's batch
// (e is its chat's entry, lc its live chat).
func (r *deliveryRound) put(target string, e *messages.ChatHistoryEntry, ev *messages.ChatEvent, typ, lc string) {
	chatID := e.GetChatId()
	x := &messages.Delivery{Id: messages.DeliveryID(chatID, ev.GetSeq()), Target: target, Conversation: chatID, Seq: ev.GetSeq(),
		Type: typ, AtMs: ev.GetAtMs(), Event: ev, CreatedAtMs: ev.GetAtMs(), LiveChat: lc}
	r.fail(setIn(r.b, deliveryKey(target, chatID, x.Seq), x))
	r.out = append(r.out, x)
}

// offlineDeliveries are the deliveries of a new offline message to the
// matching endpoints: a conversation of its own (its id), sequence 1.
func offlineDeliveries(db pebble.Reader, o *messages.OfflineMessage) ([]*messages.Delivery, error) {
	r := newDeliveryRound(db, nil)
	hooks := r.endpoints()
	if r.err != nil {
		return nil, r.err
	}
	lc := ""
	var out []*messages.Delivery
	for _, h := range hooks {
		if lc == "" {
			lc = r.liveChatOf(o.GetDepartment())
		}
		if hookMatches(h, lc, messages.EventOfflineMessage) {
			out = append(out, &messages.Delivery{Id: messages.OfflineDeliveryID(o.GetId()), Target: messages.WebhookTarget(h.GetId()),
				Conversation: messages.OfflineDeliveryID(o.GetId()), Seq: 1, Type: messages.EventOfflineMessage, AtMs: o.GetAtMs(),
				Offline: o, CreatedAtMs: o.GetAtMs(), LiveChat: lc})
		}
	}
	return out, r.err
}
