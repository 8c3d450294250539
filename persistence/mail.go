package persistence

import (
	"github.com/cockroachdb/pebble/v2"

	"github.com/switchboard-chat/switchboard/messages"
)

// The email settings, the outbox and the offline messages. The outbox
// actor is the only writer of m/ and om/; every write is synced before
// the done callback (what it acknowledges is on disk).

// PutEmailSettings durably replaces the SMTP settings and templates.
func (s *Store) PutEmailSettings(x *messages.EmailSettings, done func(error)) {
	s.putOne(emailKey, x, done)
}

// EmailSettings returns the SMTP settings and templates (none: empty).
func (s *Store) EmailSettings() (*messages.EmailSettings, error) {
	x := &messages.EmailSettings{}
	if _, err := s.get(emailKey, x); err != nil {
		return nil, err
	}
	return x, nil
}

// WriteMail durably stores mails (new or with a later attempt), deletes
// the sent ones by id, and stores offline messages, in one batch.
//
// A new offline message (not answered) gets its deliveries to the
// matching webhook endpoints in the same batch (the outbox is told once
// it is durable).
func (s *Store) WriteMail(put []*messages.OutboxMail, sent []string, offline []*messages.OfflineMessage, done func(error)) {
	muts := make([]mutation, 0, len(put)+len(sent)+len(offline))
	var ds []*messages.Delivery
	for _, m := range put {
		mut, err := set(mailKey(m.GetId()), m)
		if err != nil {
			done(err)
			return
		}
		muts = append(muts, mut)
	}
	for _, id := range sent {
		muts = append(muts, del(mailKey(id)))
	}
	for _, o := range offline {
		mut, err := set(offlineKey(o.GetId()), o)
		if err != nil {
			done(err)
			return
		}
		muts = append(muts, mut)
		if !o.GetAnswered() && s.statsOn() {
			// A message left (an answer rewrites it answered): counted in
			// the statistics with it, in the same batch.
			mut, err := statsMutation(&messages.StatsEvent{AtMs: o.GetAtMs(), Department: o.GetDepartment(),
				Kind: &messages.StatsEvent_OfflineMessage{OfflineMessage: true}})
			if err != nil {
				done(err)
				return
			}
			muts = append(muts, mut)
		}
		if !o.GetAnswered() {
			out, err := s.offlineDeliveries(o)
			if err != nil {
				done(err)
				return
			}
			for _, d := range out {
				mut, err := set(deliveryKey(d.GetTarget(), d.GetConversation(), d.GetSeq()), d)
				if err != nil {
					done(err)
					return
				}
				muts = append(muts, mut)
			}
			ds = append(ds, out...)
		}
	}
	if len(ds) > 0 {
		inner := done
		done = func(err error) {
			if err == nil {
				s.tellDeliveries(ds) // durable now
			}
			if inner != nil {
				inner(err)
			}
		}
	}
	s.submit(muts, done)
}

// offlineDeliveries are a new offline message's deliveries.
func (s *Store) offlineDeliveries(o *messages.OfflineMessage) ([]*messages.Delivery, error) {
	var out []*messages.Delivery
	err := s.withDB(func(db *pebble.DB) error {
		var err error
		out, err = offlineDeliveries(db, o)
		return err
	})
	return out, err
}

// Outbox returns every mail not sent yet, oldest id first.
func (s *Store) Outbox() ([]*messages.OutboxMail, error) {
	return scanAll(s, []byte(prefixMail), func() *messages.OutboxMail { return &messages.OutboxMail{} })
}

// OfflineMessages returns every offline message, oldest first (ids sort
// by time).
func (s *Store) OfflineMessages() ([]*messages.OfflineMessage, error) {
	return scanAll(s, []byte(prefixOffline), func() *messages.OfflineMessage { return &messages.OfflineMessage{} })
}

// OfflineMessage returns one offline message, or nil.
func (s *Store) OfflineMessage(id string) (*messages.OfflineMessage, error) {
	x := &messages.OfflineMessage{}
	if ok, err := s.get(offlineKey(id), x); !ok {
		return nil, err
	}
	return x, nil
}
