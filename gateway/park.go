// Parking idle sockets: a connection that has read nothing for ParkAfter
// gives up its reader goroutine (and the stack it grew handling frames,
// and its frame buffer) and waits in the poller instead; the next byte,
// the peer's close or the server closing it starts a fresh reader where
// the last one stopped. An idle socket then costs no goroutine.
//
// The wait happens on the socket, below the websocket's read buffer:
// coder/websocket reads that buffer under its own lock, and so does its
// Close (the close handshake). The reader looks into the buffer only
// under c.rd and only while the socket is not closing; the writer passes
// through c.rd once after the socket started closing and before it calls
// Close (writer.go), so the two never read the buffer at once.

package gateway

import (
	"bytes"
	"time"
)

// DefaultParkAfter is how long a socket may read nothing before it is
// parked.
const DefaultParkAfter = 500 * time.Millisecond

// readOn is the connection's reader: it reads frames until the socket
// ends (then it cleans up) or it parks (then a later goroutine goes on).
func (c *wsConn) readOn() {
	if c.reader() {
		return // parked: resume starts the next reader
	}
	c.finish()
}

// resume is started by the poller when a parked socket may be read, or by
// close when the server ends a parked one.
func (c *wsConn) resume() {
	c.s.parked.Add(-1)
	c.readOn()
}

// waitFrame runs on the reader goroutine between frames. When nothing is
// buffered it waits up to ParkAfter for the socket to become readable,
// and if it stays quiet, parks it. It reports true when the socket was
// parked: the caller's goroutine must then leave the connection alone.
// It reports false when the reader should go on and read a frame (which
// also meets any error or the socket's end).
func (c *wsConn) waitFrame() (parked bool) {
	after := c.s.cfg.ParkAfter
	if after <= 0 || c.raw == nil || !c.s.poll.usable() {
		return false
	}
	c.rd.Lock()
	empty := !c.closing() && c.br.Buffered() == 0 && len(c.cc.pre) == 0
	c.rd.Unlock()
	if !empty || !c.s.poll.quiet(c, after) {
		return false
	}
	// Nothing came: let go of what an idle socket does not need, then
	// hand the connection to the poller (which refuses a closing one).
	c.buf = bytes.Buffer{}
	c.s.parked.Add(1)
	if c.s.poll.park(c) {
		c.s.parks.Add(1)
		return true
	}
	c.s.parked.Add(-1)
	return false
}

// closeBarrier is the writer's pass through c.rd before the websocket's
// Close reads the buffer (see the top of this file).
func (c *wsConn) closeBarrier() {
	c.rd.Lock()
	c.rd.Unlock() //nolint:staticcheck // an empty critical section: a barrier
}

// drop closes the socket at once (no close handshake) from any goroutine.
// A parked socket has no reader to see that, and its descriptor leaves
// the poller's set without an event when it closes: so it gets a reader,
// which meets the closed socket and cleans up.
func (c *wsConn) drop() {
	c.ws.CloseNow()
	c.unpark()
}

// unpark is close's part: a parked socket has no reader to see the close,
// so it gets one (which then meets the closed socket and cleans up).
func (c *wsConn) unpark() {
	if c.s.poll.take(c) {
		// Called through an interface: the command table refers to close,
		// and a direct call here would make its initialisation a cycle.
		var r resumer = c
		go r.resume()
	}
}

type resumer interface{ resume() }

// Parked returns how many sockets are parked now.
func (s *Server) Parked() int { return int(s.parked.Load()) }

// ParkedEver returns how many times a socket was parked.
func (s *Server) ParkedEver() int64 { return s.parks.Load() }
