package replica

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence"
)

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(within)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("not within %s: %s", within, what)
		case <-tick.C:
		}
	}
}

const testKey = "a cluster key for the tests"

// member is one node of a test cluster: its store and its replica.
type member struct {
	id, addr, dir string
	store         *persistence.Store
	node          *Node
}

type testCluster struct {
	t       testing.TB
	members []*member
	peers   []Peer
	tune    func(*Config)
}

// startCluster starts n nodes on loopback, each with its store in a
// temporary folder, and waits for a leader.
func startCluster(t testing.TB, n int, tune func(*Config)) *testCluster {
	t.Helper()
	c := &testCluster{t: t, tune: tune}
	lns := make([]net.Listener, n)
	for i := range lns {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[i] = ln
		m := &member{id: fmt.Sprintf("n%d", i+1), addr: ln.Addr().String(), dir: t.TempDir()}
		c.members = append(c.members, m)
		c.peers = append(c.peers, Peer{ID: m.id, Addr: m.addr})
	}
	for i, m := range c.members {
		c.start(m, lns[i])
	}
	t.Cleanup(func() {
		for _, m := range c.members {
			c.stop(m)
		}
	})
	c.leader()
	return c
}

func (c *testCluster) start(m *member, ln net.Listener) {
	c.t.Helper()
	s, err := persistence.Open(filepath.Join(m.dir, "state"), persistence.Options{Logger: slog.New(slog.DiscardHandler), Replicated: true})
	if err != nil {
		c.t.Fatal(err)
	}
	if ln == nil {
		if ln, err = net.Listen("tcp", m.addr); err != nil {
			c.t.Fatal(err)
		}
	}
	cfg := Config{ID: m.id, Listener: ln, Peers: c.peers, Dir: filepath.Join(m.dir, "raft"), ClusterKey: testKey, Store: s,
		Logger: slog.New(slog.DiscardHandler), Fatal: func(err error) { c.t.Errorf("%s cannot follow the log: %v", m.id, err) }}
	if c.tune != nil {
		c.tune(&cfg)
	}
	n, err := Start(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	m.store, m.node = s, n
}

// stop shuts a node down as a crash would to its peers: its sockets close,
// nothing more reaches them.
func (c *testCluster) stop(m *member) {
	if m.node == nil {
		return
	}
	m.node.Close()
	m.store.Close()
	m.node, m.store = nil, nil
}

func (c *testCluster) leader() *member {
	c.t.Helper()
	var l *member
	eventually(c.t, 20*time.Second, "a leader", func() bool {
		for _, m := range c.members {
			if m.node != nil && m.node.IsLeader() {
				l = m
				return true
			}
		}
		return false
	})
	return l
}

// caughtUp waits until every running node applied the same index.
func (c *testCluster) caughtUp() {
	c.t.Helper()
	eventually(c.t, 20*time.Second, "every node applied the leader's last entry", func() bool {
		l := c.leader()
		want := l.node.Status().CommitIndex
		for _, m := range c.members {
			if m.node != nil && m.store.AppliedIndex() < want {
				return false
			}
		}
		return true
	})
}

func appendOne(s *persistence.Store, chat string, seq uint64) error {
	return appendText(s, chat, seq, fmt.Sprint(seq))
}

func appendText(s *persistence.Store, chat string, seq uint64, text string) error {
	ch := make(chan error, 1)
	ev := &messages.ChatEvent{ChatId: chat, Seq: seq, Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{Text: text}}}
	s.AppendChat(chat, []*messages.ChatEvent{ev}, nil, false, func(err error) { ch <- err })
	return <-ch
}

func TestWritesThroughAnyNode(t *testing.T) {
	c := startCluster(t, 3, nil)
	for i, m := range c.members {
		for seq := uint64(1); seq <= 5; seq++ {
			if err := appendOne(m.store, fmt.Sprintf("c%d", i), seq); err != nil {
				t.Fatalf("%s: append %d: %v", m.id, seq, err)
			}
		}
		// Read your writes: the proposer applied it before the ack.
		if last, _ := m.store.LastChatSeq(fmt.Sprintf("c%d", i)); last != 5 {
			t.Fatalf("%s reads %d of its own 5 appends", m.id, last)
		}
	}
	c.caughtUp()
	for _, m := range c.members {
		for i := range c.members {
			if last, _ := m.store.LastChatSeq(fmt.Sprintf("c%d", i)); last != 5 {
				t.Fatalf("%s has %d of c%d's 5 events", m.id, last, i)
			}
		}
	}
	st := c.members[0].node.Status()
	if len(st.Voters) != 3 || st.LeaderID == "" || st.AppliedIndex == 0 {
		t.Fatalf("status: %+v", st)
	}
}

// A stranger on the cluster port without the key is refused; a node
// does not start with a short key.
func TestClusterPortNeedsTheKey(t *testing.T) {
	s, err := persistence.Open(t.TempDir(), persistence.Options{Logger: slog.New(slog.DiscardHandler), Replicated: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Start(Config{ID: "x", Bind: "127.0.0.1:0", Dir: t.TempDir(), Store: s, ClusterKey: "short"}); !errors.Is(err, ErrWeakClusterKey) {
		t.Fatalf("a short cluster key: %v", err)
	}
	c := startCluster(t, 1, nil)
	for _, kind := range []byte{connForward, connRaft} {
		// Another cluster's key: the handshake fails on one side or the
		// other, and nothing is served.
		m := keyMux(t, "another cluster's key, long enough")
		if conn, err := m.dial(kind, c.members[0].addr, 5*time.Second); err == nil {
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			if _, err := conn.Read(make([]byte, 1)); err == nil {
				t.Fatalf("a connection (%c) with another key was answered", kind)
			}
			conn.Close()
		}
		// A stranger without TLS that sends the old static hello (the
		// SHA-256 of the right key) is closed: a token seen on the wire
		// is worth nothing.
		raw, err := net.Dial("tcp", c.members[0].addr)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256([]byte(testKey))
		raw.Write(append([]byte{kind}, h[:]...))
		raw.SetReadDeadline(time.Now().Add(30 * time.Second))
		// Closed (at most a TLS alert comes back), long before the deadline.
		if _, err := io.ReadAll(raw); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("a plain connection with the old hello (%c): %v, want it closed", kind, err)
		}
		raw.Close()
	}
	// The right key is answered: a forwarded empty command gets a reply.
	conn, err := keyMux(t, testKey).dial(connForward, c.members[0].addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	bw := bufio.NewWriter(conn)
	if err := writeFrame(bw, nil); err != nil || bw.Flush() != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(conn).ReadByte(); err != nil {
		t.Fatalf("the right key got no reply: %v", err)
	}
}

// keyMux is a mux that only dials, with key.
func keyMux(t *testing.T, key string) *mux {
	t.Helper()
	cfg, err := clusterTLS(key)
	if err != nil {
		t.Fatal(err)
	}
	return &mux{tls: cfg}
}

// attempts numbers every append tried, so that each stored text says
// which attempt it was: an acknowledged append overwritten by another
// (a fork) is seen.
var attempts atomic.Uint64

// writerLoop appends to one chat through s until stop, and records what
// was acknowledged (key chat/seq, value the attempt's text). After a
// failure it goes on from the stored log, as a chat actor reloading would.
func writerLoop(s *persistence.Store, chat string, stop <-chan struct{}, acked *sync.Map, firstAck func(time.Time)) {
	var seq uint64
	for {
		select {
		case <-stop:
			return
		default:
		}
		text := fmt.Sprintf("attempt %d", attempts.Add(1))
		err := appendText(s, chat, seq+1, text)
		switch {
		case err == nil:
			seq++
			if last, _ := s.LastChatSeq(chat); last < seq {
				panic(fmt.Sprintf("%s acked %d, reads %d", chat, seq, last))
			}
			acked.Store(fmt.Sprintf("%s/%d", chat, seq), text)
			firstAck(time.Now())
		case errors.Is(err, persistence.ErrClosed):
			return
		default:
			last, lerr := s.LastChatSeq(chat)
			if lerr == nil {
				seq = last
			}
		}
	}
}

// The leader dies while every node writes: every acknowledged append is
// on both survivors, and writes go on through the new leader.
func TestLeaderKilledMidBatch(t *testing.T) {
	c := startCluster(t, 3, nil)
	var acked sync.Map
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var killedAt time.Time
	var afterKill []time.Duration
	for i, m := range c.members {
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(s *persistence.Store, chat string) {
				defer wg.Done()
				writerLoop(s, chat, stop, &acked, func(at time.Time) {
					mu.Lock()
					if !killedAt.IsZero() && at.After(killedAt) {
						afterKill = append(afterKill, at.Sub(killedAt))
					}
					mu.Unlock()
				})
			}(m.store, fmt.Sprintf("n%d-w%d", i, w))
		}
	}
	count := func() (n int) {
		acked.Range(func(any, any) bool { n++; return true })
		return n
	}
	eventually(t, 20*time.Second, "200 acknowledged appends", func() bool { return count() >= 200 })
	old := c.leader()
	c.stop(old)
	mu.Lock()
	killedAt = time.Now() // from here on, only the survivors acknowledge
	mu.Unlock()
	eventually(t, 20*time.Second, "100 appends acknowledged after the leader died", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(afterKill) >= 100
	})
	close(stop)
	wg.Wait()
	c.caughtUp()
	mu.Lock()
	t.Logf("%d appends acknowledged; the first after the old leader was gone came %s after", count(), afterKill[0].Round(time.Millisecond))
	mu.Unlock()
	for _, m := range c.members {
		if m.node == nil {
			continue
		}
		acked.Range(func(k, text any) bool {
			chat, n, _ := strings.Cut(k.(string), "/")
			seq, _ := strconv.ParseUint(n, 10, 64)
			evs, err := m.store.ChatEvents(chat, seq-1)
			if err != nil || len(evs) == 0 || evs[0].GetSeq() != seq || evs[0].GetMessage().GetText() != text {
				t.Errorf("%s lacks the acknowledged %s (%s): %v %v", m.id, k, text, evs[:min(1, len(evs))], err)
			}
			return true
		})
	}
}

// A node that was down while the log moved on past its trailing entries
// catches up from a snapshot of another node's store.
func TestLaggingNodeCatchesUpFromASnapshot(t *testing.T) {
	c := startCluster(t, 3, func(cfg *Config) {
		cfg.SnapshotThreshold, cfg.TrailingLogs, cfg.SnapshotInterval = 32, 8, 50*time.Millisecond
	})
	down := c.members[2]
	if c.leader() == down {
		down = c.members[1]
	}
	c.stop(down)
	up := c.leader()
	for seq := uint64(1); seq <= 200; seq++ {
		if err := appendOne(up.store, "long", seq); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 20*time.Second, "the leader compacted its log", func() bool {
		first, _ := up.node.logs.FirstIndex()
		return first > 1
	})
	c.start(down, nil)
	c.caughtUp()
	evs, err := down.store.ChatEvents("long", 0)
	if err != nil || len(evs) != 200 {
		t.Fatalf("the restarted node has %d of 200 events: %v", len(evs), err)
	}
	for i, ev := range evs {
		if ev.GetSeq() != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, ev.GetSeq())
		}
	}
	// And it writes on from there.
	if err := appendOne(down.store, "long", 201); err != nil {
		t.Fatal(err)
	}
	// A crash while a snapshot is being loaded leaves the store with
	// part of it, or none (as here: its folder lost), while Raft counts
	// the snapshot's entries as applied and its log no longer has them.
	// The node loads the snapshot it saved again before it starts.
	c.stop(down)
	if err := os.RemoveAll(filepath.Join(down.dir, "state")); err != nil {
		t.Fatal(err)
	}
	c.start(down, nil)
	c.caughtUp()
	if evs, err := down.store.ChatEvents("long", 0); err != nil || len(evs) != 201 {
		t.Fatalf("after a restart with its store lost, the node has %d of 201 events: %v", len(evs), err)
	}
}
