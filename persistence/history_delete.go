package persistence

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/switchboard-chat/switchboard/messages"
)

// DeleteChat deletes a chat for good, in one synced batch: one range
// deletion of everything under c/<chatID>/ (its events, its files), its
// open-chats entry if any, its history entry and every posting of it
// (its words are found again from its events, with the same tokenizer).
// It waits for the fsync: call it from a background task, never from an
// actor. An unknown chat is no error. A deletion frees space, so it goes
// through while the disk is low.
//
// In cluster mode the deletion goes through the log, and each node's
// state machine holds the indexer off while it applies it (a node's
// index is its own, derived from its replica): so ixMu is not held here
// across the log, which would deadlock with this node's own apply.
func (s *Store) DeleteChat(chatID string) error {
	if !s.rep.on {
		s.ixMu.Lock() // no indexing round writes this chat's postings meanwhile
		defer s.ixMu.Unlock()
	}
	muts := []mutation{
		{key: ChatPrefix(chatID), end: upperBound(ChatPrefix(chatID)), delete: true},
		del(openKey(chatID)),
		del(entryKey(chatID)),
	}
	err := s.withDB(func(db *pebble.DB) error {
		// The words and facets of the whole log: this node's index may
		// not have folded every event yet, and in a cluster another
		// node's may have folded more (never others).
		ws := map[string]bool{}
		word := func(w string) { ws[w] = true }
		whole := &messages.ChatHistoryEntry{}
		if err := eachEvent(db, chatID, 0, func(ev *messages.ChatEvent) { fold(whole, ev, word) }); err != nil {
			return err
		}
		e := &messages.ChatHistoryEntry{}
		found, err := getFrom(db, entryKey(chatID), e)
		if err != nil {
			return err
		}
		if !found {
			e = whole
		}
		pos := historyPos(e.GetStartedAtMs(), chatID)
		fs := facets(e)
		for f := range facets(whole) {
			fs[f] = true
		}
		for f := range fs {
			muts = append(muts, del(postingKey(f, pos)))
		}
		for w := range ws {
			muts = append(muts, del(postingKey(messages.HistoryWord(w), pos)))
		}
		// The visitor's rating comment goes with the transcript (the
		// figures stay: counts only).
		if st := e.GetStats(); st.GetRating() != messages.RatingScore_RATING_SCORE_UNSPECIFIED {
			for _, d := range append([]string{dimAll}, st.GetRatedIn()...) {
				muts = append(muts, del(commentKey(d, st.GetRatedAtMs(), chatID)))
			}
		}
		return nil
	})
	if err == nil {
		err = s.writeSync(muts)
	}
	if err != nil {
		return fmt.Errorf("persistence: delete chat %s: %w", chatID, err)
	}
	return nil
}

// eachEvent calls fn with each of a chat's events after afterSeq, read
// from db.
func eachEvent(db pebble.Reader, chatID string, afterSeq uint64, fn func(*messages.ChatEvent)) error {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: chatEventKey(chatID, afterSeq+1), UpperBound: upperBound(chatEventPrefix(chatID))})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		ev := &messages.ChatEvent{}
		if err := unmarshal(it.Key(), it.Value(), ev); err != nil {
			it.Close()
			return err
		}
		fn(ev)
	}
	return it.Close()
}
