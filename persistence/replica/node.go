package replica

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/switchboard-chat/switchboard/persistence"
)

// Peer is one voter of the Raft group.
type Peer struct {
	ID   string
	Addr string // its cluster port, host:port
}

// Config is what a node's replica starts with.
type Config struct {
	// ID is this node's name in the group; Bind its cluster port
	// (host:port, port 0 picks one); Advertise how the others reach it
	// (default: the address bound).
	ID, Bind, Advertise string
	// Listener, when set, is the cluster port already bound (Bind is then
	// not used).
	Listener net.Listener
	// Peers are the group's first voters, this node among them. Every
	// node of a new cluster is started with the same list and they
	// bootstrap together; a node with state of its own ignores it.
	Peers []Peer
	// Dir keeps the Raft log and snapshots (the state is the Store's).
	Dir string
	// ClusterKey is shared by the cluster's nodes; a connection without
	// it is refused.
	ClusterKey string
	Store      *persistence.Store
	Logger     *slog.Logger
	// Raft's timing; zero: the defaults below, tuned for a failover
	// under a second on a LAN.
	HeartbeatTimeout, ElectionTimeout, LeaderLeaseTimeout time.Duration
	// ProposeTimeout bounds one proposal, leader changes included.
	ProposeTimeout time.Duration
	// SnapshotThreshold and TrailingLogs: Raft's (0: its defaults).
	SnapshotThreshold, TrailingLogs uint64
	SnapshotInterval                time.Duration
	// Fatal is told when this replica can no longer follow the log (its
	// state could not apply a command): the node must stop. It is called
	// once this node's Raft stopped, on a goroutine of its own: it may
	// Close the node.
	Fatal func(error)

	// applyCommand, when set (tests), applies the log's commands in place
	// of Store.ApplyCommand.
	applyCommand func(index uint64, data []byte) error
}

// Defaults of Config.
const (
	DefaultHeartbeatTimeout   = 500 * time.Millisecond
	DefaultElectionTimeout    = 500 * time.Millisecond
	DefaultLeaderLeaseTimeout = 250 * time.Millisecond
	DefaultProposeTimeout     = 5 * time.Second
)

// MinClusterKey is the shortest cluster key accepted.
const MinClusterKey = 16

// ErrWeakClusterKey refuses a cluster key shorter than MinClusterKey.
var ErrWeakClusterKey = fmt.Errorf("replica: the cluster key must be at least %d characters", MinClusterKey)

// commitTimeout: see raftConfig.
const commitTimeout = 2 * time.Millisecond

// ErrNoLeader: no leader could take a proposal before its deadline (no
// quorum, or an election that did not end). Temporary.
var ErrNoLeader = errors.New("replica: no leader reachable")

// Node is one member of the Raft group: it is the Store's Replicator.
type Node struct {
	cfg   Config
	raft  *raft.Raft
	logs  *logStore
	trans *raft.NetworkTransport
	mux   *mux
	fwd   *forwarder
	mu    sync.Mutex
	conns map[net.Conn]bool // forwarded-proposal connections served
	shut  bool
	once  sync.Once
	// raftDone is closed once Raft stopped (stopRaft): its goroutines
	// ended, and a future it did not answer by then never will be.
	raftDone chan struct{}
	stopOnce sync.Once
}

// Start opens the node's log, binds its cluster port, joins (or
// bootstraps) the group and attaches itself to the Store.
func Start(cfg Config) (*Node, error) {
	if cfg.ID == "" || cfg.Store == nil || cfg.Dir == "" {
		return nil, errors.New("replica: Config needs ID, Dir and Store")
	}
	if len(cfg.ClusterKey) < MinClusterKey {
		// The key is all that keeps a stranger from writing the log.
		return nil, ErrWeakClusterKey
	}
	cfg.defaults()
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("replica: %w", err)
	}
	ln := cfg.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", cfg.Bind); err != nil {
			return nil, fmt.Errorf("replica: cluster port: %w", err)
		}
	}
	if cfg.Advertise == "" {
		cfg.Advertise = ln.Addr().String()
	}
	n := &Node{cfg: cfg, conns: map[net.Conn]bool{}, raftDone: make(chan struct{})}
	var err error
	if n.mux, err = newMux(ln, cfg.ClusterKey, n.serveForward); err != nil {
		ln.Close()
		return nil, err
	}
	n.fwd = &forwarder{m: n.mux}
	if err := n.startRaft(); err != nil {
		n.mux.close()
		return nil, err
	}
	cfg.Store.Attach(n)
	return n, nil
}

func (c *Config) defaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.HeartbeatTimeout == 0 {
		c.HeartbeatTimeout = DefaultHeartbeatTimeout
	}
	if c.ElectionTimeout == 0 {
		c.ElectionTimeout = DefaultElectionTimeout
	}
	if c.LeaderLeaseTimeout == 0 {
		c.LeaderLeaseTimeout = DefaultLeaderLeaseTimeout
	}
	if c.ProposeTimeout == 0 {
		c.ProposeTimeout = DefaultProposeTimeout
	}
	if c.Fatal == nil {
		c.Fatal = func(err error) { c.Logger.Error("replica: this node cannot follow the log", "err", err) }
	}
}

func (n *Node) startRaft() error {
	cfg := n.cfg
	logs, err := openLogStore(filepath.Join(cfg.Dir, "log"), cfg.Logger)
	if err != nil {
		return err
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, 2, hclogFor(cfg.Logger, "raft-snap"))
	if err == nil {
		err = restoreBehind(cfg.Store, snaps)
	}
	if err == nil {
		n.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{Stream: raftLayer{n.mux}, MaxPool: 4, Timeout: 5 * time.Second, Logger: hclogFor(cfg.Logger, "raft-net")})
		var cached raft.LogStore
		apply := cfg.Store.ApplyCommand
		if cfg.applyCommand != nil {
			apply = cfg.applyCommand
		}
		if cached, err = raft.NewLogCache(1024, logs); err == nil {
			n.raft, err = raft.NewRaft(n.raftConfig(), &fsm{store: cfg.Store, apply: apply, fatal: n.fatal}, cached, logs, snaps, n.trans)
		}
	}
	if err == nil {
		if err = n.bootstrap(logs, snaps); err != nil {
			n.stopRaft() // before its log store closes
		}
	}
	if err != nil {
		logs.Close()
		return fmt.Errorf("replica: start raft: %w", err)
	}
	n.logs = logs
	return nil
}

func (n *Node) raftConfig() *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(n.cfg.ID)
	rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = n.cfg.HeartbeatTimeout, n.cfg.ElectionTimeout, n.cfg.LeaderLeaseTimeout
	// A follower applies an entry once the leader's next append tells it
	// the entry committed; with nothing new to send, the leader sends one
	// after CommitTimeout (50 ms by default). A follower's writes are
	// acknowledged only once it applied them itself, so that wait is in
	// every follower's acknowledgement: keep it short.
	rc.CommitTimeout = commitTimeout
	// The state lives in the Store's Pebble with its applied index: on a
	// restart it is there already, and the log replays only what it
	// lacks (ApplyCommand skips the rest).
	rc.NoSnapshotRestoreOnStart = true
	// BatchApplyCh stays off: with its buffered channel, an Apply queued
	// as the node shuts down is never answered (its future's Error
	// blocked a closing store's writer for good in the failover test).
	// The leader still takes every waiting Apply into one append.
	if n.cfg.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = n.cfg.SnapshotThreshold
	}
	if n.cfg.TrailingLogs > 0 {
		rc.TrailingLogs = n.cfg.TrailingLogs
	}
	if n.cfg.SnapshotInterval > 0 {
		rc.SnapshotInterval = n.cfg.SnapshotInterval
	}
	rc.Logger = hclogFor(n.cfg.Logger, "raft")
	return rc
}

// restoreBehind loads the newest snapshot into the store when the store
// is behind it, or was cut in the middle of a restore. Raft saves a
// snapshot it receives before the store loads it, and at start counts
// the snapshot's entries as applied (NoSnapshotRestoreOnStart), while the
// log no longer holds them: a crash in between would leave the store
// without them for good.
func restoreBehind(store *persistence.Store, snaps raft.SnapshotStore) error {
	list, err := snaps.List()
	if err != nil {
		return err
	}
	cut := store.Restoring()
	if len(list) == 0 {
		if cut {
			return errors.New("replica: the store was cut in the middle of a restore, and no snapshot is left to finish it")
		}
		return nil
	}
	if !cut && store.AppliedIndex() >= list[0].Index {
		return nil
	}
	_, rc, err := snaps.Open(list[0].ID)
	if err != nil {
		return err
	}
	defer rc.Close()
	return store.Restore(rc)
}

// bootstrap starts a new group from Peers, unless this node has state.
func (n *Node) bootstrap(logs *logStore, snaps raft.SnapshotStore) error {
	has, err := raft.HasExistingState(logs, logs, snaps)
	if err != nil || has || len(n.cfg.Peers) == 0 {
		return err
	}
	var conf raft.Configuration
	mine := false
	for _, p := range n.cfg.Peers {
		mine = mine || p.ID == n.cfg.ID
		conf.Servers = append(conf.Servers, raft.Server{ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.Addr)})
	}
	if !mine {
		return fmt.Errorf("replica: %s is not among the peers it bootstraps", n.cfg.ID)
	}
	err = n.raft.BootstrapCluster(conf).Error()
	if errors.Is(err, raft.ErrCantBootstrap) {
		return nil
	}
	return err
}

// fatal stops this node's Raft: its store latched the failure and
// applies nothing more, so it must not vote or lead either. It is called
// on Raft's FSM goroutine, which stopRaft waits for (Shutdown itself
// does not wait; its Error does): stopRaft, and then Fatal, which may
// Close the node (stopping Raft as well), run on a goroutine of their own.
func (n *Node) fatal(err error) {
	go func() {
		n.stopRaft()
		n.cfg.Fatal(err)
	}()
}

// stopRaft shuts Raft down, waits for its goroutines to end and then
// closes raftDone. Every shutdown of Raft goes through here: a second
// caller waits for the first one's shutdown to finish (Raft's own
// Shutdown, called again, returns at once).
func (n *Node) stopRaft() {
	n.stopOnce.Do(func() {
		n.raft.Shutdown().Error()
		close(n.raftDone)
	})
}

// Propose implements persistence.Replicator. It sends cmd at once, in
// the order of the calls (the leader's Apply queue, or the one ordered
// connection to the leader), and the wait reports its commit. A send that
// fails is tried again through leader changes until ProposeTimeout: the
// state machine applies a command once, and drops one that arrives after
// a later one of the same store. It is not tried again once this node is
// closed (ErrClosed) or its Raft stopped, nor when this node's state
// could not apply it (ErrUnavailable).
func (n *Node) Propose(cmd []byte) func() error {
	deadline := time.Now().Add(n.cfg.ProposeTimeout)
	first := n.send(cmd, deadline)
	return func() error {
		last := first()
		for wait := 10 * time.Millisecond; last != nil && !errors.Is(last, errApplyFailed) && time.Now().Before(deadline); wait = min(2*wait, 200*time.Millisecond) {
			if n.closed() {
				return fmt.Errorf("%w: %v", persistence.ErrClosed, last)
			}
			select {
			case <-n.raftDone:
				// Stopped without Close (fatal): this node's store
				// applies nothing more, whoever commits the command.
				return fmt.Errorf("%w: %w: %v", persistence.ErrUnavailable, raft.ErrRaftShutdown, last)
			default:
			}
			// A leader is being elected, or the one asked fell.
			timer := time.NewTimer(min(wait, time.Until(deadline)))
			<-timer.C
			last = n.send(cmd, deadline)()
		}
		switch {
		case errors.Is(last, errApplyFailed):
			return fmt.Errorf("%w: %w", persistence.ErrUnavailable, last)
		case last != nil:
			return fmt.Errorf("%w: %w within %s: %v", persistence.ErrUnavailable, ErrNoLeader, n.cfg.ProposeTimeout, last)
		}
		return nil
	}
}

// send hands cmd to the leader as it is known now.
func (n *Node) send(cmd []byte, deadline time.Time) func() error {
	addr, id := n.raft.LeaderWithID()
	switch {
	case id == "":
		return func() error { return ErrNoLeader }
	case string(id) == n.cfg.ID:
		return n.applyHere(cmd)
	default:
		return n.fwd.send(string(addr), cmd, deadline)
	}
}

// applyHere queues cmd on this node's Raft, which must lead; the wait
// reports its commit, and its application here (this node's state
// failing to apply it ends the wait at once, with errApplyFailed).
//
// An error wrapping errNotLeader leaves the outcome unknown: the entry
// may have committed all the same. The proposer asks the leader again
// (ErrClosed once the node is closed); the store applies a command of an
// origin and id at most once, so a command proposed again changes
// nothing more.
//
// Raft does not answer a future whose entry committed but was still
// queued for the state machine when it shut down (hashicorp/raft#498:
// runFSM returns without draining its queue, and the future waits on
// no shutdown): the wait ends when Raft stopped (raftDone), its
// outcome unknown. The goroutine blocked in such a future's Error stays
// blocked; nothing waits on it any more.
func (n *Node) applyHere(cmd []byte) func() error {
	if n.raft.State() != raft.Leader {
		return func() error { return errNotLeader }
	}
	f := n.raft.Apply(cmd, n.cfg.ProposeTimeout)
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	return func() error {
		// Bounded as well, a backstop: a future taken by a leader that
		// then stepped down was seen never to be answered (the failover
		// test hung in CI).
		t := time.NewTimer(n.cfg.ProposeTimeout)
		defer t.Stop()
		var err error
		select {
		case err = <-done:
		case <-n.raftDone:
			select {
			case err = <-done: // answered as Raft stopped
			default:
				return fmt.Errorf("%w: %w before the entry was answered (it may have committed)", errNotLeader, raft.ErrRaftShutdown)
			}
		case <-t.C:
			return fmt.Errorf("%w: no answer from Raft within %s", errNotLeader, n.cfg.ProposeTimeout)
		}
		switch {
		case errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost):
			return errNotLeader
		case errors.Is(err, raft.ErrRaftShutdown):
			return fmt.Errorf("%w: %w", errNotLeader, err)
		case err != nil:
			return err
		}
		// Committed; the state machine's answer (fsm.Apply) is an error
		// when this node's store could not apply it.
		if ferr, ok := f.Response().(error); ok && ferr != nil {
			return fmt.Errorf("%w: %w", errApplyFailed, ferr)
		}
		return nil
	}
}

func (n *Node) track(c net.Conn) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.shut {
		return false
	}
	n.conns[c] = true
	return true
}

func (n *Node) untrack(c net.Conn) {
	n.mu.Lock()
	delete(n.conns, c)
	n.mu.Unlock()
	c.Close()
}

func (n *Node) closed() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.shut
}

// Close leaves the group's traffic (it stays a voter: a restart with the
// same Dir takes its place again) and closes the log.
func (n *Node) Close() error {
	var err error
	n.once.Do(func() {
		n.mu.Lock()
		n.shut = true
		for c := range n.conns {
			c.Close()
		}
		n.mu.Unlock()
		n.fwd.close()
		n.stopRaft()
		n.mux.close()
		n.mux.wg.Wait()
		if cerr := n.logs.Close(); err == nil {
			err = cerr
		}
	})
	return err
}
