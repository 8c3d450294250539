package persistence

import (
	"strings"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// The delivery outbox (issue 19): deliveries (w/) are made by the
// history indexer's delivery round (delivery_round.go) from the chats'
// events, and by WriteMail for offline messages, in the batches that
// hold what they deliver; the actors' outbox (actors/deliver_*.go) reads
// them, sends them, and deletes them with WriteDeliveries. Webhook
// endpoints (d/hook/) are written by the outbox actor of their target
// only; channels (d/channel/) by the channels' admin.

// deliveryWake is what SetDeliveryWake set: called with the deliveries a
// commit stored. It must not block.
type deliveryWake = func([]*messages.Delivery)

// SetDeliveryWake sets what the store calls, from its goroutines, with
// the deliveries each commit stored (after the commit). The delivery
// outbox hands them to their targets' actors; f must not block. nil: no
// one is told (the deliveries wait for the next start).
func (s *Store) SetDeliveryWake(f func([]*messages.Delivery)) {
	if f == nil {
		s.wake.Store(nil)
		return
	}
	s.wake.Store(&f)
}

// tellDeliveries calls the wake function with ds, if any.
func (s *Store) tellDeliveries(ds []*messages.Delivery) {
	if len(ds) == 0 {
		return
	}
	if f := s.wake.Load(); f != nil {
		(*f)(ds)
	}
}

// wakeHolder keeps the wake function (an atomic pointer: set once by the
// wiring, read by the writer and the indexer).
type wakeHolder = atomic.Pointer[deliveryWake]

// DeliveryTargets returns every target that has deliveries waiting.
func (s *Store) DeliveryTargets() ([]string, error) {
	var out []string
	err := s.withDB(func(db *pebble.DB) error {
		it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte(prefixDelivery), UpperBound: upperBound([]byte(prefixDelivery))})
		if err != nil {
			return err
		}
		for ok := it.First(); ok; {
			t := deliveryTargetOf(it.Key())
			if t == "" {
				ok = it.Next()
				continue
			}
			out = append(out, t)
			ok = it.SeekGE(upperBound(deliveryScope(t)))
		}
		return it.Close()
	})
	return out, err
}

// EachDelivery calls fn with target's waiting deliveries in key order
// (by conversation, then sequence) until fn returns false.
func (s *Store) EachDelivery(target string, fn func(*messages.Delivery) bool) error {
	err := s.scan(deliveryScope(target), func(k, v []byte) error {
		d := &messages.Delivery{}
		if err := unmarshal(k, v, d); err != nil {
			return err
		}
		if !fn(d) {
			return errStop
		}
		return nil
	})
	if err == errStop {
		return nil
	}
	return err
}

// WriteDeliveries durably stores, in one batch, target's deliveries
// tried again later (put), deletes those done with (done), records the
// outside ids of delivered messages (refs: outside id -> what it refers
// to) and replaces the target's delivery log (log, when not nil).
func (s *Store) WriteDeliveries(target string, put, done []*messages.Delivery, refs map[string]*messages.DeliveryRef, log *messages.WebhookLog, cb func(error)) {
	muts := make([]mutation, 0, len(put)+len(done)+len(refs)+1)
	for _, d := range put {
		mut, err := set(deliveryKey(target, d.GetConversation(), d.GetSeq()), d)
		if err != nil {
			cb(err)
			return
		}
		muts = append(muts, mut)
	}
	for _, d := range done {
		muts = append(muts, del(deliveryKey(target, d.GetConversation(), d.GetSeq())))
	}
	for ref, r := range refs {
		mut, err := set(deliveryRefKey(target, ref), r)
		if err != nil {
			cb(err)
			return
		}
		muts = append(muts, mut)
	}
	if log != nil {
		mut, err := set(deliveryLogKey(target), log)
		if err != nil {
			cb(err)
			return
		}
		muts = append(muts, mut)
	}
	s.submit(muts, cb)
}

// DropDeliveries durably deletes every delivery waiting for target (a
// deleted channel's).
func (s *Store) DropDeliveries(target string, done func(error)) {
	s.submit(clearTarget(target), done)
}

// clearTarget deletes every delivery waiting for target and its log. A
// new target (a webhook, a channel) is written with it in one batch:
// deliveries left for a deleted one of the same id (a delivery round
// that read the targets before the deletion landed) never reach the new
// one.
func clearTarget(target string) []mutation {
	scope := deliveryScope(target)
	return []mutation{{key: scope, delete: true, end: upperBound(scope)}, del(deliveryLogKey(target))}
}

// DeliveryLog returns target's last delivery tries (none: empty).
func (s *Store) DeliveryLog(target string) (*messages.WebhookLog, error) {
	x := &messages.WebhookLog{}
	if _, err := s.get(deliveryLogKey(target), x); err != nil {
		return nil, err
	}
	return x, nil
}

// PutWebhook durably replaces a webhook endpoint, or creates it when
// create (then with its id's deliveries cleared: clearTarget).
func (s *Store) PutWebhook(h *messages.WebhookEndpoint, create bool, done func(error)) {
	s.putTarget(hookKey(h.GetId()), h, create, messages.WebhookTarget(h.GetId()), done)
}

// putTarget writes a delivery target's record; when create, with the
// target's deliveries and log cleared in the same batch.
func (s *Store) putTarget(key []byte, m proto.Message, create bool, target string, done func(error)) {
	mut, err := set(key, m)
	if err != nil {
		done(err)
		return
	}
	muts := []mutation{mut}
	if create {
		muts = append(muts, clearTarget(target)...)
	}
	s.submit(muts, done)
}

// DeleteWebhook durably deletes a webhook endpoint with its waiting
// deliveries and its log, in one batch.
func (s *Store) DeleteWebhook(id string, done func(error)) {
	s.submit(append([]mutation{del(hookKey(id))}, clearTarget(messages.WebhookTarget(id))...), done)
}

// Webhook returns a webhook endpoint, or nil.
func (s *Store) Webhook(id string) (*messages.WebhookEndpoint, error) {
	x := &messages.WebhookEndpoint{}
	if ok, err := s.get(hookKey(id), x); !ok {
		return nil, err
	}
	return x, nil
}

// Webhooks returns every webhook endpoint, by id.
func (s *Store) Webhooks() ([]*messages.WebhookEndpoint, error) {
	return scanAll(s, []byte(prefixHook), func() *messages.WebhookEndpoint { return &messages.WebhookEndpoint{} })
}

// hookMatches reports whether endpoint h takes an event of type typ from
// live chat lc: enabled, of that live chat (or of all), and typ in its
// filter (or the filter empty).
func hookMatches(h *messages.WebhookEndpoint, lc, typ string) bool {
	if !h.GetEnabled() || (h.GetLiveChat() != "" && h.GetLiveChat() != lc) {
		return false
	}
	if len(h.GetEvents()) == 0 {
		return true
	}
	for _, e := range h.GetEvents() {
		if strings.EqualFold(e, typ) {
			return true
		}
	}
	return false
}
