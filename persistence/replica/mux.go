package replica

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// The first byte of a connection to a node's cluster port.
const (
	connRaft    byte = 'R'
	connForward byte = 'F'
)

// helloTimeout bounds how long a new connection may take to say what it is.
const helloTimeout = 5 * time.Second

// errNotCluster: a connection that does not carry the cluster key.
var errNotCluster = errors.New("replica: connection without the cluster key")

// mux serves one TCP listener for Raft and forwarded proposals: each
// connection starts with its kind and the SHA-256 of the cluster key.
type mux struct {
	ln      net.Listener
	key     [32]byte
	raft    chan net.Conn
	forward func(net.Conn)
	done    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

func newMux(ln net.Listener, clusterKey string, forward func(net.Conn)) *mux {
	m := &mux{ln: ln, key: sha256.Sum256([]byte(clusterKey)), raft: make(chan net.Conn), forward: forward, done: make(chan struct{})}
	m.wg.Add(1)
	go m.accept()
	return m
}

func (m *mux) accept() {
	defer m.wg.Done()
	for {
		c, err := m.ln.Accept()
		if err != nil {
			return
		}
		m.wg.Add(1)
		go m.route(c)
	}
}

// route reads a connection's hello and hands it over.
func (m *mux) route(c net.Conn) {
	defer m.wg.Done()
	var hello [33]byte
	_ = c.SetReadDeadline(time.Now().Add(helloTimeout))
	if _, err := io.ReadFull(c, hello[:]); err != nil || subtle.ConstantTimeCompare(hello[1:], m.key[:]) != 1 {
		c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	switch hello[0] {
	case connRaft:
		select {
		case m.raft <- c:
		case <-m.done:
			c.Close()
		}
	case connForward:
		m.forward(c)
	default:
		c.Close()
	}
}

// dial opens a connection of kind to addr.
func (m *mux) dial(kind byte, addr string, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write(append([]byte{kind}, m.key[:]...)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (m *mux) close() {
	m.once.Do(func() {
		close(m.done)
		m.ln.Close()
	})
}

// raftLayer is the mux seen by Raft's network transport.
type raftLayer struct{ m *mux }

func (l raftLayer) Accept() (net.Conn, error) {
	select {
	case c := <-l.m.raft:
		return c, nil
	case <-l.m.done:
		return nil, net.ErrClosed
	}
}

func (l raftLayer) Close() error   { l.m.close(); return nil }
func (l raftLayer) Addr() net.Addr { return l.m.ln.Addr() }

func (l raftLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return l.m.dial(connRaft, string(addr), timeout)
}
