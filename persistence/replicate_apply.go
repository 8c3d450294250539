// The state machine of cluster mode: every node applies the replicated
// log's commands to its own Pebble, in log order, with the same result.
// What a command's requests may do is decided here, against the state as
// the log made it: a request from a fenced writer, or a chat append that
// does not continue the stored log, is refused as a whole, the others land.

package persistence

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// The state machine's own keys: the applied index and the numbering
// counters are written in the batch of the command they describe, so a
// restart knows exactly what is applied, and every node numbers alike.
var (
	appliedKey  = []byte(prefixReplica + "applied")
	countersKey = []byte(prefixReplica + "n")
)

// originKey keeps the last command id applied from one proposer.
func originKey(origin string) []byte {
	return append([]byte(prefixReplica+"o/"), origin...)
}

func counterKey(name string) []byte {
	return append([]byte(prefixReplica+"c/"), name...)
}

func fenceKey(entity string) []byte {
	return append([]byte(prefixReplica+"f/"), entity...)
}

// ApplyCommand applies the log entry at index (a marshalled
// ReplicatedCommand) and hands its results to its proposer when that is
// this store. An entry at or below the applied index was applied before
// (the log replays after a restart) and changes nothing. An error means
// this replica could not apply it: it must stop, or it would diverge; the
// store latches it and applies and writes nothing more.
func (s *Store) ApplyCommand(index uint64, data []byte) error {
	if err := s.rep.broken.Load(); err != nil {
		return *err
	}
	if index <= s.rep.applied.Load() {
		return nil
	}
	if err := s.applyCommand(index, data); err != nil {
		s.rep.broken.Store(&err)
		return err
	}
	return nil
}

func (s *Store) applyCommand(index uint64, data []byte) error {
	cmd := &messages.ReplicatedCommand{}
	if err := proto.Unmarshal(data, cmd); err != nil {
		return fmt.Errorf("persistence: decode log entry %d: %w", index, err)
	}
	if v := cmd.GetVersion(); v > commandVersion {
		return fmt.Errorf("persistence: log entry %d is of command version %d; this build knows %d: upgrade this node", index, v, commandVersion)
	}
	res := make([]error, len(cmd.GetRequests()))
	// The counters move as the batch is built; a batch that does not land
	// must leave them as they were.
	feedN, statN, journalN := s.feedN.Load(), s.statN.Load(), s.journalN.Load()
	if deletesRange(cmd) {
		// A chat deleted (or audit pruned): no indexing round of this
		// node reads the chat's events before and writes its postings
		// after (DeleteChat).
		s.ixMu.Lock()
		defer s.ixMu.Unlock()
	}
	err := s.withDB(func(db *pebble.DB) error {
		b := db.NewIndexedBatch()
		defer b.Close()
		if again, err := proposedBefore(b, cmd); again || err != nil {
			// A proposer that lost its leader's answer proposes again:
			// the command is applied once, its results were given then.
			res = nil
			if err == nil {
				err = s.putApplied(b, index)
			}
			if err == nil {
				err = b.Commit(pebble.NoSync)
			}
			return err
		}
		if err := s.applyRequests(b, cmd, res); err != nil {
			return err
		}
		if err := s.putApplied(b, index); err != nil {
			return err
		}
		// NoSync: the log is the durable copy. After a crash the log
		// replays what Pebble lost, from the applied index written here.
		return b.Commit(pebble.NoSync)
	})
	if err != nil {
		clear(s.rep.lastSeq)
		s.feedN.Store(feedN)
		s.statN.Store(statN)
		s.journalN.Store(journalN)
		return fmt.Errorf("persistence: apply log entry %d: %w", index, err)
	}
	s.rep.applied.Store(index)
	// A command skipped as proposed before tells its proposer nil: it
	// was applied once already (that told it), or a later one of its
	// came first and it is dropped (errSuperseded).
	s.resolve(cmd, res)
	s.wakeIndexer()
	return nil
}

// applyRequests puts into b each request of cmd its guards (and the
// command's writer) let through; res gets each one's refusal. An error
// is one this replica cannot vouch for a result after (a read failed).
func (s *Store) applyRequests(b *pebble.Batch, cmd *messages.ReplicatedCommand, res []error) error {
	if err := s.checkWriter(b, cmd, res); err != nil {
		return err
	}
	var nb numbering
	for i, q := range cmd.GetRequests() {
		if res[i] != nil {
			continue // the writer was fenced
		}
		if res[i] = s.checkGuards(b, q.GetGuards()); res[i] != nil {
			if !refused(res[i]) {
				return res[i] // a read failed: no result this replica could vouch for
			}
			continue
		}
		for _, m := range q.GetMutations() {
			mut, err := decodeMutation(m)
			if err != nil {
				return err
			}
			if err := s.put(b, &nb, mut); err != nil {
				return err
			}
			if mut.delete && mut.end != nil || mut.deleteChat {
				clear(s.rep.lastSeq) // a chat's log may be gone
			}
		}
	}
	return nil
}

// deletesRange reports whether cmd deletes a range of keys (a chat).
func deletesRange(cmd *messages.ReplicatedCommand) bool {
	for _, q := range cmd.GetRequests() {
		for _, m := range q.GetMutations() {
			if m.GetKind() == messages.ReplicatedMutation_KIND_DELETE && m.GetEnd() != nil || m.GetKind() == messages.ReplicatedMutation_KIND_DELETE_CHAT {
				return true
			}
		}
	}
	return false
}

// checkWriter checks the command's writer guard (Store.WriteAs): when it
// is refused, every request's result is the refusal and none applies.
// An error is a read that failed.
func (s *Store) checkWriter(b *pebble.Batch, cmd *messages.ReplicatedCommand, res []error) error {
	w := cmd.GetWriter()
	if w == nil {
		return nil
	}
	err := s.checkGuard(b, w)
	if err == nil {
		return nil
	}
	if !refused(err) {
		return err
	}
	for i := range res {
		res[i] = err
	}
	return nil
}

// proposedBefore reports whether cmd was applied already, and otherwise
// records it as its proposer's last (a proposer proposes one command at
// a time, with rising ids).
func proposedBefore(b *pebble.Batch, cmd *messages.ReplicatedCommand) (bool, error) {
	k := originKey(cmd.GetOrigin())
	v, err := getValue(b, k)
	if err != nil {
		return false, err
	}
	if len(v) == 8 && binary.BigEndian.Uint64(v) >= cmd.GetId() {
		return true, nil
	}
	return false, b.Set(k, binary.BigEndian.AppendUint64(nil, cmd.GetId()), nil)
}

// putApplied records index and the counters in b.
func (s *Store) putApplied(b *pebble.Batch, index uint64) error {
	if err := b.Set(appliedKey, binary.BigEndian.AppendUint64(nil, index), nil); err != nil {
		return err
	}
	n := binary.BigEndian.AppendUint64(nil, s.feedN.Load())
	n = binary.BigEndian.AppendUint64(n, s.statN.Load())
	n = binary.BigEndian.AppendUint64(n, s.journalN.Load())
	return b.Set(countersKey, n, nil)
}

// seedReplica reads the applied index and the counters a replicated
// store's state machine left (Open, Restore).
func (s *Store) seedReplica(db pebble.Reader) error {
	v, err := getValue(db, appliedKey)
	if err != nil {
		return err
	}
	var applied uint64
	if len(v) == 8 {
		applied = binary.BigEndian.Uint64(v)
	}
	s.rep.applied.Store(applied)
	if v, err = getValue(db, countersKey); err != nil {
		return err
	}
	if len(v) == 24 {
		s.feedN.Store(binary.BigEndian.Uint64(v))
		s.statN.Store(binary.BigEndian.Uint64(v[8:]))
		s.journalN.Store(binary.BigEndian.Uint64(v[16:]))
	}
	return nil
}

// getValue returns a copy of key's value in r, nil when absent.
func getValue(r pebble.Reader, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return append([]byte(nil), v...), nil
}

// checkGuards decides whether a request may land, against b (the state
// with the command's earlier requests applied); a request that passes
// raises its entities' fences and moves its counters in b.
func (s *Store) checkGuards(b *pebble.Batch, guards []*messages.ReplicatedGuard) error {
	for _, g := range guards {
		if err := s.checkGuard(b, g); err != nil {
			return err
		}
	}
	for _, g := range guards {
		if err := passGuard(b, g); err != nil {
			return err
		}
		if c := g.GetChat(); c != "" {
			s.rememberSeq(c, g.GetLastSeq())
		}
	}
	return nil
}

// maxRemembered bounds lastSeq; past it, it starts afresh.
const maxRemembered = 1 << 17

func (s *Store) rememberSeq(chat string, last uint64) {
	if last == 0 {
		delete(s.rep.lastSeq, chat)
		return
	}
	if len(s.rep.lastSeq) >= maxRemembered {
		clear(s.rep.lastSeq)
	}
	s.rep.lastSeq[chat] = last
}

// chatLast is a chat's last stored sequence, remembered or read from b.
func (s *Store) chatLast(b *pebble.Batch, chat string) (uint64, error) {
	if last, ok := s.rep.lastSeq[chat]; ok {
		return last, nil
	}
	return lastChatSeq(b, chat)
}

// passGuard writes what a passed guard changes.
func passGuard(b *pebble.Batch, g *messages.ReplicatedGuard) error {
	if e := g.GetEntity(); e != "" {
		if err := b.Set(fenceKey(e), binary.BigEndian.AppendUint64(nil, g.GetEpoch()), nil); err != nil {
			return err
		}
	}
	if c := g.GetCounter(); c != "" {
		n, err := readUint(b, counterKey(c))
		if err != nil {
			return err
		}
		return b.Set(counterKey(c), binary.BigEndian.AppendUint64(nil, uint64(int64(n)+g.GetDelta())), nil)
	}
	return nil
}

// readUint reads an 8-byte big-endian value, 0 when absent.
func readUint(r pebble.Reader, key []byte) (uint64, error) {
	v, err := getValue(r, key)
	if err != nil || len(v) != 8 {
		return 0, err
	}
	return binary.BigEndian.Uint64(v), nil
}

func (s *Store) checkGuard(b *pebble.Batch, g *messages.ReplicatedGuard) error {
	if e := g.GetEntity(); e != "" {
		fence, err := readUint(b, fenceKey(e))
		if err != nil {
			return err
		}
		if fence > g.GetEpoch() {
			return fmt.Errorf("%w: %s at epoch %d, its fence is at %d", ErrFenced, e, g.GetEpoch(), fence)
		}
	}
	if c := g.GetChat(); c != "" {
		last, err := s.chatLast(b, c)
		if err != nil {
			return err
		}
		if l := g.GetLastSeq(); l != 0 && l < g.GetFirstSeq() {
			return fmt.Errorf("%w: chat %s appends %d to %d", ErrSequence, c, g.GetFirstSeq(), l)
		}
		if last+1 != g.GetFirstSeq() {
			return fmt.Errorf("%w: chat %s appends from %d, its log ends at %d", ErrSequence, c, g.GetFirstSeq(), last)
		}
	}
	if c := g.GetCounter(); c != "" {
		n, err := readUint(b, counterKey(c))
		if err != nil {
			return err
		}
		if next := int64(n) + g.GetDelta(); next < 0 || (g.GetDelta() > 0 && uint64(next) > g.GetLimit()) {
			return fmt.Errorf("%w: %s at %d%+d, its limit is %d", ErrLimit, c, n, g.GetDelta(), g.GetLimit())
		}
	}
	return nil
}

// refused tells a guard's refusal, the same on every replica, from a
// failure to read.
func refused(err error) bool {
	return errors.Is(err, ErrFenced) || errors.Is(err, ErrSequence) || errors.Is(err, ErrLimit)
}

// Fence returns the newest epoch the state machine has seen for entity
// ("kind/id"), 0 when none.
func (s *Store) Fence(entity string) (uint64, error) { return s.readUint(fenceKey(entity)) }

// Counter returns a committed counter's value (an agent's load).
func (s *Store) Counter(name string) (uint64, error) { return s.readUint(counterKey(name)) }

func (s *Store) readUint(key []byte) (n uint64, err error) {
	err = s.withDB(func(db *pebble.DB) (err error) {
		n, err = readUint(db, key)
		return err
	})
	return n, err
}
