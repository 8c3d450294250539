package gateway

import (
	"errors"
	"os"
	"sync"
	"syscall"
	"time"
)

// poller is the process's one epoll set for parked sockets. A parked
// socket is armed once (EPOLLONESHOT) under its connection's number; the
// poller's goroutine takes the first event, forgets the connection and
// starts its reader. Whoever removes a connection from parked (the poller
// on an event, close on the server's side) owns its next reader: that is
// the one hand-over.
type poller struct {
	once   sync.Once
	epfd   int
	file   *os.File // the set as a file of Go's poller, kept for the process's life (its finalizer would close epfd)
	err    error
	mu     sync.Mutex
	next   uint64
	parked map[uint64]*wsConn
}

var thePoller = poller{parked: map[uint64]*wsConn{}}

func (p *poller) start() {
	p.once.Do(func() {
		p.epfd, p.err = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if p.err != nil {
			return
		}
		// The set itself waits in Go's own poller, as a socket does: when
		// a parked socket stirs, the runtime's scheduler wakes the loop
		// like any goroutine whose socket is ready. (A loop blocked in
		// epoll_wait would come back from a system call and wait for a
		// processor behind everything else on a busy machine: in the
		// bench that put tens of milliseconds on the assignments of
		// visitors whose sockets had parked.)
		if err := syscall.SetNonblock(p.epfd, true); err == nil {
			p.file = os.NewFile(uintptr(p.epfd), "switchboard-parked-sockets")
			if rc, err := p.file.SyscallConn(); err == nil {
				go p.loop(rc)
				return
			}
		}
		go p.loop(nil)
	})
}

// usable reports whether the poller runs.
func (p *poller) usable() bool {
	p.start()
	return p.err == nil
}

// quiet waits up to d for c's socket to become readable, without reading
// it, and reports whether it stayed quiet. Data, the peer's close or an
// error end the wait early (false: the reader goes on and meets them).
func (p *poller) quiet(c *wsConn, d time.Duration) bool {
	if c.check == nil { // made once: no allocation per frame
		c.check = func(fd uintptr) { c.ready = readable(fd) }
	}
	if c.raw.Control(c.check) != nil || c.ready {
		return false // something is there already: no timer needed
	}
	// The deadline is the socket's: a close handshake that starts while
	// this waits may meet it too, and then ends sooner than its own 5 s
	// (the socket is closed all the same).
	c.cc.SetReadDeadline(time.Now().Add(d))
	err := c.raw.Read(readable)
	c.cc.SetReadDeadline(time.Time{})
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// readable reports whether a read of fd would not block: data, the
// peer's close, or an error to meet.
func readable(fd uintptr) bool {
	var b [1]byte
	_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err != syscall.EAGAIN
}

// park arms c's socket and hands c over. It reports false, and c stays
// with its caller, when the socket could not be armed.
func (p *poller) park(c *wsConn) bool {
	p.mu.Lock()
	if c.closing() {
		// close ran (or runs now) and found nothing parked: the reader
		// stays and meets the close.
		p.mu.Unlock()
		return false
	}
	op := syscall.EPOLL_CTL_ADD
	if c.armed {
		op = syscall.EPOLL_CTL_MOD
	}
	c.armed = true
	if c.parkID == 0 {
		p.next++
		c.parkID = p.next
	}
	id := c.parkID
	p.parked[id] = c
	p.mu.Unlock()
	// From here c may be resumed by anyone; only locals are used.
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
	var err error
	cerr := c.raw.Control(func(fd uintptr) {
		// Inside Control the descriptor cannot be closed and reused.
		err = syscall.EpollCtl(p.epfd, op, int(fd), &ev)
		if err == syscall.EEXIST || err == syscall.ENOENT {
			op = syscall.EPOLL_CTL_ADD + syscall.EPOLL_CTL_MOD - op
			err = syscall.EpollCtl(p.epfd, op, int(fd), &ev)
		}
	})
	if err == nil && cerr == nil {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.parked[id] != c {
		return true // already resumed by someone else: theirs now
	}
	delete(p.parked, id)
	c.armed = false
	return false
}

// take removes c from the parked ones; true means the caller owns its
// next reader.
func (p *poller) take(c *wsConn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.parkID == 0 || p.parked[c.parkID] != c {
		return false
	}
	delete(p.parked, c.parkID)
	return true
}

// loop takes the set's events and starts each parked socket's reader.
// With rc, it waits in Go's poller and takes what is ready without
// blocking; without, it blocks in epoll_wait.
func (p *poller) loop(rc syscall.RawConn) {
	events := make([]syscall.EpollEvent, 128)
	for {
		n, err := p.wait(rc, events)
		if err != nil {
			if rc != nil {
				rc = nil // the runtime's poller refused the set: block instead
				continue
			}
			panic("gateway: epoll_wait: " + err.Error())
		}
		p.mu.Lock()
		for _, ev := range events[:n] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if c := p.parked[id]; c != nil {
				delete(p.parked, id)
				go c.resume()
			}
		}
		p.mu.Unlock()
	}
}

// wait returns the next events of the set.
func (p *poller) wait(rc syscall.RawConn, events []syscall.EpollEvent) (int, error) {
	if rc == nil {
		for {
			n, err := syscall.EpollWait(p.epfd, events, -1)
			if err != syscall.EINTR {
				return n, err
			}
		}
	}
	var n int
	var werr error
	err := rc.Read(func(fd uintptr) bool {
		// Every call first takes what is ready now; the runtime waits (its
		// registration is edge-triggered) only after the set was empty.
		n, werr = syscall.EpollWait(int(fd), events, 0)
		return werr != nil && werr != syscall.EINTR || n > 0
	})
	if err != nil {
		return 0, err
	}
	return n, werr
}
