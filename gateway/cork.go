package gateway

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// corkConn sits under a websocket and lets the connection's writer gather
// every frame that is ready into one write to the socket: coder/websocket
// flushes after each message, and a syscall per frame was a third of the
// broker's CPU under load. Frames stay separate websocket messages; only
// the system calls are shared.
//
// While corked, writes are appended to a buffer; uncork writes the buffer
// in one call, bounded by a deadline. Writes made by other goroutines
// (the library's pongs and close frames) while corked join the buffer in
// order.
type corkConn struct {
	net.Conn
	pre    []byte // read past the HTTP request before the hijack; Read serves it first
	mu     sync.Mutex
	corked bool
	buf    []byte
}

// maxKeptCorkBuffer: a larger buffer is dropped after use, so a burst does
// not pin memory on an idle connection.
const maxKeptCorkBuffer = 32 << 10

func (c *corkConn) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork writes what was gathered, within timeout.
func (c *corkConn) uncork(timeout time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	if len(c.buf) == 0 {
		return nil
	}
	c.Conn.SetWriteDeadline(time.Now().Add(timeout))
	_, err := c.Conn.Write(c.buf)
	c.Conn.SetWriteDeadline(time.Time{})
	if cap(c.buf) > maxKeptCorkBuffer {
		c.buf = nil
	} else {
		c.buf = c.buf[:0]
	}
	return err
}

// corkingWriter hands websocket.Accept a hijacked connection wrapped in a
// corkConn.
type corkingWriter struct {
	http.ResponseWriter
	conn   *corkConn
	br     *bufio.Reader   // the websocket's read buffer
	raw    syscall.RawConn // the socket's descriptor (nil: not a plain socket)
	status int             // what Accept answered when it refused (403: origin)
}

func (w *corkingWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *corkingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("gateway: the response writer cannot be hijacked")
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		nc.Close()
		return nil, nil, err
	}
	// Smaller buffers than net/http's 4 KiB each: chat frames are small,
	// writes gather in the corkConn anyway, and every idle connection
	// keeps both for its whole life. Bytes the server already read past
	// the request come first from the connection itself.
	buffered, _ := brw.Reader.Peek(brw.Reader.Buffered())
	w.conn = &corkConn{Conn: nc, pre: append([]byte(nil), buffered...)}
	if sc, ok := nc.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			w.raw = raw
		}
	}
	w.br = bufio.NewReaderSize(w.conn, hijackReadBuffer)
	return w.conn, bufio.NewReadWriter(w.br, bufio.NewWriterSize(w.conn, hijackWriteBuffer)), nil
}

const (
	hijackReadBuffer  = 2048
	hijackWriteBuffer = 1024
)
