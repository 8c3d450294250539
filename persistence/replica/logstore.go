package replica

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"
)

// logStore is Raft's log and stable store on its own Pebble: every
// StoreLogs is one synced batch, so the entries Raft batches (the
// proposals of every node) reach the disk in one fsync.
type logStore struct{ db *pebble.DB }

var (
	logPrefix    = []byte("l/")
	stablePrefix = []byte("s/")
	// errNoKey is what hashicorp/raft expects of a stable store's Get for
	// an absent key ("not found" in its text).
	errNoKey = errors.New("not found")
)

func openLogStore(dir string, log *slog.Logger) (*logStore, error) {
	db, err := pebble.Open(dir, &pebble.Options{MemTableSize: 16 << 20, Logger: pebbleLogger{log}})
	if err != nil {
		return nil, fmt.Errorf("replica: open the log store: %w", err)
	}
	return &logStore{db: db}, nil
}

func (p *logStore) Close() error { return p.db.Close() }

func logKey(i uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), logPrefix...), i)
}

func (p *logStore) edge(first bool) (uint64, error) {
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: logPrefix, UpperBound: []byte("l0")})
	if err != nil {
		return 0, err
	}
	ok := it.First()
	if !first {
		ok = it.Last()
	}
	var i uint64
	if ok {
		i = binary.BigEndian.Uint64(it.Key()[len(logPrefix):])
	}
	return i, it.Close()
}

func (p *logStore) FirstIndex() (uint64, error) { return p.edge(true) }
func (p *logStore) LastIndex() (uint64, error)  { return p.edge(false) }

// An entry's value: term, type, then the data; the rest of raft.Log (its
// append time, extensions) is not kept.
func (p *logStore) GetLog(i uint64, l *raft.Log) error {
	v, c, err := p.db.Get(logKey(i))
	if errors.Is(err, pebble.ErrNotFound) {
		return raft.ErrLogNotFound
	}
	if err != nil {
		return err
	}
	defer c.Close()
	if len(v) < 9 {
		return fmt.Errorf("replica: log entry %d is %d bytes", i, len(v))
	}
	l.Index, l.Term, l.Type = i, binary.BigEndian.Uint64(v), raft.LogType(v[8])
	l.Data = append([]byte(nil), v[9:]...)
	return nil
}

func (p *logStore) StoreLog(l *raft.Log) error { return p.StoreLogs([]*raft.Log{l}) }

func (p *logStore) StoreLogs(ls []*raft.Log) error {
	b := p.db.NewBatch()
	defer b.Close()
	for _, l := range ls {
		v := make([]byte, 0, 9+len(l.Data))
		v = binary.BigEndian.AppendUint64(v, l.Term)
		v = append(v, byte(l.Type))
		v = append(v, l.Data...)
		if err := b.Set(logKey(l.Index), v, nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.Sync)
}

func (p *logStore) DeleteRange(lo, hi uint64) error {
	return p.db.DeleteRange(logKey(lo), logKey(hi+1), pebble.Sync)
}

func (p *logStore) Set(k, v []byte) error {
	return p.db.Set(append(append([]byte(nil), stablePrefix...), k...), v, pebble.Sync)
}

func (p *logStore) Get(k []byte) ([]byte, error) {
	v, c, err := p.db.Get(append(append([]byte(nil), stablePrefix...), k...))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, errNoKey
	}
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return append([]byte(nil), v...), nil
}

func (p *logStore) SetUint64(k []byte, v uint64) error {
	return p.Set(k, binary.BigEndian.AppendUint64(nil, v))
}

func (p *logStore) GetUint64(k []byte) (uint64, error) {
	v, err := p.Get(k)
	if errors.Is(err, errNoKey) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("replica: stable value %q is %d bytes", k, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// pebbleLogger keeps the log store's Pebble quiet but for its errors.
type pebbleLogger struct{ l *slog.Logger }

func (pebbleLogger) Infof(string, ...interface{}) {}
func (p pebbleLogger) Errorf(format string, args ...interface{}) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "raft-log")
}
func (p pebbleLogger) Fatalf(format string, args ...interface{}) {
	p.Errorf(format, args...)
	panic(fmt.Sprintf(format, args...))
}
