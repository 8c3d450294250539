package persistence

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// memLog is a replicated log in memory: every proposal is applied, in
// order, to every store at once, as Raft would once it committed.
type memLog struct {
	mu      sync.Mutex
	stores  []*Store
	entries [][]byte
}

func (l *memLog) Propose(cmd []byte) func() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, cmd)
	for _, s := range l.stores {
		if err := s.ApplyCommand(uint64(len(l.entries)), cmd); err != nil {
			return failed(err)
		}
	}
	return failed(nil)
}

// openReplicas opens n replicated stores on one memLog. Without the
// indexer and statistics: they change each node's own derived keys at
// their own pace, and the tests compare whole stores.
func openReplicas(t *testing.T, n int) ([]*Store, *memLog) {
	t.Helper()
	l := &memLog{}
	for i := 0; i < n; i++ {
		s, err := Open(t.TempDir(), Options{Logger: slog.New(slog.DiscardHandler), Replicated: true, NoHistory: true, NoStats: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		s.Attach(l)
		l.stores = append(l.stores, s)
	}
	return l.stores, l
}

// dump is every key and value of a store, in order.
func dump(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	err := s.scanRange(nil, []byte{0xff}, func(k, v []byte) error {
		fmt.Fprintf(&b, "%q=%x\n", k, v)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func waitDone(f func(done func(error))) error {
	ch := make(chan error, 1)
	f(func(err error) { ch <- err })
	return <-ch
}

func TestReplicasApplyTheSameWrites(t *testing.T) {
	stores, _ := openReplicas(t, 3)
	for i, s := range stores {
		chat := fmt.Sprintf("c%d", i)
		appendSync(t, s, chat, []*messages.ChatEvent{msgEvent(chat, 1, "hello"), msgEvent(chat, 2, "there")}, &messages.OpenChat{ChatId: chat, Department: "sales"}, false)
		if err := waitDone(func(d func(error)) { s.PutDepartment(&messages.Department{Id: fmt.Sprintf("d%d", i), Name: "Dept"}, d) }); err != nil {
			t.Fatal(err)
		}
		if err := waitDone(func(d func(error)) {
			s.AppendRouting(&messages.RoutingInput{Department: "sales"}, []*messages.RoutingDecision{{ChatId: chat}}, d)
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := stores[0].PutFile(&messages.StoredFile{ChatId: "c0", FileId: "f1"}, bytes.Repeat([]byte("x"), FileChunkBytes+10)); err != nil {
		t.Fatal(err)
	}
	// Each node reads its own writes and the others'.
	for _, s := range stores {
		for i := range stores {
			if evs, err := s.ChatEvents(fmt.Sprintf("c%d", i), 0); err != nil || len(evs) != 2 {
				t.Fatalf("chat c%d on a replica: %v, %v", i, evs, err)
			}
		}
		if f, err := s.File("c0", "f1"); err != nil || f.GetChunks() != 2 {
			t.Fatalf("file on a replica: %v, %v", f, err)
		}
	}
	want := dump(t, stores[0])
	for i, s := range stores[1:] {
		if got := dump(t, s); got != want {
			t.Fatalf("replica %d differs from replica 0:\n%s\nagainst\n%s", i+1, got, want)
		}
	}
}

// command builds one log entry of requests.
func command(origin string, id uint64, reqs ...*messages.ReplicatedRequest) []byte {
	b, err := proto.Marshal(&messages.ReplicatedCommand{Origin: origin, Id: id, Requests: reqs})
	if err != nil {
		panic(err)
	}
	return b
}

func chatAppend(chat string, seq uint64, guards ...*messages.ReplicatedGuard) *messages.ReplicatedRequest {
	ev, _ := proto.Marshal(msgEvent(chat, seq, "m"))
	return &messages.ReplicatedRequest{
		Mutations: []*messages.ReplicatedMutation{{Key: chatEventKey(chat, seq), Value: ev}},
		Guards:    append([]*messages.ReplicatedGuard{{Chat: chat, FirstSeq: seq, LastSeq: seq}}, guards...),
	}
}

func fence(entity string, epoch uint64) *messages.ReplicatedGuard {
	return &messages.ReplicatedGuard{Entity: entity, Epoch: epoch}
}

func load(agent string, delta int64, limit uint64) *messages.ReplicatedGuard {
	return &messages.ReplicatedGuard{Counter: "load/" + agent, Delta: delta, Limit: limit}
}

// The state machine's rules, one log entry after the other; each
// request's expected result (nil or the refusal).
func TestStateMachineGuards(t *testing.T) {
	steps := []struct {
		name string
		reqs []*messages.ReplicatedRequest
		want []error
	}{
		{"first append", []*messages.ReplicatedRequest{chatAppend("c", 1, fence("chat/c", 5))}, []error{nil}},
		{"a gap is refused", []*messages.ReplicatedRequest{chatAppend("c", 3, fence("chat/c", 5))}, []error{ErrSequence}},
		{"a duplicate is refused", []*messages.ReplicatedRequest{chatAppend("c", 1, fence("chat/c", 5))}, []error{ErrSequence}},
		{"a stale epoch is refused", []*messages.ReplicatedRequest{chatAppend("c", 2, fence("chat/c", 4))}, []error{ErrFenced}},
		{"a new owner claims; the old one is fenced in the same entry", []*messages.ReplicatedRequest{
			{Guards: []*messages.ReplicatedGuard{fence("chat/c", 9)}},
			chatAppend("c", 2, fence("chat/c", 5)),
			chatAppend("c", 2, fence("chat/c", 9)),
		}, []error{nil, ErrFenced, nil}},
		{"assignments up to the limit", []*messages.ReplicatedRequest{
			{Guards: []*messages.ReplicatedGuard{fence("chat/c", 9), fence("agent/a", 2), load("a", 1, 2)}},
			{Guards: []*messages.ReplicatedGuard{fence("chat/d", 1), fence("agent/a", 2), load("a", 1, 2)}},
		}, []error{nil, nil}},
		{"an assignment over the limit is refused", []*messages.ReplicatedRequest{
			{Guards: []*messages.ReplicatedGuard{fence("chat/e", 1), fence("agent/a", 2), load("a", 1, 2)}},
		}, []error{ErrLimit}},
		{"an assignment by a stale agent activation is refused", []*messages.ReplicatedRequest{
			{Guards: []*messages.ReplicatedGuard{fence("agent/a", 3)}},
			{Guards: []*messages.ReplicatedGuard{fence("chat/d", 1), fence("agent/a", 2), load("a", -1, 2)}},
		}, []error{nil, ErrFenced}},
		{"an ended chat frees the agent; below zero is refused", []*messages.ReplicatedRequest{
			{Guards: []*messages.ReplicatedGuard{fence("agent/a", 3), load("a", -1, 2)}},
			{Guards: []*messages.ReplicatedGuard{fence("agent/a", 3), load("a", -1, 2)}},
			{Guards: []*messages.ReplicatedGuard{fence("agent/a", 3), load("a", -1, 2)}},
		}, []error{nil, nil, ErrLimit}},
	}
	stores, _ := openReplicas(t, 2)
	for _, s := range stores {
		s.rep.origin = "proposer" // both replicas see the one proposer's commands
	}
	for i, st := range steps {
		for _, s := range stores {
			var got []error
			s.rep.waiting[uint64(i+1)] = make(chan []error, 1)
			if err := s.ApplyCommand(uint64(i+1), command(s.rep.origin, uint64(i+1), st.reqs...)); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			got = <-s.rep.waiting[uint64(i+1)]
			for j, w := range st.want {
				if (w == nil) != (got[j] == nil) || (w != nil && !errors.Is(got[j], w)) {
					t.Fatalf("%s: request %d: got %v, want %v", st.name, j, got[j], w)
				}
			}
		}
	}
	for _, s := range stores {
		if last, _ := s.LastChatSeq("c"); last != 2 {
			t.Fatalf("chat c ends at %d, want 2", last)
		}
		if n, _ := s.Counter("load/a"); n != 0 {
			t.Fatalf("agent a's load is %d, want 0", n)
		}
		if f, _ := s.Fence("chat/c"); f != 9 {
			t.Fatalf("chat c's fence is %d, want 9", f)
		}
	}
	if dump(t, stores[0]) != dump(t, stores[1]) {
		t.Fatal("the replicas differ")
	}
}

// The log replays after a crash: what the store applied already changes
// nothing; a command proposed twice lands once.
func TestStateMachineReplayAndRetry(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Logger: slog.New(slog.DiscardHandler), Replicated: true, NoHistory: true}
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	log := [][]byte{
		command("n1", 1, chatAppend("c", 1)),
		command("n1", 2, chatAppend("c", 2)),
		command("n2", 1, &messages.ReplicatedRequest{Mutations: []*messages.ReplicatedMutation{{Kind: messages.ReplicatedMutation_KIND_STAT, Value: []byte("s")}}}),
		command("n1", 2, chatAppend("c", 2)), // n1's retry after a leader change
	}
	for i, e := range log {
		if err := s.ApplyCommand(uint64(i+1), e); err != nil {
			t.Fatal(err)
		}
	}
	before := dump(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir, opts); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.AppliedIndex() != 4 {
		t.Fatalf("applied index after reopen: %d", s.AppliedIndex())
	}
	for i, e := range log {
		if err := s.ApplyCommand(uint64(i+1), e); err != nil {
			t.Fatal(err)
		}
	}
	if got := dump(t, s); got != before {
		t.Fatalf("replay changed the store:\n%s\nagainst\n%s", got, before)
	}
	if err := s.ApplyCommand(5, command("n1", 3, chatAppend("c", 3))); err != nil {
		t.Fatal(err)
	}
	if last, _ := s.LastChatSeq("c"); last != 3 {
		t.Fatalf("chat c ends at %d, want 3", last)
	}
	if s.statN.Load() != 1 {
		t.Fatalf("statistics events numbered %d, want 1", s.statN.Load())
	}
}

// A command that reaches the log after a later one of the same proposer
// (sent before a leader change, landing after it) is dropped, and its
// proposer is told so rather than left waiting.
func TestSupersededCommandIsDroppedAndTold(t *testing.T) {
	stores, _ := openReplicas(t, 1)
	s := stores[0]
	f := &inflight{id: 1, ch: make(chan []error, 1), wait: failed(nil)}
	s.rep.waiting[1] = f.ch
	if err := s.ApplyCommand(1, command(s.rep.origin, 2, chatAppend("c", 1))); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyCommand(2, command(s.rep.origin, 1, chatAppend("c", 2))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.outcome(f); !errors.Is(err, errSuperseded) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("the superseded command's outcome: %v", err)
	}
	if last, _ := s.LastChatSeq("c"); last != 1 {
		t.Fatalf("chat c ends at %d, want 1: the dropped command landed", last)
	}
}

func TestSnapshotRestore(t *testing.T) {
	stores, l := openReplicas(t, 2)
	a, b := stores[0], stores[1]
	l.stores = []*Store{a} // b misses these entries
	appendSync(t, a, "c", []*messages.ChatEvent{msgEvent("c", 1, "x")}, &messages.OpenChat{ChatId: "c"}, false)
	if err := waitDone(func(d func(error)) { a.Claim("chat/c", 7, d) }); err != nil {
		t.Fatal(err)
	}
	sn, err := a.TakeSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := sn.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	sn.Release()
	if err := b.Restore(bytes.NewReader(buf.Bytes()[:buf.Len()/2])); !errors.Is(err, errSnapshotFormat) {
		t.Fatalf("a cut snapshot: %v", err)
	}
	if err := b.Restore(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if b.AppliedIndex() != a.AppliedIndex() || dump(t, a) != dump(t, b) {
		t.Fatalf("restored at %d (want %d):\n%s\nagainst\n%s", b.AppliedIndex(), a.AppliedIndex(), dump(t, b), dump(t, a))
	}
	// Both follow the log on from there alike.
	l.stores = stores
	appendSync(t, b, "c", []*messages.ChatEvent{msgEvent("c", 2, "y")}, nil, false)
	if err := waitDone(func(d func(error)) {
		a.AppendChatAs(6, "c", []*messages.ChatEvent{msgEvent("c", 3, "z")}, nil, false, d)
	}); !errors.Is(err, ErrFenced) {
		t.Fatalf("an append below the restored fence: %v", err)
	}
	if dump(t, a) != dump(t, b) {
		t.Fatal("the replicas differ after the restore")
	}
}

func TestGuardsNeedACluster(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	if err := waitDone(func(d func(error)) { s.Claim("chat/c", 1, d) }); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("a claim on one node: %v", err)
	}
}

// A store writing as an owner (WriteAs) is refused as a whole once a
// newer owner claimed it: none of its writes lands, on any replica.
func TestWriterFencedAsAWhole(t *testing.T) {
	stores, _ := openReplicas(t, 2)
	old, next := stores[0], stores[1]
	if err := waitDone(func(d func(error)) { old.Claim("broker/main", 5, d) }); err != nil {
		t.Fatal(err)
	}
	old.WriteAs("broker/main", 5)
	if err := waitDone(func(d func(error)) { old.PutDepartment(&messages.Department{Id: "before", Name: "B"}, d) }); err != nil {
		t.Fatalf("the owner's write: %v", err)
	}
	if err := waitDone(func(d func(error)) { next.Claim("broker/main", 9, d) }); err != nil {
		t.Fatal(err)
	}
	next.WriteAs("broker/main", 9)
	err := waitDone(func(d func(error)) { old.PutDepartment(&messages.Department{Id: "after", Name: "A"}, d) })
	if !errors.Is(err, ErrFenced) {
		t.Fatalf("the old owner's write after the claim: %v, want ErrFenced", err)
	}
	for _, s := range stores {
		if d, err := s.Department("after"); err == nil && d != nil {
			t.Fatalf("a fenced write is readable: %v", d)
		}
		if d, err := s.Department("before"); err != nil || d == nil {
			t.Fatalf("the owner's earlier write: %v %v", d, err)
		}
	}
	if err := waitDone(func(d func(error)) { next.PutDepartment(&messages.Department{Id: "new", Name: "N"}, d) }); err != nil {
		t.Fatalf("the new owner's write: %v", err)
	}
	if f, err := old.Fence("broker/main"); err != nil || f != 9 {
		t.Fatalf("fence on the old owner's replica: %d %v", f, err)
	}
}

// A chat deleted through one node leaves nothing of it on any node: not
// on a node whose index had it, nor on the deleting node whose index had
// not folded it yet.
func TestDeleteChatOnEveryReplica(t *testing.T) {
	l := &memLog{}
	var stores []*Store
	for range 2 {
		s, err := Open(t.TempDir(), Options{Logger: slog.New(slog.DiscardHandler), Replicated: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		s.Attach(l)
		l.stores = append(l.stores, s)
		stores = append(stores, s)
	}
	a, b := stores[0], stores[1]
	const t0 = 1_700_000_000_000
	evs := storyChat("c1", "sales", "v1", t0, "my printer is broken", "secret whisper")
	evs = append(evs, &messages.ChatEvent{ChatId: "c1", Seq: 6, AtMs: t0 + 6, Kind: &messages.ChatEvent_Rated{Rated: &messages.ChatRated{
		Score: messages.RatingScore_RATING_SCORE_BAD, Comment: "private words", AgentId: "a1", Department: "sales"}}})
	appendSync(t, a, "c1", evs, nil, true)
	indexAll(t, b) // b's index has the chat, its rating comment too; a's may not
	if ids, _ := search(t, b, &messages.ChatHistoryQuery{All: []string{messages.HistoryWord("printer")}}); !slices.Equal(ids, []string{"c1"}) {
		t.Fatalf("b's index before the deletion: %v", ids)
	}
	words := func(s *Store) (n int) {
		s.scanRange(nil, []byte{0xff}, func(k, v []byte) error {
			if bytes.HasSuffix(k, []byte("c1")) || bytes.Contains(v, []byte("private words")) {
				n++
			}
			return nil
		})
		return n
	}
	if words(b) == 0 {
		t.Fatal("b holds nothing of the chat before the deletion: the test proves nothing")
	}
	if err := a.DeleteChat("c1"); err != nil {
		t.Fatal(err)
	}
	for i, s := range stores {
		indexAll(t, s) // a round after the deletion makes nothing again
		if ids, _ := search(t, s, &messages.ChatHistoryQuery{}); len(ids) != 0 {
			t.Fatalf("node %d still finds %v", i, ids)
		}
		if n := words(s); n != 0 {
			t.Fatalf("node %d keeps %d keys of the deleted chat (or its rating comment):\n%s", i, n, dump(t, s))
		}
	}
}

// A command of a newer format than this build knows stops the replica
// (it would apply it wrongly) and changes nothing.
func TestNewerCommandVersionStops(t *testing.T) {
	stores, _ := openReplicas(t, 1)
	s := stores[0]
	before := dump(t, s)
	cmd, err := proto.Marshal(&messages.ReplicatedCommand{Origin: "o", Id: 1, Version: commandVersion + 1,
		Requests: []*messages.ReplicatedRequest{chatAppend("c1", 1)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyCommand(100, cmd); err == nil || !strings.Contains(err.Error(), "upgrade") {
		t.Fatalf("a newer command: %v", err)
	}
	if after := dump(t, s); after != before {
		t.Fatalf("a refused command changed the store:\n%s", after)
	}
	if err := waitDone(func(d func(error)) { s.PutDepartment(&messages.Department{Id: "d", Name: "D"}, d) }); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a write after the replica stopped: %v", err)
	}
}
