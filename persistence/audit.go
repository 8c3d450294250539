package persistence

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/switchboard-chat/switchboard/messages"
)

// AppendAudit adds an entry to the audit log. It does not wait: the entry
// is committed with the next batch, and done (which may be nil) hears how
// that went.
func (s *Store) AppendAudit(e *messages.AuditEntry, done func(error)) {
	if s.auditN.Load() == 0 {
		var b [4]byte
		rand.Read(b[:])
		s.auditN.CompareAndSwap(0, binary.BigEndian.Uint32(b[:])|1)
	}
	m, err := set(auditKey(time.UnixMilli(e.GetAtMs()), s.auditN.Add(1)), e)
	if err != nil {
		if done != nil {
			done(err)
		}
		return
	}
	s.submit([]mutation{m}, done)
}

// Audit returns the entries from from (inclusive) to to (exclusive), oldest
// first, that keep returns true for, at most limit of them.
func (s *Store) Audit(from, to time.Time, keep func(*messages.AuditEntry) bool, limit int) ([]*messages.AuditEntry, error) {
	var out []*messages.AuditEntry
	errEnough := errStop
	err := s.scanRange(auditKey(from, 0), auditKey(to, 0), func(k, v []byte) error {
		e := &messages.AuditEntry{}
		if err := unmarshal(k, v, e); err != nil {
			return err
		}
		if keep == nil || keep(e) {
			out = append(out, e)
			if len(out) >= limit {
				return errEnough
			}
		}
		return nil
	})
	if err == errEnough {
		err = nil
	}
	return out, err
}

// DeleteAuditBefore removes every audit entry older than before (the
// retention), with one range deletion, and compacts that range so the
// space comes back. A deletion frees space, so it runs even while the
// disk is low.
func (s *Store) DeleteAuditBefore(before time.Time) error {
	lo, hi := auditKey(time.Unix(0, 0), 0), auditKey(before, 0)
	if s.rep.on {
		// Every node's copy of the audit log forgets the same entries.
		return s.writeSync([]mutation{{key: lo, end: hi, delete: true}})
	}
	return s.withDB(func(db *pebble.DB) error {
		// Sync: a retention pass that returned is on disk.
		if err := db.DeleteRange(lo, hi, pebble.Sync); err != nil {
			return fmt.Errorf("persistence: delete old audit entries: %w", err)
		}
		if err := db.Compact(context.Background(), lo, hi, false); err != nil {
			return fmt.Errorf("persistence: compact old audit entries: %w", err)
		}
		return nil
	})
}
