// Cluster mode (issue 15): the store under a replicated log. The writer
// batches requests as on one node, but instead of committing the batch to
// Pebble it proposes it to the log as one command; every node's state
// machine (replicate_apply.go) applies each command to its own Pebble in
// log order, and the proposing node acknowledges a request once its own
// state machine applied it, so a node reads its own writes.

package persistence

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// Replicator is the replicated log under a Store in cluster mode
// (persistence/replica implements it on hashicorp/raft).
type Replicator interface {
	// Propose sends cmd to the log, after every command this store
	// proposed before it, and returns at once a wait that reports when
	// the log committed it (nil) or failed. A failure may still commit
	// later (the leader fell while the command travelled): the request
	// was never acknowledged, and if it is proposed again, or a later
	// command of this store is applied first, it is applied at most once.
	Propose(cmd []byte) (wait func() error)
}

// ErrFenced refuses a write whose writer's epoch is older than the newest
// its entity has seen: another node took the entity over. The writer must
// stop serving it.
var ErrFenced = errors.New("persistence: fenced: a newer owner writes this entity")

// ErrSequence refuses a chat append that does not continue the chat's
// stored log (a gap, or a sequence already stored).
var ErrSequence = errors.New("persistence: chat sequence does not follow the stored log")

// ErrLimit refuses a request that would take a committed counter over its
// limit (an agent over their chat limit) or below zero.
var ErrLimit = errors.New("persistence: over the limit")

// errSuperseded: a command of this store that reached the log after a
// later one of its own; it is not applied (see proposedBefore).
var errSuperseded = fmt.Errorf("%w: the write reached the log after a later one and was dropped", ErrUnavailable)

// commandVersion is the format of the commands this build proposes and
// the newest it applies (ReplicatedCommand.version; 0 is the first
// build's, the same format).
const commandVersion = 1

// DefaultApplyWait is how long a proposer waits for its own state machine
// to apply a committed command before it reports ErrUnavailable.
const DefaultApplyWait = 10 * time.Second

// replication is a Store's cluster-mode state; on is false on one node.
type replication struct {
	on bool
	r  atomic.Pointer[replicatorBox]
	// origin names this opening of the store in the commands it proposes
	// (a restart must not take a replayed old command for a new one).
	origin string
	nextID atomic.Uint64
	// broken: why this replica could not apply an entry; from then on
	// it applies nothing and writes nothing (it would diverge).
	broken atomic.Pointer[error]
	// applied is the index of the last command applied (also kept in
	// the store, in the batch that applied it).
	applied atomic.Uint64
	mu      sync.Mutex
	waiting map[uint64]chan []error
	// lastSeq: each chat's last stored sequence as the state machine
	// last saw it (its goroutine only): checking an append's sequence
	// then needs no read. Derived from the state, so the same on every
	// replica; cleared by a range deletion, a restore, or its size.
	lastSeq map[string]uint64
	// writer: the ownership every command of this store proposes under
	// (WriteAs); nil: none.
	writer atomic.Pointer[messages.ReplicatedGuard]
	// sealed: this node handed its ownership on (Seal).
	sealed atomic.Bool
}

// inflight is a proposed batch waiting for its outcome.
type inflight struct {
	id    uint64
	ch    chan []error
	wait  func() error
	bytes int // the command's
}

type replicatorBox struct{ r Replicator }

func newReplication(on bool) replication {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return replication{on: on, origin: hex.EncodeToString(b[:]), waiting: map[uint64]chan []error{}, lastSeq: map[string]uint64{}}
}

// Replicated reports whether the store is in cluster mode.
func (s *Store) Replicated() bool { return s.rep.on }

// Attach sets the replicated log the writer proposes to. Until it is set,
// writes of a replicated store fail with ErrUnavailable.
func (s *Store) Attach(r Replicator) { s.rep.r.Store(&replicatorBox{r}) }

// AppliedIndex is the index of the last log entry the store applied.
func (s *Store) AppliedIndex() uint64 { return s.rep.applied.Load() }

// Guard lands a request of guards alone, in cluster mode: Claim an
// entity at a new epoch (its fence rises, so the old owner's writes are
// refused from now on), or an assignment's load move checked against
// fences and a limit. On one node there is nothing to check against:
// it fails with errors.ErrUnsupported.
func (s *Store) Guard(guards []*messages.ReplicatedGuard, done func(error)) {
	if !s.rep.on {
		done(fmt.Errorf("persistence: guards: %w on one node", errors.ErrUnsupported))
		return
	}
	s.submitGuarded(nil, guards, done)
}

// Claim raises entity's fence to epoch (a new owner's first write).
func (s *Store) Claim(entity string, epoch uint64, done func(error)) {
	s.Guard([]*messages.ReplicatedGuard{{Entity: entity, Epoch: epoch}}, done)
}

// WriteAs makes every later command of this store carry entity's fence
// at epoch: once a newer owner claimed entity, this store's writes are
// all refused with ErrFenced and change nothing. Cluster mode runs the
// actors on one owner at a time (`broker/main`); the node that wins the
// ownership claims it, then writes as it.
func (s *Store) WriteAs(entity string, epoch uint64) {
	s.rep.writer.Store(&messages.ReplicatedGuard{Entity: entity, Epoch: epoch})
}

// Seal refuses every later write of this store at once (ErrFenced),
// without proposing it: the node handed the actors to another, and
// nothing it still has running may write as their owner.
func (s *Store) Seal() { s.rep.sealed.Store(true) }

// replicate sends a batch to the log as one command and waits until this
// node applied it; it returns each request's result, or an error that
// fails them all, and the command's size.
func (s *Store) replicate(reqs []*request) ([]error, int, error) {
	f, err := s.propose(reqs)
	if err != nil {
		return nil, 0, err
	}
	defer func() {
		s.rep.mu.Lock()
		delete(s.rep.waiting, f.id)
		s.rep.mu.Unlock()
	}()
	results, err := s.outcome(f)
	return results, f.bytes, err
}

func (s *Store) propose(reqs []*request) (*inflight, error) {
	if err := s.rep.broken.Load(); err != nil {
		return nil, fmt.Errorf("%w: this replica stopped following the log: %v", ErrUnavailable, *err)
	}
	if s.rep.sealed.Load() {
		return nil, fmt.Errorf("%w: this node handed its actors on", ErrFenced)
	}
	box := s.rep.r.Load()
	if box == nil {
		return nil, fmt.Errorf("%w: the replicated log is not ready", ErrUnavailable)
	}
	f := &inflight{id: s.rep.nextID.Add(1), ch: make(chan []error, 1)}
	cmd := &messages.ReplicatedCommand{Origin: s.rep.origin, Id: f.id, Requests: make([]*messages.ReplicatedRequest, len(reqs)),
		Writer: s.rep.writer.Load(), Version: commandVersion}
	for i, r := range reqs {
		cmd.Requests[i] = encodeRequest(r)
	}
	data, err := proto.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("persistence: marshal command: %w", err)
	}
	f.bytes = len(data)
	s.rep.mu.Lock()
	s.rep.waiting[f.id] = f.ch
	s.rep.mu.Unlock()
	f.wait = box.r.Propose(data)
	return f, nil
}

func failed(err error) func() error { return func() error { return err } }

// outcome waits until the log committed f and this node applied it.
func (s *Store) outcome(f *inflight) ([]error, error) {
	if err := f.wait(); err != nil {
		return nil, err
	}
	t := time.NewTimer(s.opts.ApplyWait)
	defer t.Stop()
	select {
	case res := <-f.ch:
		if res == nil {
			return nil, errSuperseded
		}
		return res, nil
	case <-t.C:
		return nil, fmt.Errorf("%w: committed, but not applied here within %s", ErrUnavailable, s.opts.ApplyWait)
	}
}

// applied hands a command's results to its proposer, when it is this
// store and still waiting.
func (s *Store) resolve(cmd *messages.ReplicatedCommand, res []error) {
	if cmd.GetOrigin() != s.rep.origin {
		return
	}
	s.rep.mu.Lock()
	ch := s.rep.waiting[cmd.GetId()]
	s.rep.mu.Unlock()
	if ch != nil {
		select {
		case ch <- res:
		default: // told already (a command proposed twice)
		}
	}
}

func encodeRequest(r *request) *messages.ReplicatedRequest {
	q := &messages.ReplicatedRequest{Mutations: make([]*messages.ReplicatedMutation, len(r.muts)), Guards: r.guards}
	for i, m := range r.muts {
		q.Mutations[i] = encodeMutation(m)
	}
	return q
}

func encodeMutation(m mutation) *messages.ReplicatedMutation {
	out := &messages.ReplicatedMutation{Key: m.key, Value: m.value, End: m.end}
	switch {
	case m.delete:
		out.Kind = messages.ReplicatedMutation_KIND_DELETE
	case m.feed:
		out.Kind = messages.ReplicatedMutation_KIND_FEED
	case m.stat:
		out.Kind = messages.ReplicatedMutation_KIND_STAT
	case m.journal:
		out.Kind = messages.ReplicatedMutation_KIND_JOURNAL
	case m.decision:
		out.Kind = messages.ReplicatedMutation_KIND_DECISION
	case m.deleteChat:
		out.Kind = messages.ReplicatedMutation_KIND_DELETE_CHAT
	}
	return out
}

func decodeMutation(m *messages.ReplicatedMutation) (mutation, error) {
	out := mutation{key: m.GetKey(), value: m.GetValue()}
	switch m.GetKind() {
	case messages.ReplicatedMutation_KIND_SET:
	case messages.ReplicatedMutation_KIND_DELETE:
		out.delete, out.end = true, m.GetEnd()
	case messages.ReplicatedMutation_KIND_FEED:
		out.feed = true
	case messages.ReplicatedMutation_KIND_STAT:
		out.stat = true
	case messages.ReplicatedMutation_KIND_JOURNAL:
		out.journal = true
	case messages.ReplicatedMutation_KIND_DECISION:
		out.decision = true
	case messages.ReplicatedMutation_KIND_DELETE_CHAT:
		out.deleteChat = true
	default:
		return mutation{}, fmt.Errorf("persistence: unknown mutation kind %d", m.GetKind())
	}
	return out, nil
}
