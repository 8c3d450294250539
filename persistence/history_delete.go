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
// In cluster mode it goes through the log as one "delete chat" mutation:
// each node's state machine works out the keys from its own replica and
// its own index (which may be ahead of or behind this node's), holding
// its indexer off meanwhile (replicate_apply.go).
func (s *Store) DeleteChat(chatID string) error {
	var muts []mutation
	if s.rep.on {
		muts = []mutation{{key: []byte(chatID), deleteChat: true}}
	} else {
		s.ixMu.Lock() // no indexing round writes this chat's postings meanwhile
		defer s.ixMu.Unlock()
		err := s.withDB(func(db *pebble.DB) error {
			var err error
			muts, err = chatDeletion(db, chatID)
			return err
		})
		if err != nil {
			return fmt.Errorf("persistence: delete chat %s: %w", chatID, err)
		}
	}
	if err := s.writeSync(muts); err != nil {
		return fmt.Errorf("persistence: delete chat %s: %w", chatID, err)
	}
	return nil
}

// chatDeletion is every key of a chat to delete, as r holds them: its
// logs and files, its open-chats entry, its history entry, its postings
// and its rating comment.
func chatDeletion(r pebble.Reader, chatID string) ([]mutation, error) {
	muts := []mutation{
		{key: ChatPrefix(chatID), end: upperBound(ChatPrefix(chatID)), delete: true},
		del(openKey(chatID)),
		del(entryKey(chatID)),
	}
	// The words and facets of the whole log, and those of the entry: an
	// index that had not folded every event yet has fewer.
	ws := map[string]bool{}
	word := func(w string) { ws[w] = true }
	whole := &messages.ChatHistoryEntry{}
	if err := eachEvent(r, chatID, 0, func(ev *messages.ChatEvent) { fold(whole, ev, word) }); err != nil {
		return nil, err
	}
	e := &messages.ChatHistoryEntry{}
	found, err := getFrom(r, entryKey(chatID), e)
	if err != nil {
		return nil, err
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
	return muts, nil
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
