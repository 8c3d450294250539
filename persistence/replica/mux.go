package replica

import (
	"crypto/tls"
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

// helloTimeout bounds how long a new connection may take to prove it has
// the cluster key and say what it is.
const helloTimeout = 5 * time.Second

// maxHellos caps the connections that have not yet proved they have the
// key: the rest are closed as soon as they are accepted.
const maxHellos = 64

// errNotCluster: a connection that does not carry the cluster key.
var errNotCluster = errors.New("replica: connection without the cluster key")

// mux serves one TCP listener for Raft and forwarded proposals. Each
// connection is TLS, both ends proving they hold the cluster key
// (cluster_tls.go), then says its kind in one byte.
type mux struct {
	ln      net.Listener
	tls     *tls.Config
	hellos  chan struct{} // a slot per connection in its handshake
	raft    chan net.Conn
	forward func(net.Conn)
	done    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

func newMux(ln net.Listener, clusterKey string, forward func(net.Conn)) (*mux, error) {
	cfg, err := clusterTLS(clusterKey)
	if err != nil {
		return nil, err
	}
	m := &mux{ln: ln, tls: cfg, hellos: make(chan struct{}, maxHellos), raft: make(chan net.Conn), forward: forward, done: make(chan struct{})}
	m.wg.Add(1)
	go m.accept()
	return m, nil
}

func (m *mux) accept() {
	defer m.wg.Done()
	for {
		c, err := m.ln.Accept()
		if err != nil {
			return
		}
		select {
		case m.hellos <- struct{}{}:
		default:
			c.Close() // too many strangers at once
			continue
		}
		m.wg.Add(1)
		go m.route(c)
	}
}

// route checks a connection's key (the TLS handshake) and kind, and
// hands it over.
func (m *mux) route(raw net.Conn) {
	defer m.wg.Done()
	c := tls.Server(raw, m.tls)
	_ = c.SetDeadline(time.Now().Add(helloTimeout))
	var kind [1]byte
	err := c.Handshake()
	if err == nil {
		_, err = io.ReadFull(c, kind[:])
	}
	<-m.hellos
	if err != nil {
		c.Close()
		return
	}
	_ = c.SetDeadline(time.Time{})
	switch kind[0] {
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

// dial opens a connection of kind to addr: TLS, proving the key.
func (m *mux) dial(kind byte, addr string, timeout time.Duration) (net.Conn, error) {
	raw, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	c := tls.Client(raw, m.tls)
	_ = c.SetDeadline(time.Now().Add(timeout))
	if err := c.Handshake(); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := c.Write([]byte{kind}); err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetDeadline(time.Time{})
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
