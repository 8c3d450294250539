package persistence

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"google.golang.org/protobuf/proto"
)

// ErrClosed is returned for writes submitted after Close.
var ErrClosed = errors.New("persistence: store closed")

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// MaxBatch is the most write requests committed in one synced batch.
	// Default 4096.
	MaxBatch int
	// QueueLength is how many write requests may wait for the writer before
	// a submitter blocks. Default 65536.
	QueueLength int
	// FS is the filesystem Pebble runs on. Default: the operating system's.
	// Tests inject pebble's in-memory or fault-injecting filesystems here.
	FS vfs.FS
	// Logger receives Pebble's and the writer's messages. Default: slog's
	// default logger.
	Logger *slog.Logger
}

func (o *Options) fill() {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 4096
	}
	if o.QueueLength <= 0 {
		o.QueueLength = 65536
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Store keeps Switchboard's durable state in Pebble. Reads go straight to
// Pebble and are safe from any goroutine. Writes go through one batching
// writer goroutine: each write request is applied to a shared batch, the
// batch is committed with pebble.Sync (group commit: one fsync for every
// request that queued while the previous fsync ran), and only then is each
// request's done callback called, in submission order, from the writer
// goroutine. A done callback must not block.
type Store struct {
	db      *pebble.DB
	opts    Options
	reqs    chan *request
	stopped chan struct{}
	closing atomic.Bool
	closeMu sync.RWMutex // orders Close against submitters' sends
	wg      sync.WaitGroup
	stats   Stats
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
}

type request struct {
	muts []mutation
	done func(error)
}

// Open opens (creating if needed) the store in dir.
func Open(dir string, opts Options) (*Store, error) {
	opts.fill()
	popts := &pebble.Options{FS: opts.FS, Logger: pebbleLogger{opts.Logger},
		// Chat logs arrive as a steady stream of small appends. A 64 MiB
		// memtable (Pebble's default is 4 MiB) flushes a sixteenth as
		// often, and L0 files are compacted in larger runs: under the
		// bench's load, compaction went from 13% of the broker's CPU to a
		// few percent. The memtable's memory is touched only as it fills.
		MemTableSize: 64 << 20, L0CompactionThreshold: 4, L0StopWritesThreshold: 24}
	db, err := pebble.Open(dir, popts)
	if err != nil {
		return nil, fmt.Errorf("persistence: open %s: %w", dir, err)
	}
	s := &Store{db: db, opts: opts, reqs: make(chan *request, opts.QueueLength), stopped: make(chan struct{})}
	s.wg.Add(1)
	go s.writer()
	return s, nil
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
	s.closeMu.Unlock()
	s.wg.Wait()
	return s.db.Close()
}

func (s *Store) submit(muts []mutation, done func(error)) {
	if done == nil {
		done = func(error) {}
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closing.Load() {
		done(ErrClosed)
		return
	}
	s.reqs <- &request{muts: muts, done: done}
}

// writeSync submits muts and waits for their commit. For callers outside
// actors (administration, start-up), never from an actor's Receive.
func (s *Store) writeSync(muts []mutation) error {
	ch := make(chan error, 1)
	s.submit(muts, func(err error) { ch <- err })
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
		err := s.commit(pending)
		s.stats.Batches.Add(1)
		s.stats.Requests.Add(uint64(len(pending)))
		for _, r := range pending {
			r.done(err)
		}
		if err != nil {
			// Nothing queued behind a failed batch may land after it: a
			// chat would otherwise get sequence N+1 stored without N.
			s.opts.Logger.Error("persistence: commit failed", "err", err, "requests", len(pending))
			s.failQueued(err)
		}
		clear(pending)
	}
}

func (s *Store) failQueued(err error) {
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

func (s *Store) commit(reqs []*request) error {
	b := s.db.NewBatch()
	defer b.Close()
	for _, r := range reqs {
		for _, m := range r.muts {
			var err error
			if m.delete {
				err = b.Delete(m.key, nil)
			} else {
				err = b.Set(m.key, m.value, nil)
			}
			if err != nil {
				return fmt.Errorf("persistence: build batch: %w", err)
			}
		}
	}
	// Sync: every request in this batch is acknowledged to a user after
	// this returns, so it must be on disk first.
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("persistence: commit: %w", err)
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
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("persistence: get %q: %w", key, err)
	}
	defer closer.Close()
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
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
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
}

// scanAll decodes every value under prefix with newMsg.
func scanAll[T proto.Message](s *Store, prefix []byte, newMsg func() T) ([]T, error) {
	var out []T
	err := s.scan(prefix, func(k, v []byte) error {
		m := newMsg()
		if err := proto.Unmarshal(v, m); err != nil {
			return fmt.Errorf("persistence: decode %q: %w", k, err)
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
