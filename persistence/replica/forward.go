package replica

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Replies to a forwarded proposal.
const (
	replyOK        byte = 0
	replyNotLeader byte = 1
	replyFailed    byte = 2
)

// maxCommand bounds a forwarded command (a batch, files included).
const maxCommand = 256 << 20

// forwardWindow bounds the proposals a leader reads ahead of their
// replies on one connection.
const forwardWindow = 64

// errNotLeader: the node asked is not the leader (any more); the proposer
// asks the new one.
var errNotLeader = errors.New("replica: not the leader")

// errApplyFailed: the command committed, but this node's state could not
// apply it (the node stops, fatal). Its proposer here fails at once; a
// follower that forwarded it is told it committed, and applies it itself.
var errApplyFailed = errors.New("replica: committed, but this node could not apply it")

// serveForward answers proposals forwarded by a follower. It queues each
// on Raft in the order read, so the follower's commands keep their order
// in the log, and answers them in that order as they commit.
func (n *Node) serveForward(c net.Conn) {
	if !n.track(c) {
		c.Close()
		return
	}
	defer n.untrack(c)
	waits := make(chan func() error, forwardWindow)
	replied := make(chan struct{})
	go n.reply(c, waits, replied)
	defer func() { close(waits); <-replied }()
	br := bufio.NewReader(c)
	for {
		cmd, err := readFrame(br)
		if err != nil {
			return
		}
		waits <- n.applyHere(cmd)
	}
}

// reply writes each proposal's outcome, in order.
func (n *Node) reply(c net.Conn, waits <-chan func() error, done chan<- struct{}) {
	defer close(done)
	bw := bufio.NewWriter(c)
	broken := false
	for wait := range waits {
		err := wait()
		if broken {
			continue
		}
		if errors.Is(err, errApplyFailed) {
			err = nil // committed; this node's own failure is its own
		}
		status, msg := replyOK, ""
		if errors.Is(err, errNotLeader) {
			status = replyNotLeader
		} else if err != nil {
			status, msg = replyFailed, err.Error()
		}
		bw.WriteByte(status)
		if err := writeFrame(bw, []byte(msg)); err != nil || (len(waits) == 0 && bw.Flush() != nil) {
			broken = true
			c.Close()
		}
	}
	bw.Flush()
}

func readFrame(br *bufio.Reader) ([]byte, error) {
	size, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, err
	}
	if size > maxCommand {
		return nil, fmt.Errorf("replica: a frame of %d bytes", size)
	}
	p := make([]byte, size)
	_, err = io.ReadFull(br, p)
	return p, err
}

func writeFrame(bw *bufio.Writer, p []byte) error {
	var hdr [binary.MaxVarintLen64]byte
	bw.Write(hdr[:binary.PutUvarint(hdr[:], uint64(len(p)))])
	_, err := bw.Write(p)
	return err
}

// forwarder keeps one ordered connection to the leader for this node's
// proposals; replies come back in the order they were sent.
type forwarder struct {
	m    *mux
	mu   sync.Mutex
	conn *fwdConn
}

// fwdConn is one connection to a leader and the replies it owes.
type fwdConn struct {
	addr string
	c    net.Conn
	bw   *bufio.Writer
	mu   sync.Mutex
	owed []chan error // replies still to come, oldest first
	dead error
}

// send writes cmd to the leader at addr, behind what was sent before, and
// returns a wait for its reply (bounded by deadline). An error other than
// errNotLeader may come after the leader committed the command.
func (f *forwarder) send(addr string, cmd []byte, deadline time.Time) func() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	fc, err := f.connTo(addr, deadline)
	if err != nil {
		return func() error { return err }
	}
	reply := make(chan error, 1)
	if err := fc.push(reply); err != nil {
		return func() error { return err }
	}
	_ = fc.c.SetWriteDeadline(deadline)
	if err := writeFrame(fc.bw, cmd); err == nil {
		err = fc.bw.Flush()
	}
	if err != nil {
		fc.fail(err) // tells reply too
	}
	return func() error {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		select {
		case err := <-reply:
			return err
		case <-t.C:
			fc.fail(errors.New("replica: no reply from the leader in time"))
			return <-reply
		}
	}
}

// connTo returns the connection to addr, dialled anew when the leader
// changed or the last one broke.
func (f *forwarder) connTo(addr string, deadline time.Time) (*fwdConn, error) {
	if fc := f.conn; fc != nil {
		if fc.addr == addr && fc.alive() {
			return fc, nil
		}
		fc.fail(errNotLeader)
		f.conn = nil
	}
	c, err := f.m.dial(connForward, addr, time.Until(deadline))
	if err != nil {
		return nil, err
	}
	fc := &fwdConn{addr: addr, c: c, bw: bufio.NewWriter(c)}
	f.conn = fc
	go fc.read()
	return fc, nil
}

// read hands each reply to the oldest waiting proposal.
func (fc *fwdConn) read() {
	br := bufio.NewReader(fc.c)
	for {
		status, err := br.ReadByte()
		var msg []byte
		if err == nil {
			msg, err = readFrame(br)
		}
		if err != nil {
			fc.fail(err)
			return
		}
		fc.mu.Lock()
		if len(fc.owed) == 0 {
			fc.mu.Unlock()
			fc.fail(errors.New("replica: a reply nobody waits for"))
			return
		}
		reply := fc.owed[0]
		fc.owed = fc.owed[1:]
		fc.mu.Unlock()
		switch status {
		case replyOK:
			reply <- nil
		case replyNotLeader:
			reply <- errNotLeader
		default:
			reply <- fmt.Errorf("replica: the leader refused: %s", msg)
		}
	}
}

func (fc *fwdConn) push(reply chan error) error {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.dead != nil {
		return fc.dead
	}
	fc.owed = append(fc.owed, reply)
	return nil
}

func (fc *fwdConn) alive() bool {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.dead == nil
}

// fail closes the connection and fails every reply still owed.
func (fc *fwdConn) fail(err error) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.dead == nil {
		fc.dead = err
		fc.c.Close()
	}
	for _, r := range fc.owed {
		r <- fc.dead
	}
	fc.owed = nil
}

func (f *forwarder) close() {
	f.mu.Lock()
	if f.conn != nil {
		f.conn.fail(net.ErrClosed)
		f.conn = nil
	}
	f.mu.Unlock()
}
