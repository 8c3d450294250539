package persistence

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/switchboard-chat/switchboard/messages"
)

// AppendChat durably appends events to a chat's log and, in the same batch,
// updates its entry in the open-chats index: open replaces it, or, with
// closed, it is removed; with neither (a plain message) the entry stays as
// it is. done is called once the batch is synced.
func (s *Store) AppendChat(chatID string, events []*messages.ChatEvent, open *messages.OpenChat, closed bool, done func(error)) {
	s.appendChat(nil, chatID, events, open, closed, done)
}

// AppendChatAs is AppendChat by the chat's owner at epoch, in cluster
// mode: the state machine refuses it (ErrFenced) once a newer owner
// claimed the chat (entity "chat/<id>").
func (s *Store) AppendChatAs(epoch uint64, chatID string, events []*messages.ChatEvent, open *messages.OpenChat, closed bool, done func(error)) {
	s.appendChat(&messages.ReplicatedGuard{Entity: ChatEntity(chatID), Epoch: epoch}, chatID, events, open, closed, done)
}

// ChatEntity names a chat in fences.
func ChatEntity(chatID string) string { return "chat/" + chatID }

func (s *Store) appendChat(fence *messages.ReplicatedGuard, chatID string, events []*messages.ChatEvent, open *messages.OpenChat, closed bool, done func(error)) {
	muts := make([]mutation, 0, len(events)+2)
	for _, ev := range events {
		m, err := set(chatEventKey(chatID, ev.GetSeq()), ev)
		if err != nil {
			done(err)
			return
		}
		muts = append(muts, m)
	}
	switch {
	case closed:
		muts = append(muts, del(openKey(chatID)))
	case open != nil:
		m, err := set(openKey(chatID), open)
		if err != nil {
			done(err)
			return
		}
		muts = append(muts, m)
	}
	if !s.opts.NoHistory && len(events) > 0 {
		muts = append(muts, feedMutation(chatID))
	}
	var guards []*messages.ReplicatedGuard
	if fence != nil {
		guards = append(guards, fence)
	}
	if s.rep.on && len(events) > 0 {
		// In a cluster the log itself checks that an append continues
		// the chat: a stale owner's late write cannot fork it.
		guards = append(guards, &messages.ReplicatedGuard{Chat: chatID, FirstSeq: events[0].GetSeq(), LastSeq: events[len(events)-1].GetSeq()})
	}
	s.submitGuarded(muts, guards, done)
}

// ChatEvents returns a chat's stored events with a sequence above afterSeq,
// in order. An unknown chat has none.
func (s *Store) ChatEvents(chatID string, afterSeq uint64) ([]*messages.ChatEvent, error) {
	var out []*messages.ChatEvent
	err := s.EachChatEvent(chatID, afterSeq, func(ev *messages.ChatEvent) error {
		out = append(out, ev)
		return nil
	})
	return out, err
}

// EachChatEvent calls fn with each of a chat's stored events with a
// sequence above afterSeq, in order, without holding them all in memory.
func (s *Store) EachChatEvent(chatID string, afterSeq uint64, fn func(*messages.ChatEvent) error) error {
	if afterSeq == ^uint64(0) {
		return nil
	}
	lower := chatEventKey(chatID, afterSeq+1)
	upper := upperBound(chatEventPrefix(chatID))
	return s.scanRange(lower, upper, func(k, v []byte) error {
		ev := &messages.ChatEvent{}
		if err := unmarshal(k, v, ev); err != nil {
			return err
		}
		return fn(ev)
	})
}

// LastChatSeq returns the sequence of a chat's last stored event (0 when it
// has none).
func (s *Store) LastChatSeq(chatID string) (uint64, error) {
	var seq uint64
	err := s.withDB(func(db *pebble.DB) (err error) {
		seq, err = lastChatSeq(db, chatID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("persistence: last event of %s: %w", chatID, err)
	}
	return seq, nil
}

// lastChatSeq reads the sequence of a chat's last stored event (0: none)
// from r: the database, or a batch being built (replicate_apply.go).
func lastChatSeq(r pebble.Reader, chatID string) (seq uint64, err error) {
	prefix := chatEventPrefix(chatID)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: upperBound(prefix)})
	if err != nil {
		return 0, err
	}
	if it.Last() {
		if _, seq, err = parseChatEventKey(it.Key()); err != nil {
			it.Close()
			return 0, err
		}
	}
	return seq, it.Close()
}

// OpenChats returns the open-chats index: every chat not closed. An entry
// is written when the chat's state changes, so its last_seq may be behind:
// LastChatSeq has the true one.
func (s *Store) OpenChats() ([]*messages.OpenChat, error) {
	return scanAll(s, []byte(prefixOpen), func() *messages.OpenChat { return &messages.OpenChat{} })
}

// OpenChat returns a chat's entry in the open-chats index, or nil when the
// chat is closed (or never was).
func (s *Store) OpenChat(chatID string) (*messages.OpenChat, error) {
	oc := &messages.OpenChat{}
	if ok, err := s.get(openKey(chatID), oc); !ok {
		return nil, err
	}
	return oc, nil
}

// SaveAgentSnapshot durably replaces an agent's snapshot.
func (s *Store) SaveAgentSnapshot(snap *messages.AgentSnapshot, done func(error)) {
	m, err := set(agentSnapKey(snap.GetAgentId()), snap)
	if err != nil {
		done(err)
		return
	}
	s.submit([]mutation{m}, done)
}

// AgentSnapshot returns an agent's snapshot, or nil when it has none.
func (s *Store) AgentSnapshot(id string) (*messages.AgentSnapshot, error) {
	snap := &messages.AgentSnapshot{}
	ok, err := s.get(agentSnapKey(id), snap)
	if !ok {
		return nil, err
	}
	return snap, nil
}
