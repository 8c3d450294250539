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

// errNotLeader: the node asked is not the leader (any more); the proposer
// asks the new one.
var errNotLeader = errors.New("replica: not the leader")

// serveForward answers proposals forwarded by followers, one at a time
// per connection (a follower's writer proposes one batch at a time).
func (n *Node) serveForward(c net.Conn) {
	if !n.track(c) {
		c.Close()
		return
	}
	defer n.untrack(c)
	br, bw := bufio.NewReader(c), bufio.NewWriter(c)
	for {
		cmd, err := readFrame(br)
		if err != nil {
			return
		}
		status, msg := replyOK, ""
		if err := n.applyHere(cmd); errors.Is(err, errNotLeader) {
			status = replyNotLeader
		} else if err != nil {
			status, msg = replyFailed, err.Error()
		}
		bw.WriteByte(status)
		if err := writeFrame(bw, []byte(msg)); err != nil || bw.Flush() != nil {
			return
		}
	}
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

// forwarder keeps one connection to the leader for forwarded proposals.
type forwarder struct {
	m    *mux
	mu   sync.Mutex
	addr string
	conn net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
}

// forward sends cmd to the leader at addr and waits for its reply until
// deadline. An error other than errNotLeader may come after the leader
// committed the command: the state machine applies a command proposed
// again once.
func (f *forwarder) forward(addr string, cmd []byte, deadline time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conn != nil && f.addr != addr {
		f.drop()
	}
	if f.conn == nil {
		c, err := f.m.dial(connForward, addr, time.Until(deadline))
		if err != nil {
			return err
		}
		f.addr, f.conn, f.br, f.bw = addr, c, bufio.NewReader(c), bufio.NewWriter(c)
	}
	_ = f.conn.SetDeadline(deadline)
	status, msg, err := f.roundTrip(cmd)
	if err != nil {
		f.drop()
		return err
	}
	switch status {
	case replyOK:
		return nil
	case replyNotLeader:
		return errNotLeader
	default:
		return fmt.Errorf("replica: the leader refused: %s", msg)
	}
}

func (f *forwarder) roundTrip(cmd []byte) (byte, string, error) {
	if err := writeFrame(f.bw, cmd); err != nil {
		return 0, "", err
	}
	if err := f.bw.Flush(); err != nil {
		return 0, "", err
	}
	status, err := f.br.ReadByte()
	if err != nil {
		return 0, "", err
	}
	msg, err := readFrame(f.br)
	return status, string(msg), err
}

func (f *forwarder) drop() {
	if f.conn != nil {
		f.conn.Close()
		f.conn = nil
	}
}

func (f *forwarder) close() {
	f.mu.Lock()
	f.drop()
	f.mu.Unlock()
}
