package replica

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/switchboard-chat/switchboard/persistence"
)

// hangLimit only tells a hang from a slow run: the fix answers in
// milliseconds, and without it nothing answers before ProposeTimeout
// (10 minutes here).
const hangLimit = 2 * time.Minute

// Raft does not answer a future whose entry committed but was still
// queued for the state machine when it shut down (hashicorp/raft#498).
// Close must neither wait for such futures (a forwarded proposal's reply
// is written before its connection's handler ends) nor leave a local
// proposer waiting on one: both are told at once that the outcome is
// unknown.
//
// The state machine is held in one command while 20 local and 10
// forwarded proposals commit behind it, each its own batch in Raft's
// queue to the state machine; Raft shuts down, and the command is let go.
// Raft's state machine goroutine then picks at random between its queue
// and its shutdown, so about one batch more is applied, and the rest are
// stranded (all are applied with a chance of 2^-30).
func TestCloseAnswersStrandedProposals(t *testing.T) {
	entered := make(chan uint64, 1)
	release := make(chan struct{})
	c := startCluster(t, 1, func(cfg *Config) {
		cfg.ProposeTimeout = 10 * time.Minute
		cfg.applyCommand = func(index uint64, data []byte) error {
			if string(data) == "hold" {
				entered <- index
				<-release
			}
			return nil
		}
	})
	n := c.members[0].node
	// hung fails the test without the cleanup's Close, which would hang
	// as well and hide why.
	hung := func(format string, args ...any) {
		t.Helper()
		c.members[0].node = nil
		t.Fatalf(format, args...)
	}
	results := make(chan error, 64)
	propose := func(cmd string) {
		wait := n.Propose([]byte(cmd))
		go func() { results <- wait() }()
	}
	propose("hold")
	var held uint64
	select {
	case held = <-entered:
	case <-time.After(hangLimit):
		hung("the state machine was never given the command")
	}
	// queued waits until Raft handed the state machine every entry up to
	// index: one batch per entry, as each commits before the next.
	queued := func(index uint64) {
		t.Helper()
		eventually(t, hangLimit, fmt.Sprintf("entry %d queued for the state machine", index), func() bool { return n.raft.AppliedIndex() >= index })
	}
	const local, forwarded = 20, 10
	for i := 1; i <= local; i++ {
		propose(fmt.Sprint("local ", i))
		queued(held + uint64(i))
	}
	// Forwarded proposals, as a follower sends them.
	conn, err := keyMux(t, testKey).dial(connForward, c.members[0].addr, hangLimit)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	bw := bufio.NewWriter(conn)
	for i := 1; i <= forwarded; i++ {
		if err := writeFrame(bw, []byte(fmt.Sprint("forwarded ", i))); err != nil || bw.Flush() != nil {
			t.Fatal("forward:", err)
		}
		queued(held + local + uint64(i))
	}

	closed := make(chan error, 1)
	go func() { closed <- n.Close() }()
	eventually(t, hangLimit, "Raft shutting down", func() bool { return n.raft.State() == raft.Shutdown })
	close(release)
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal("Close:", err)
		}
	case <-time.After(hangLimit):
		hung("Close waits for proposals Raft will never answer")
	}
	// The held command was applied and answered; every other one was
	// answered, or its wait ends with ErrClosed (outcome unknown).
	unknown := 0
	for i := 0; i < 1+local; i++ {
		select {
		case err := <-results:
			switch {
			case err == nil:
			case errors.Is(err, persistence.ErrClosed):
				unknown++
			default:
				t.Errorf("a proposal: %v, want nil or ErrClosed", err)
			}
		case <-time.After(hangLimit):
			hung("%d of %d local proposals still wait after Close", 1+local-i, 1+local)
		}
	}
	// The forwarded connection was closed by the node.
	conn.SetReadDeadline(time.Now().Add(hangLimit))
	if _, err := io.Copy(io.Discard, conn); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the forwarded connection: %v, want it closed", err)
	}
	t.Logf("%d of %d local proposals stranded in Raft's queue, told ErrClosed", unknown, local)
}

// A command this node's state cannot apply fails its proposer here at
// once (rather than after the store's ApplyWait), and stops the node's
// Raft.
func TestApplyFailureFailsTheProposer(t *testing.T) {
	fatal := make(chan error, 16)
	c := startCluster(t, 1, func(cfg *Config) {
		cfg.applyCommand = func(index uint64, data []byte) error {
			if string(data) == "bad" {
				return errors.New("cannot apply")
			}
			return nil
		}
		cfg.Fatal = func(err error) { fatal <- err }
	})
	n := c.members[0].node
	if err := n.Propose([]byte("good"))(); err != nil {
		t.Fatal("a command applied:", err)
	}
	err := n.Propose([]byte("bad"))()
	if !errors.Is(err, errApplyFailed) || !errors.Is(err, persistence.ErrUnavailable) {
		t.Fatalf("a command that could not apply: %v, want errApplyFailed and ErrUnavailable", err)
	}
	select {
	case <-fatal:
	case <-time.After(hangLimit):
		t.Fatal("Fatal was not told")
	}
	select {
	case <-n.raftDone:
	case <-time.After(hangLimit):
		t.Fatal("Raft did not stop")
	}
	// Raft stopped: a proposal now fails rather than waiting out
	// ProposeTimeout.
	if err := n.Propose([]byte("good"))(); !errors.Is(err, persistence.ErrUnavailable) {
		t.Fatalf("a proposal once Raft stopped: %v, want ErrUnavailable", err)
	}
}

// Fatal may Close the node, as cmd/switchboard's does: it is not called
// on Raft's state machine goroutine, which Close waits for.
func TestFatalMayCloseTheNode(t *testing.T) {
	var node atomic.Pointer[Node]
	closed := make(chan error, 1)
	c := startCluster(t, 1, func(cfg *Config) {
		cfg.applyCommand = func(index uint64, data []byte) error {
			if string(data) == "bad" {
				return errors.New("cannot apply")
			}
			return nil
		}
		cfg.Fatal = func(error) { closed <- node.Load().Close() }
	})
	node.Store(c.members[0].node)
	// On a failure the cleanup's Close would hang as well: it is skipped.
	if err := c.members[0].node.Propose([]byte("bad"))(); !errors.Is(err, errApplyFailed) {
		c.members[0].node = nil
		t.Fatalf("a command that could not apply: %v, want errApplyFailed", err)
	}
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal("Close:", err)
		}
	case <-time.After(hangLimit):
		c.members[0].node = nil
		t.Fatal("Close, called by Fatal, does not return")
	}
}
