package persistence

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// The history indexer keeps the history index (h/) up to date from the
// chat logs, in the background, off the chats' write path.
//
// AppendChat adds, in the same synced batch as the events, one key to the
// history feed (x/<n>: the chat's id). The indexer, one goroutine, wakes
// after each commit, reads the feed in order, folds each named chat's
// events after its entry's indexed_seq into the entry and its postings,
// and deletes the feed keys it read, all in one batch. So the feed is the
// durable high-water mark: a crash before that batch lands leaves the
// feed keys, and the next start indexes those chats again (folding is
// idempotent: it starts from the entry's indexed_seq). The index batch is
// committed NoSync: it is derived data, and losing it loses the feed's
// deletions with it (Pebble's log keeps batches in order), so nothing is
// lost, only redone.
//
// At start, an index whose h/meta is missing or of another version is
// rebuilt from the logs (every chat under c/), while chats go on: the
// feed keeps what arrives meanwhile.

// indexBatch is the most feed keys one indexing round reads.
const indexBatch = 2048

// indexGather is how long the indexer lets the feed grow after a commit
// woke it: what a search may lag behind the chats, at most, when the
// indexer keeps up.
const indexGather = 250 * time.Millisecond

// indexRetry is how long the indexer waits after a storage fault.
const indexRetry = time.Second

// seedFeed sets the feed's counter after its last key.
func (s *Store) seedFeed(db *pebble.DB) error {
	n, err := lastNumber(db, prefixFeed)
	if err != nil {
		return err
	}
	s.feedN.Store(n)
	n, err = lastNumber(db, prefixStatEv)
	s.statN.Store(n)
	if err != nil {
		return err
	}
	n, err = lastNumber(db, prefixJournal)
	s.journalN.Store(n)
	return err
}

// lastNumber is the number of the last key under prefix whose keys are
// prefix and 8 bytes big-endian (0: none).
func lastNumber(db pebble.Reader, prefix string) (uint64, error) {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte(prefix), UpperBound: upperBound([]byte(prefix))})
	if err != nil {
		return 0, err
	}
	var n uint64
	if it.Last() && len(it.Key()) == len(prefix)+8 {
		n = binary.BigEndian.Uint64(it.Key()[len(prefix):])
	}
	return n, it.Close()
}

// feedMutation is the feed entry AppendChat adds for chatID: the writer
// numbers it as it builds the batch, so the feed's order is the order of
// commits, and the indexer, which reads on from the last number it read,
// never passes over one that lands later.
func feedMutation(chatID string) mutation {
	return mutation{feed: true, value: []byte(chatID)}
}

// wakeIndexer tells the indexer the feed may have grown; it never blocks.
func (s *Store) wakeIndexer() {
	select {
	case s.ixWake <- struct{}{}:
	default:
	}
}

// indexer is the indexer's goroutine: it rebuilds the index when it must,
// then follows the feed until Close.
func (s *Store) indexer() {
	defer s.wg.Done()
	if snap := s.rebuildSnap; snap != nil {
		s.rebuildSnap = nil
		err := s.rebuildFrom(snap)
		snap.Close()
		if err != nil {
			s.opts.Logger.Error("history: rebuilding the index", "err", err)
		}
	}
	for !s.closing.Load() {
		if err := s.rebuildIfNeeded(); err != nil {
			s.opts.Logger.Error("history: rebuilding the index", "err", err)
			if !s.pause(indexRetry) {
				return
			}
			continue
		}
		break
	}
	for {
		n, err := s.IndexFeed(indexBatch)
		switch {
		case err != nil:
			if !errors.Is(err, ErrClosed) {
				s.opts.Logger.Error("history: indexing", "err", err)
			}
			if !s.pause(indexRetry) {
				return
			}
		case n < indexBatch:
			// Caught up: wait for a commit, then a little more, so that a
			// busy store is indexed in rounds of many messages (one entry
			// rewrite and one batch per chat and round, not per message).
			select {
			case <-s.stopped:
				return
			case <-s.ixWake:
			}
			if !s.pause(indexGather) {
				return
			}
		}
	}
}

// pause waits d, or until Close (then it returns false).
func (s *Store) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.stopped:
		return false
	case <-t.C:
		return true
	}
}

// IndexFeed indexes the chats named by at most limit feed keys, and
// returns how many keys it read. The indexer calls it; tests and
// benchmarks may call it to index synchronously.
func (s *Store) IndexFeed(limit int) (int, error) {
	if s.closing.Load() {
		return 0, ErrClosed
	}
	s.ixMu.Lock()
	defer s.ixMu.Unlock()
	var n int
	next := s.feedNext
	var dr *deliveryRound
	err := s.withDB(func(db *pebble.DB) error {
		b := db.NewBatch()
		defer b.Close()
		chats := map[string]bool{}
		// From the first key not read: the keys read before are deleted,
		// and their tombstones are not walked over again.
		it, err := db.NewIter(&pebble.IterOptions{LowerBound: feedKey(s.feedNext), UpperBound: upperBound([]byte(prefixFeed))})
		if err != nil {
			return err
		}
		var first, last []byte
		for ok := it.First(); ok && n < limit; ok = it.Next() {
			n++
			chats[string(it.Value())] = true
			last = append(last[:0], it.Key()...)
			if first == nil {
				first = append([]byte(nil), it.Key()...)
			}
		}
		if err := it.Close(); err != nil {
			return err
		}
		r := s.statsRound(db, b)
		dr = newDeliveryRound(db, b)
		if n > 0 {
			next = binary.BigEndian.Uint64(last[len(prefixFeed):]) + 1
			if err := b.DeleteRange(first, feedKey(next), nil); err != nil {
				return err
			}
		}
		for id := range chats {
			if err := indexChat(db, b, r, dr, id); err != nil {
				return err
			}
		}
		if dr.err != nil {
			return dr.err
		}
		folded, err := r.foldEvents(limit)
		if err != nil {
			return err
		}
		n += folded
		if n == 0 {
			return nil
		}
		if err := r.flush(); err != nil {
			return err
		}
		// NoSync: derived data; see the comment at the top of this file.
		return b.Commit(pebble.NoSync)
	})
	if err != nil {
		return 0, fmt.Errorf("history: index: %w", err)
	}
	s.feedNext = next
	s.tellDeliveries(dr.out)
	return n, nil
}

// indexChat folds a chat's events after its entry's indexed_seq into b:
// the entry, the postings of the facets it gained (those it lost are
// deleted) and of the words of the new events; and hands the new events
// to the delivery round dr (nil: none, for a rebuild).
func indexChat(db pebble.Reader, b *pebble.Batch, r *statsRound, dr *deliveryRound, chatID string) error {
	e := &messages.ChatHistoryEntry{}
	found, err := getFrom(db, entryKey(chatID), e)
	if err != nil {
		return err
	}
	before := map[string]bool{} // a new entry has no postings yet
	if found {
		before = facets(e)
	} else {
		e.ChatId = chatID
	}
	started := e.GetStartedAtMs()
	ws := map[string]bool{}
	seen := false
	err = eachEvent(db, chatID, e.GetIndexedSeq(), func(ev *messages.ChatEvent) {
		seen = true
		fold(e, ev, func(w string) { ws[w] = true })
		if r != nil {
			if e.Stats == nil {
				e.Stats = &messages.StatsChatState{}
			}
			r.chatEvent(e.Stats, ev)
		}
		dr.chatEvent(e, ev)
	})
	if err != nil {
		return err
	}
	if !seen {
		return nil
	}
	if started != 0 && started != e.GetStartedAtMs() {
		// The start moved (a log indexed before its first event was
		// stored: never with AppendChat's order): drop the old postings.
		old := historyPos(started, chatID)
		for f := range before {
			if err := b.Delete(postingKey(f, old), nil); err != nil {
				return err
			}
		}
		before = nil
	}
	pos := historyPos(e.GetStartedAtMs(), chatID)
	after := facets(e)
	for f := range before {
		if !after[f] {
			if err := b.Delete(postingKey(f, pos), nil); err != nil {
				return err
			}
		}
	}
	for f := range after {
		if !before[f] {
			if err := b.Set(postingKey(f, pos), nil, nil); err != nil {
				return err
			}
		}
	}
	for w := range ws {
		if err := b.Set(postingKey(messages.HistoryWord(w), pos), nil, nil); err != nil {
			return err
		}
	}
	return setIn(b, entryKey(chatID), e)
}

// rebuildIfNeeded rebuilds the index from the logs when h/meta is
// missing or of another version.
func (s *Store) rebuildIfNeeded() error {
	snap, err := s.prepareRebuild()
	if snap == nil || err != nil {
		return err
	}
	defer snap.Close()
	return s.rebuildFrom(snap)
}

// prepareRebuild drops the index when h/meta is missing or of another
// version and returns a snapshot of the logs to rebuild it from (nil: no
// rebuild needed). Open calls it before anything is appended, so that
// the rebuild folds exactly the events stored before the start: those
// appended later are the feed's, whose rounds also make their deliveries
// (a rebuild makes none).
func (s *Store) prepareRebuild() (*pebble.Snapshot, error) {
	v, ok, err := s.getRaw(historyMetaKey)
	if err != nil || (ok && string(v) == historyVersion) {
		return nil, err
	}
	if err := s.dropHistory(); err != nil {
		return nil, err
	}
	var snap *pebble.Snapshot
	err = s.withDB(func(db *pebble.DB) error { snap = db.NewSnapshot(); return nil })
	return snap, err
}

// rebuildFrom rebuilds the dropped index from the logs as snap holds
// them.
func (s *Store) rebuildFrom(snap *pebble.Snapshot) error {
	start := time.Now()
	n := 0
	var after []byte
	for !s.closing.Load() {
		ids, err := s.chatIDs(after, 256)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			break
		}
		if err := s.indexChats(snap, ids); err != nil {
			return err
		}
		n += len(ids)
		after = upperBound(ChatPrefix(ids[len(ids)-1]))
	}
	if s.closing.Load() {
		return nil
	}
	err := s.withDB(func(db *pebble.DB) error {
		// Sync: the rebuild is done and need not run again.
		return db.Set(historyMetaKey, []byte(historyVersion), pebble.Sync)
	})
	s.opts.Logger.Info("history: index rebuilt from the logs", "chats", n, "took", time.Since(start).Round(time.Millisecond))
	return err
}

// indexChats indexes chats in one batch, their events as logs holds
// them (the statistics' buckets as they are now).
func (s *Store) indexChats(logs pebble.Reader, ids []string) error {
	s.ixMu.Lock()
	defer s.ixMu.Unlock()
	return s.withDB(func(db *pebble.DB) error {
		b := db.NewBatch()
		defer b.Close()
		r := s.statsRound(db, b)
		for _, id := range ids {
			// Deleted since the snapshot (DeleteChat takes ixMu): not
			// indexed again.
			if ok, err := hasEvents(db, id); err != nil || !ok {
				if err != nil {
					return err
				}
				continue
			}
			// No delivery round: a rebuild delivers nothing again.
			if err := indexChat(logs, b, r, nil, id); err != nil {
				return err
			}
		}
		if err := r.flush(); err != nil {
			return err
		}
		return b.Commit(pebble.NoSync) // derived: a crash rebuilds it
	})
}

// hasEvents reports whether chat id has events in db.
func hasEvents(db pebble.Reader, id string) (bool, error) {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: chatEventPrefix(id), UpperBound: upperBound(chatEventPrefix(id))})
	if err != nil {
		return false, err
	}
	ok := it.First()
	return ok, it.Close()
}

// chatIDs lists up to n chat ids from key from on, skipping over each
// chat's keys.
func (s *Store) chatIDs(from []byte, n int) ([]string, error) {
	if from == nil {
		from = []byte(prefixChat)
	}
	var ids []string
	err := s.withDB(func(db *pebble.DB) error {
		it, err := db.NewIter(&pebble.IterOptions{LowerBound: from, UpperBound: upperBound([]byte(prefixChat))})
		if err != nil {
			return err
		}
		for ok := it.First(); ok && len(ids) < n; {
			id := chatIDOf(it.Key())
			if id == "" {
				ok = it.Next()
				continue
			}
			ids = append(ids, id)
			ok = it.SeekGE(upperBound(ChatPrefix(id)))
		}
		return it.Close()
	})
	return ids, err
}

// dropHistory deletes the whole index (h/), so that the next start
// rebuilds it from the logs. The feed stays: what it names is indexed
// again, which changes nothing.
func (s *Store) dropHistory() error {
	s.ixMu.Lock()
	defer s.ixMu.Unlock()
	return s.withDB(func(db *pebble.DB) error {
		// Sync: a dropped index must not come back half.
		return db.DeleteRange([]byte(prefixHist), upperBound([]byte(prefixHist)), pebble.Sync)
	})
}

// DropHistory deletes the history index; the broker's next start
// rebuilds it from the chat logs. For tests and repairs: call it on a
// store no broker serves.
func (s *Store) DropHistory() error { return s.dropHistory() }

// getFrom reads key from r into m; it reports false when absent.
func getFrom(r pebble.Reader, key []byte, m proto.Message) (bool, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer closer.Close()
	return true, unmarshal(key, v, m)
}

// setIn adds key = m to b.
func setIn(b *pebble.Batch, key []byte, m proto.Message) error {
	v, err := proto.Marshal(m)
	if err != nil {
		return fmt.Errorf("persistence: marshal %T: %w", m, err)
	}
	return b.Set(key, v, nil)
}

// Reindex rebuilds the history index and the statistics of the store in
// dir from its chat logs and statistics events, at once, and returns how
// many feed keys and events it folded after the rebuild. For `switchboard
// reindex`: no broker may serve dir meanwhile (Pebble's lock refuses a
// second opener).
func Reindex(dir string, opts Options) (int, error) {
	opts.NoHistory = true // no indexer goroutine: this call does its work
	s, err := Open(dir, opts)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	if err := s.dropHistory(); err != nil {
		return 0, err
	}
	if err := s.rebuildIfNeeded(); err != nil {
		return 0, err
	}
	total := 0
	for {
		n, err := s.IndexFeed(indexBatch)
		if err != nil || n == 0 {
			return total, err
		}
		total += n
	}
}
