package gateway

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// HTTPServer returns the http.Server for this gateway, with every timeout
// set (Config.ReadTimeout, HTTPWriteTimeout, IdleTimeout): a connection
// that trickles its request or sits idle between requests is closed.
// Websockets are hijacked, and net/http clears a hijacked connection's
// deadlines, so they keep only their own (HelloTimeout, FrameTimeout,
// WriteTimeout).
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{Handler: s, ReadHeaderTimeout: s.cfg.ReadHeaderTimeout, ReadTimeout: s.cfg.ReadTimeout,
		WriteTimeout: s.cfg.HTTPWriteTimeout, IdleTimeout: s.cfg.IdleTimeout, MaxHeaderBytes: 64 << 10}
}

// Listener wraps ln so that one peer address has at most
// Limits.HTTPConnsPerAddress connections open at once; a further one is
// closed as soon as it is accepted. Trusted proxies are not limited (the
// per-client limits apply behind them, by forwarded address).
func (s *Server) Listener(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, s: s}
}

type limitListener struct {
	net.Listener
	s *Server
}

func peers(st *addrState) *int { return &st.peers }

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host, _, err := net.SplitHostPort(c.RemoteAddr().String())
		if err != nil || l.s.trusted(host) {
			return c, nil
		}
		if _, ok := l.s.addrs.count(host, peers, l.s.cfg.Limits.HTTPConnsPerAddress); !ok {
			l.s.cfg.Metrics.limit(limitConnections)
			c.Close()
			continue
		}
		return &countedConn{Conn: c, release: func() { l.s.addrs.uncount(host, peers, time.Now()) }}, nil
	}
}

// countedConn gives its place back once, when closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// SyscallConn is the socket's, so that an idle websocket on it can park
// (park.go).
func (c *countedConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.New("gateway: not a socket")
	}
	return sc.SyscallConn()
}

// errFrameBudget: the address's frame bytes are used up.
var errFrameBudget = errors.New("gateway: too many frame bytes in flight from this address")

// budgetReader reads one frame, charging its bytes to the address's
// budget (Limits.FrameBytesPerAddress) until done gives them back.
type budgetReader struct {
	r     io.Reader
	st    *addrState
	limit int64
	n     int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 && b.limit > 0 {
		b.n += int64(n)
		if b.st.reading.Add(int64(n)) > b.limit {
			return n, errFrameBudget
		}
	}
	return n, err
}

// done gives the frame's bytes back.
func (b *budgetReader) done() {
	if b.n != 0 {
		b.st.reading.Add(-b.n)
		b.n = 0
	}
	b.r = nil
}

// FrameBytesReading is how many bytes of frames are being read, now, from
// addr's sockets (for tests and monitoring).
func (s *Server) FrameBytesReading(addr string) int64 {
	s.addrs.mu.Lock()
	defer s.addrs.mu.Unlock()
	if st := s.addrs.m[addr]; st != nil {
		return st.reading.Load()
	}
	return 0
}
