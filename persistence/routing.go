package persistence

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// The routing journal and the chats' routing decisions (issue 20).
//
// A queue records each input it handles, with the decisions it made, as
// one journal entry (rj/<n>), and each decision about a chat again under
// the chat (c/<chat>/r/<n><i>), where the chat's retention and deletion
// take it with the transcript. Both are written in one request, numbered
// at commit, without waiting: the writer commits requests in the order
// they were submitted, so a decision a queue made before it told the
// chat is on disk before anything the chat then stores.

// AppendRouting submits a journal entry and its decisions. stored are
// the decisions to keep under their chats (a subset of in's, with their
// reasons; in's own decisions are the short form). It does not wait.
func (s *Store) AppendRouting(in *messages.RoutingInput, stored []*messages.RoutingDecision, done func(error)) {
	muts := make([]mutation, 0, 1+len(stored))
	v, err := proto.Marshal(in)
	if err == nil {
		muts = append(muts, mutation{value: v, journal: true})
	}
	for _, d := range stored {
		if err != nil {
			break
		}
		var dv []byte
		dv, err = proto.Marshal(d)
		muts = append(muts, mutation{key: routingPrefix(d.GetChatId()), value: dv, decision: true})
	}
	if err != nil {
		if done != nil {
			done(err)
		}
		return
	}
	s.submitJournal(&request{muts: muts, done: done})
}

// submitJournal queues a journal request for the writer's next batch.
// It does not go through the writer's channel one by one: a queue
// records several inputs per assignment, and a channel send each (and
// the writer's wake-up) cost more than the entry. Only the first entry
// after a batch sends the writer an empty request, to wake it. Order
// holds: an entry appended before another actor submits a write (the
// queue lets its messages go only after) is in the buffer when the
// writer takes that write, so it lands in the same batch or an earlier
// one.
func (s *Store) submitJournal(r *request) {
	if r.done == nil {
		r.done = func(error) {}
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	switch {
	case s.closing.Load():
		r.done(ErrClosed)
		return
	case s.diskLow.Load():
		r.done(ErrDiskLow)
		return
	}
	s.jmu.Lock()
	wake := len(s.journal) == 0
	s.journal = append(s.journal, r)
	s.jmu.Unlock()
	if wake {
		s.reqs <- &request{done: func(error) {}}
	}
}

// takeJournal appends the journal's waiting requests to a batch.
func (s *Store) takeJournal(pending []*request) []*request {
	s.jmu.Lock()
	defer s.jmu.Unlock()
	pending = append(pending, s.journal...)
	clear(s.journal)
	s.journal = s.journal[:0]
	return pending
}

// RoutingDecisions returns a chat's stored decisions, oldest first, each
// with the number of the journal entry it was recorded with (input).
func (s *Store) RoutingDecisions(chatID string) ([]*messages.RoutingDecision, error) {
	var out []*messages.RoutingDecision
	p := routingPrefix(chatID)
	err := s.scanRange(p, upperBound(p), func(k, v []byte) error {
		d := &messages.RoutingDecision{}
		if err := unmarshal(k, v, d); err != nil {
			return err
		}
		if len(k) >= len(p)+8 {
			d.Input = binary.BigEndian.Uint64(k[len(p):]) // the journal entry's number, given at commit
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// EachRoutingInput calls fn with the journal's entries handled from from
// (inclusive) to to (exclusive), in the order they were recorded, until
// fn returns false. A zero to means no end.
func (s *Store) EachRoutingInput(from, to time.Time, fn func(n uint64, in *messages.RoutingInput) bool) error {
	errEnough := errStop
	err := s.scanRange([]byte(prefixJournal), upperBound([]byte(prefixJournal)), func(k, v []byte) error {
		in := &messages.RoutingInput{}
		if err := unmarshal(k, v, in); err != nil {
			return err
		}
		at := time.Unix(0, in.GetAtNs())
		if at.Before(from) || (!to.IsZero() && !at.Before(to)) {
			return nil
		}
		if !fn(journalN(k), in) {
			return errEnough
		}
		return nil
	})
	if errors.Is(err, errEnough) {
		return nil
	}
	return err
}

func journalN(k []byte) uint64 {
	if len(k) < len(prefixJournal)+8 {
		return 0
	}
	return binary.BigEndian.Uint64(k[len(prefixJournal):])
}

// DeleteRoutingBefore deletes the journal's entries handled before t
// (the retention pass: the entries are in handling order, so they are
// one range from the start). It waits for the fsync: never from an
// actor.
func (s *Store) DeleteRoutingBefore(t time.Time) error {
	var end []byte
	err := s.withDB(func(db *pebble.DB) error {
		it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte(prefixJournal), UpperBound: upperBound([]byte(prefixJournal))})
		if err != nil {
			return err
		}
		for it.First(); it.Valid(); it.Next() {
			in := &messages.RoutingInput{}
			if err := unmarshal(it.Key(), it.Value(), in); err != nil {
				it.Close()
				return err
			}
			if in.GetAtNs() >= t.UnixNano() {
				end = append([]byte(nil), it.Key()...)
				break
			}
		}
		if end == nil && it.Last() {
			end = upperBound(it.Key())
		}
		return it.Close()
	})
	if err != nil || end == nil {
		return err
	}
	return s.writeSync([]mutation{{key: []byte(prefixJournal), end: end, delete: true}})
}
