package persistence

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// ErrClosed is returned for writes submitted after Close.
var ErrClosed = errors.New("persistence: store closed")

// ErrUnavailable wraps a storage fault (disk full, I/O error): writes fail
// with it, fast, until the store has reopened Pebble, which it tries again
// as writes come in. Nothing acknowledged is lost; a write that failed was
// never acknowledged.
var ErrUnavailable = errors.New("persistence: storage unavailable")

// reopenEvery throttles reopening attempts while storage is faulty.
const reopenEvery = 200 * time.Millisecond

// Store keeps Switchboard's durable state in Pebble. Reads go straight to
// Pebble and are safe from any goroutine. Writes go through one batching
// writer goroutine: each write request is applied to a shared batch, the
// batch is committed with pebble.Sync (group commit: one fsync for every
// request that queued while the previous fsync ran), and only then is each
// request's done callback called, in submission order, from the writer
// goroutine. A done callback must not block.
type Store struct {
	dir  string
	opts Options
	// db is nil while a fault keeps Pebble closed; fault is why. dbMu is
	// held for reading by every use of db, for writing to swap it.
	dbMu    sync.RWMutex
	db      *pebble.DB
	fault   error
	lastTry time.Time // the last reopening attempt
	reqs    chan *request
	stopped chan struct{}
	closing atomic.Bool
	closeMu sync.RWMutex // orders Close against submitters' sends
	wg      sync.WaitGroup
	stats   Stats
	auditN  atomic.Uint32 // tells apart audit entries of the same instant
	diskLow atomic.Bool   // free space under MinFreeBytes (disk.go)
	// The history indexer (history_index.go): ixMu orders its rounds
	// against DeleteChat; ixWake wakes it after a commit; feedN numbers
	// the feed's keys (the writer, at commit: in commit order);
	// feedNext, under ixMu, is the first the indexer has not read.
	ixMu     sync.Mutex
	ixWake   chan struct{}
	feedN    atomic.Uint64
	feedNext uint64
	// statN numbers the statistics events (se/) like feedN the feed.
	statN atomic.Uint64
	// journalN numbers the routing journal (rj/) the same way.
	journalN atomic.Uint64
	// journal: the routing journal's requests waiting for the writer's
	// next batch (routing.go); jmu guards it.
	jmu     sync.Mutex
	journal []*request
	// wake tells the delivery outbox of new deliveries (delivery.go).
	wake wakeHolder
	// rebuildSnap: the logs as Open found them, when the index must be
	// rebuilt; the indexer's goroutine takes it (history_index.go).
	rebuildSnap *pebble.Snapshot
	// rep: cluster mode (replicate.go); off on one node.
	rep replication
}

// errStop ends a scan early without an error.
var errStop = errors.New("persistence: stop scanning")

// unmarshal decodes the value of key k into m.
func unmarshal(k, v []byte, m proto.Message) error {
	if err := proto.Unmarshal(v, m); err != nil {
		return fmt.Errorf("persistence: decode %q: %w", k, err)
	}
	return nil
}

// Stats counts the writer's work.
type Stats struct {
	Batches  atomic.Uint64
	Requests atomic.Uint64
}

type mutation struct {
	key    []byte
	value  []byte // nil: delete
	delete bool
	end    []byte // with delete: every key in [key, end)
	feed   bool   // a history feed entry: its key is numbered at commit
	stat   bool   // a statistics event (se/): numbered at commit too
	// A routing journal entry (rj/), numbered at commit; the decisions
	// after it in the same request (decision) take its number in their
	// keys (key is the chat's routingPrefix).
	journal  bool
	decision bool
	// deleteChat, in cluster mode: delete the chat named by key, every
	// key of it as the applying node holds them (chatDeletion).
	deleteChat bool
}

type request struct {
	muts []mutation
	// guards: in cluster mode, what the state machine checks before the
	// request lands (replicate_apply.go).
	guards []*messages.ReplicatedGuard
	done   func(error)
}

// Open opens (creating if needed) the store in dir.
func Open(dir string, opts Options) (*Store, error) {
	if err := opts.EnsureDefaults().Validate(); err != nil {
		return nil, err
	}
	s := &Store{dir: dir, opts: opts, reqs: make(chan *request, opts.QueueLength), stopped: make(chan struct{}), ixWake: make(chan struct{}, 1), rep: newReplication(opts.Replicated)}
	db, err := s.openDB()
	if err != nil {
		return nil, fmt.Errorf("persistence: open %s: %w", dir, err)
	}
	if err := s.seed(db); err != nil {
		closeDB(db)
		return nil, fmt.Errorf("persistence: open %s: %w", dir, err)
	}
	s.db = db
	if opts.Metrics != nil {
		opts.Metrics.store.Store(s)
	}
	if !opts.NoHistory {
		// Before the writer starts: the rebuild's snapshot holds no
		// event appended from now on (history_index.go).
		if s.rebuildSnap, err = s.prepareRebuild(); err != nil {
			s.opts.Logger.Error("history: preparing the index's rebuild", "err", err) // the indexer tries again
		}
	}
	s.wg.Add(1)
	go s.writer()

	if !opts.NoHistory {
		s.wg.Add(1)
		go s.indexer()
	}
	if opts.MinFreeBytes > 0 {
		s.checkDisk()
		s.wg.Add(1)
		go s.watchDisk()
	}
	return s, nil
}

// openDB opens Pebble. Pebble reports some faults by calling its logger's
// Fatalf, which panics here; the panic becomes an error.
func (s *Store) openDB() (db *pebble.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: %v", ErrUnavailable, r)
		}
	}()
	return pebble.Open(s.dir, &pebble.Options{FS: s.opts.FS, Logger: pebbleLogger{s.opts.Logger},
		// Chat logs arrive as a steady stream of small appends. A 64 MiB
		// memtable (Pebble's default is 4 MiB) flushes a sixteenth as
		// often, and L0 files are compacted in larger runs: under the
		// bench's load, compaction went from 13% of the broker's CPU to a
		// few percent. The memtable's memory is touched only as it fills.
		// A 64 MiB block cache (the default is 8 MiB) keeps the hot
		// records (departments, agents, open chats' recent events) in
		// memory once a flush moved them to tables: after the first
		// flush, reading and decompressing blocks took a fifth of the
		// assignment benchmark's CPU with the default.
		MemTableSize: 64 << 20, CacheSize: 64 << 20, L0CompactionThreshold: 4, L0StopWritesThreshold: 24})
}

// withDB runs f with the open database. While a fault keeps it closed, it
// tries to reopen it (at most every reopenEvery) and otherwise fails.
func (s *Store) withDB(f func(db *pebble.DB) error) error {
	s.dbMu.RLock()
	if s.db == nil {
		s.dbMu.RUnlock()
		if err := s.reopen(); err != nil {
			return err
		}
		s.dbMu.RLock()
	}
	defer s.dbMu.RUnlock()
	if s.db == nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, s.fault)
	}
	return f(s.db)
}

// getRaw returns a copy of key's value; ok is false when it is absent.
func (s *Store) getRaw(key []byte) (value []byte, ok bool, err error) {
	err = s.withDB(func(db *pebble.DB) error {
		v, closer, err := db.Get(key)
		if errors.Is(err, pebble.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		value, ok = append([]byte(nil), v...), true
		return closer.Close()
	})
	return value, ok, err
}

// WipeWorkspace deletes everything but the secrets named in keep, so that
// nothing of the old data stays readable in the data folder: a range
// delete would leave the old values in table files until a compaction,
// and Pebble recycles old write-ahead logs without erasing them. So the
// kept secrets are read, Pebble is closed, every file in the folder is
// removed, and a fresh Pebble gets the secrets back (synced). A crash in
// between loses the kept secrets too (the broker then makes new ones at
// start). The caller makes sure nothing else uses the store meanwhile.
func (s *Store) WipeWorkspace(keep ...string) error {
	if s.rep.on {
		// Deleting a cluster's workspace is deleting every node's copy:
		// not done by removing one node's files.
		return fmt.Errorf("persistence: wipe: %w in cluster mode", errors.ErrUnsupported)
	}
	kept := map[string][]byte{}
	for _, name := range keep {
		v, ok, err := s.getRaw(secretKey(name))
		if err != nil {
			return fmt.Errorf("persistence: wipe: %w", err)
		}
		if ok {
			kept[name] = v
		}
	}
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	if s.db == nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, s.fault)
	}
	err := closeDB(s.db)
	s.db = nil
	if err == nil {
		err = s.removeFiles()
	}
	if err == nil {
		s.db, err = s.openDB()
	}
	if err != nil {
		s.fault = err
		return fmt.Errorf("persistence: wipe: %w", err)
	}
	b := s.db.NewBatch()
	defer b.Close()
	for name, v := range kept {
		if err := b.Set(secretKey(name), v, nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.Sync) // the secrets must survive the wipe
}

// removeFiles removes Pebble's files from the data folder (Pebble is
// closed): every table, log (recycled ones too: Pebble does not erase
// them), manifest, options, marker and temporary file. Anything else is
// not the store's and stays: a data folder given as "." or shared with
// other files loses nothing but the workspace.
func (s *Store) removeFiles() error {
	fs := s.opts.FS
	if fs == nil {
		fs = vfs.Default
	}
	names, err := fs.List(s.dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if !pebbleFile(n) {
			continue
		}
		if err := fs.Remove(fs.PathJoin(s.dir, n)); err != nil {
			return err
		}
	}
	return nil
}

// pebbleFile reports whether name is one of Pebble's files, as Pebble
// names them: LOCK, CURRENT, MANIFEST-n, OPTIONS-n, marker.*, *.dbtmp, and
// n.sst, n.blob, n.log (n-m.log for a WAL's later segments).
func pebbleFile(name string) bool {
	switch {
	case name == "LOCK" || name == "CURRENT" || strings.HasPrefix(name, "marker.") || strings.HasSuffix(name, ".dbtmp"):
		return true
	case strings.HasPrefix(name, "MANIFEST-"), strings.HasPrefix(name, "OPTIONS-"):
		return digits(name[strings.IndexByte(name, '-')+1:])
	}
	num, ext, ok := strings.Cut(name, ".")
	if !ok || (ext != "sst" && ext != "blob" && ext != "log") {
		return false
	}
	first, rest, _ := strings.Cut(num, "-")
	return digits(first) && (rest == "" || digits(rest))
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Healthy reports whether writes are going through (no storage fault).
func (s *Store) Healthy() bool {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	return s.fault == nil
}

// markFault records a fault that broke Pebble's commit pipeline, and
// closes Pebble at once: the failed batch may sit in its memtable without
// being on disk, and no read may see it (a resent message would be
// acknowledged from it).
func (s *Store) markFault(err error) {
	s.dbMu.Lock()
	s.fault = err
	if s.db != nil {
		if cerr := closeDB(s.db); cerr != nil {
			s.opts.Logger.Warn("persistence: closing the faulty store", "err", cerr)
		}
		s.db = nil
	}
	s.dbMu.Unlock()
	s.opts.Logger.Error("persistence: storage fault; reads and writes fail until Pebble reopens", "err", err)
}

// reopen opens Pebble again (replaying its log) after a fault, at most
// every reopenEvery. It returns nil once storage works again. Any
// goroutine may call it.
func (s *Store) reopen() error {
	now := time.Now()
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	if s.fault == nil && s.db != nil {
		return nil // another caller reopened it
	}
	if s.closing.Load() {
		return ErrClosed
	}
	if now.Sub(s.lastTry) < reopenEvery {
		return fmt.Errorf("%w: %v", ErrUnavailable, s.fault)
	}
	s.lastTry = now
	db, err := s.openDB()
	if err == nil {
		// What the log replayed may include the batch whose sync failed;
		// it is served from now on, so it must be on disk first.
		if err = flushDB(db); err != nil {
			closeDB(db)
		}
	}
	if err != nil {
		s.fault = err
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	s.db, s.fault = db, nil
	s.opts.Logger.Info("persistence: storage works again")
	return nil
}

func flushDB(db *pebble.DB) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrUnavailable, r)
		}
	}()
	return db.Flush()
}

func closeDB(db *pebble.DB) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return db.Close()
}

// Stats returns the writer's counters.
func (s *Store) Stats() *Stats { return &s.stats }

// Close finishes every write already submitted, stops the writer and closes
// Pebble. Writes submitted afterwards fail with ErrClosed.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closing.Swap(true) {
		s.closeMu.Unlock()
		return nil
	}
	close(s.reqs)
	close(s.stopped) // ends watchDisk
	s.closeMu.Unlock()
	s.wg.Wait()
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	if s.db == nil {
		return nil
	}
	err := closeDB(s.db)
	s.db = nil
	return err
}

func (s *Store) submit(muts []mutation, done func(error)) { s.submitGuarded(muts, nil, done) }

// submitGuarded submits a request that lands only if its guards hold
// (cluster mode; on one node there are none).
func (s *Store) submitGuarded(muts []mutation, guards []*messages.ReplicatedGuard, done func(error)) {
	if done == nil {
		done = func(error) {}
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closing.Load() {
		done(ErrClosed)
		return
	}
	if s.diskLow.Load() {
		done(ErrDiskLow)
		return
	}
	s.reqs <- &request{muts: muts, guards: guards, done: done}
}

// writeSync commits muts and waits for it. For callers outside actors
// (administration, start-up), never from an actor's Receive. Its writes,
// a secret or a revoked session, a few bytes each, go through while the
// disk is low: the free-space threshold is the reserve they draw on, so
// that filling the disk cannot block a logout, a secret rotation, or the
// start after a workspace deletion.
func (s *Store) writeSync(muts []mutation) error {
	ch := make(chan error, 1)
	s.closeMu.RLock()
	if s.closing.Load() {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	s.reqs <- &request{muts: muts, done: func(err error) { ch <- err }}
	s.closeMu.RUnlock()
	return <-ch
}

func (s *Store) writer() {
	defer s.wg.Done()
	pending := make([]*request, 0, s.opts.MaxBatch)
	for first := range s.reqs {
		pending = append(pending[:0], first)
	drain:
		for len(pending) < s.opts.MaxBatch {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break drain
				}
				pending = append(pending, r)
			default:
				break drain
			}
		}
		pending = s.takeJournal(pending)
		results, err := s.write(pending)
		s.finish(pending, results, err)
		if err != nil {
			// Nothing queued behind a failed batch may land after it: a
			// chat would otherwise get sequence N+1 stored without N.
			s.failQueued(err)
		}
		clear(pending)
	}
}

// finish tells a batch's requests how it went, in submission order:
// results, when set, has each request's own, else err is everyone's.
func (s *Store) finish(pending []*request, results []error, err error) {
	s.stats.Batches.Add(1)
	s.stats.Requests.Add(uint64(len(pending)))
	for i, r := range pending {
		if err == nil && results != nil {
			r.done(results[i])
			continue
		}
		r.done(err)
	}
	if err == nil {
		s.wakeIndexer()
	} else {
		s.opts.Logger.Error("persistence: commit failed", "err", err, "requests", len(pending))
	}
}

// write lands a batch: committed to Pebble on one node, through the
// replicated log in a cluster, where each request has its own result
// (results nil: err is every request's).
func (s *Store) write(pending []*request) (results []error, err error) {
	if s.rep.on {
		// One batch at a time: a batch that failed is the last one sent,
		// so nothing behind it lands (a window of batches in flight
		// would let later ones land while an earlier one was lost with
		// its leader, and measured no faster here).
		return s.replicateTimed(pending)
	}
	if !s.Healthy() {
		err = s.reopen()
	}
	if err == nil {
		err = s.commitTimed(pending)
	}
	return nil, err
}

// seed sets the numbering counters from what db holds.
func (s *Store) seed(db *pebble.DB) error {
	if err := s.seedFeed(db); err != nil {
		return err
	}
	if s.rep.on {
		return s.seedReplica(db)
	}
	return nil
}

func (s *Store) failQueued(err error) {
	for _, r := range s.takeJournal(nil) {
		r.done(err)
	}
	for {
		select {
		case r, ok := <-s.reqs:
			if !ok {
				return
			}
			r.done(err)
		default:
			return
		}
	}
}

// replicateTimed replicates reqs and, with Options.Metrics, records the
// batch as commitTimed does: its "fsync" is then the whole round, from
// the proposal to this node's apply (a quorum's fsync in between), and
// its bytes the command's.
func (s *Store) replicateTimed(reqs []*request) ([]error, error) {
	m := s.opts.Metrics
	var start time.Time
	if m != nil {
		start = time.Now()
	}
	results, n, err := s.replicate(reqs)
	if m != nil {
		m.committed(len(reqs), time.Since(start).Seconds(), n, err)
	}
	return results, err
}

// commitTimed commits reqs, records the batch in Options.Metrics when
// set (only then is the clock read), and marks a failed commit as a fault.
func (s *Store) commitTimed(reqs []*request) error {
	m := s.opts.Metrics
	var start time.Time
	if m != nil {
		start = time.Now()
	}
	n, err := s.commit(reqs)
	if m != nil {
		m.committed(len(reqs), time.Since(start).Seconds(), n, err)
	}
	if err != nil {
		s.markFault(err)
	}
	return err
}

// commit applies reqs as one synced batch: all of it lands, or none; it
// returns the batch's size in bytes. Pebble's fatal commit errors (its
// logger's Fatalf panics) become errors.
func (s *Store) commit(reqs []*request) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, fmt.Errorf("%w: %v", ErrUnavailable, r)
		}
	}()
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.db == nil {
		return 0, fmt.Errorf("%w: %v", ErrUnavailable, s.fault)
	}
	b := s.db.NewBatch()
	defer b.Close()
	var nb numbering
	for _, r := range reqs {
		for _, m := range r.muts {
			if err := s.put(b, &nb, m); err != nil {
				return 0, err
			}
		}
	}
	// Sync: every request in this batch is acknowledged to a user after
	// this returns, so it must be on disk first.
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, fmt.Errorf("%w: commit: %v", ErrUnavailable, err)
	}
	return b.Len(), nil
}

// numbering carries, through one batch, the number of its last routing
// journal entry, for the decisions after it.
type numbering struct {
	journalN  uint64
	decisionI uint16
}

// put adds m to b, numbering feed, statistics and journal entries as it
// goes (in commit order: on one node the writer's, in a cluster the
// replicated log's).
func (s *Store) put(b *pebble.Batch, nb *numbering, m mutation) error {
	var err error
	switch {
	case m.deleteChat:
		// b is the state machine's indexed batch: it reads what the
		// entry wrote before this mutation too.
		muts, err := chatDeletion(b, string(m.key))
		if err != nil {
			return fmt.Errorf("persistence: delete chat: %w", err)
		}
		for _, d := range muts {
			if err := s.put(b, nb, d); err != nil {
				return err
			}
		}
		return nil
	case m.delete && m.end != nil:
		err = b.DeleteRange(m.key, m.end, nil)
	case m.delete:
		err = b.Delete(m.key, nil)
	case m.feed:
		err = b.Set(feedKey(s.feedN.Add(1)), m.value, nil)
	case m.stat:
		err = b.Set(statsEventKey(s.statN.Add(1)), m.value, nil)
	case m.journal:
		nb.journalN, nb.decisionI = s.journalN.Add(1), 0
		err = b.Set(journalKey(nb.journalN), m.value, nil)
	case m.decision:
		err = b.Set(binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint64(m.key, nb.journalN), nb.decisionI), m.value, nil)
		nb.decisionI++
	default:
		err = b.Set(m.key, m.value, nil)
	}
	if err != nil {
		return fmt.Errorf("persistence: build batch: %w", err)
	}
	return nil
}

func set(key []byte, m proto.Message) (mutation, error) {
	v, err := proto.Marshal(m)
	if err != nil {
		return mutation{}, fmt.Errorf("persistence: marshal %T: %w", m, err)
	}
	return mutation{key: key, value: v}, nil
}

func del(key []byte) mutation { return mutation{key: key, delete: true} }

// get reads key into m. It reports false when the key is absent.
func (s *Store) get(key []byte, m proto.Message) (bool, error) {
	v, ok, err := s.getRaw(key)
	if err != nil {
		return false, fmt.Errorf("persistence: get %q: %w", key, err)
	}
	if !ok {
		return false, nil
	}
	if err := proto.Unmarshal(v, m); err != nil {
		return false, fmt.Errorf("persistence: decode %q: %w", key, err)
	}
	return true, nil
}

// scan calls fn with the value of every key under prefix, in key order.
func (s *Store) scan(prefix []byte, fn func(key, value []byte) error) error {
	return s.scanRange(prefix, upperBound(prefix), fn)
}

// scanRange calls fn for every key in [lower, upper), in key order.
func (s *Store) scanRange(lower, upper []byte, fn func(key, value []byte) error) error {
	return s.withDB(func(db *pebble.DB) error {
		it, err := db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
		if err != nil {
			return fmt.Errorf("persistence: iterate %q: %w", lower, err)
		}
		for it.First(); it.Valid(); it.Next() {
			if err := fn(it.Key(), it.Value()); err != nil {
				it.Close()
				return err
			}
		}
		if err := it.Close(); err != nil {
			return fmt.Errorf("persistence: iterate %q: %w", lower, err)
		}
		return nil
	})
}

// scanAll decodes every value under prefix with newMsg.
func scanAll[T proto.Message](s *Store, prefix []byte, newMsg func() T) ([]T, error) {
	var out []T
	err := s.scan(prefix, func(k, v []byte) error {
		m := newMsg()
		if err := unmarshal(k, v, m); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	return out, err
}

type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...interface{}) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}
func (p pebbleLogger) Errorf(format string, args ...interface{}) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}
func (p pebbleLogger) Fatalf(format string, args ...interface{}) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	panic(fmt.Sprintf(format, args...))
}
