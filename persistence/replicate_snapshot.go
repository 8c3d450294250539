// Snapshots of the replicated state machine: the whole store at one
// applied index, streamed to a node that is too far behind to replay the
// log (or a new one), and loaded there in place of its own state.

package persistence

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/cockroachdb/pebble/v2"
)

// restoreBatchBytes bounds one batch of a restore.
const restoreBatchBytes = 4 << 20

// Snapshot is a point-in-time view of the store; Release it once written.
type Snapshot struct {
	snap *pebble.Snapshot
	// Index is the last log entry it includes.
	Index uint64
}

// TakeSnapshot captures the store as it is now. The replicated log calls
// it between two commands, so the view is exactly the applied index.
func (s *Store) TakeSnapshot() (*Snapshot, error) {
	var out *Snapshot
	err := s.withDB(func(db *pebble.DB) error {
		// What the snapshot covers may be compacted out of the log after
		// it: first make it durable here too (applies are not synced).
		if err := db.LogData(nil, pebble.Sync); err != nil {
			return err
		}
		out = &Snapshot{snap: db.NewSnapshot(), Index: s.rep.applied.Load()}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("persistence: snapshot: %w", err)
	}
	return out, nil
}

// WriteTo streams every key and value: a uvarint length and the bytes of
// each, a zero length at the end.
func (sn *Snapshot) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	it, err := sn.snap.NewIter(nil)
	if err != nil {
		return 0, err
	}
	var n int64
	var hdr [binary.MaxVarintLen64]byte
	for it.First(); it.Valid(); it.Next() {
		for _, part := range [][]byte{it.Key(), it.Value()} {
			k := binary.PutUvarint(hdr[:], uint64(len(part)))
			bw.Write(hdr[:k])
			bw.Write(part)
			n += int64(k + len(part))
		}
	}
	if err := it.Close(); err != nil {
		return n, err
	}
	bw.WriteByte(0)
	return n + 1, bw.Flush()
}

// Release frees the view.
func (sn *Snapshot) Release() { sn.snap.Close() }

// errSnapshotFormat: a snapshot stream that is cut short or malformed.
var errSnapshotFormat = errors.New("persistence: malformed snapshot")

// Restore replaces the whole store with a snapshot's content. The
// replicated log calls it between two commands; the history indexer
// starts over from the restored feed.
func (s *Store) Restore(r io.Reader) error {
	s.ixMu.Lock()
	defer s.ixMu.Unlock()
	br := bufio.NewReaderSize(r, 1<<16)
	err := s.withDB(func(db *pebble.DB) error {
		// The marker says, until the last batch deletes it, that the
		// store holds part of a snapshot (a crash in between: Restoring).
		b := db.NewBatch()
		err := b.DeleteRange([]byte{}, []byte{0xff}, nil)
		if err == nil {
			err = b.Set(restoringKey, nil, nil)
		}
		if err == nil {
			err = b.Commit(pebble.Sync)
		}
		b.Close()
		if err != nil {
			return err
		}
		if err := loadPairs(db, br); err != nil {
			return err
		}
		if err := s.seedFeed(db); err != nil {
			return err
		}
		return s.seedReplica(db)
	})
	if err != nil {
		return fmt.Errorf("persistence: restore: %w", err)
	}
	s.feedNext = 0
	clear(s.rep.lastSeq)
	s.wakeIndexer()
	return nil
}

// restoringKey marks a store in the middle of a restore.
var restoringKey = []byte(prefixReplica + "restoring")

// Restoring reports whether a restore was cut short (a crash): the store
// holds part of a snapshot and must be restored again before it serves.
func (s *Store) Restoring() bool {
	_, ok, err := s.getRaw(restoringKey)
	return ok || err != nil
}

// loadPairs writes the snapshot's pairs in bounded batches; the last one
// is synced (the log after it may be compacted away).
func loadPairs(db *pebble.DB, br *bufio.Reader) error {
	b := db.NewBatch()
	for {
		key, err := readPart(br)
		if err != nil {
			b.Close()
			return err
		}
		if key == nil {
			err = b.Delete(restoringKey, nil)
			if err == nil {
				err = b.Commit(pebble.Sync)
			}
			b.Close()
			return err
		}
		value, err := readPart(br)
		if err == nil && value == nil {
			value = []byte{}
		}
		if err == nil {
			err = b.Set(key, value, nil)
		}
		if err == nil && b.Len() >= restoreBatchBytes {
			if err = b.Commit(pebble.NoSync); err == nil {
				b.Close()
				b = db.NewBatch()
			}
		}
		if err != nil {
			b.Close()
			return err
		}
	}
}

// readPart reads one length-prefixed part; nil at the end mark.
func readPart(br *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errSnapshotFormat, err)
	}
	if n == 0 {
		return nil, nil
	}
	if n > 1<<30 {
		return nil, fmt.Errorf("%w: a part of %d bytes", errSnapshotFormat, n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		return nil, fmt.Errorf("%w: %v", errSnapshotFormat, err)
	}
	return p, nil
}
