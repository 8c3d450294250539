package gateway

import (
	"os"
	"syscall"
	"testing"
)

// TestPollerWaitBothWays: the set's events come back whether the loop
// waits in Go's poller (the set's descriptor through os.NewFile) or
// blocks in epoll_wait (the fallback), each event once (EPOLLONESHOT).
func TestPollerWaitBothWays(t *testing.T) {
	for _, inRuntime := range []bool{true, false} {
		epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			t.Fatal(err)
		}
		p := &poller{epfd: epfd}
		var rc syscall.RawConn
		if inRuntime {
			if err := syscall.SetNonblock(epfd, true); err != nil {
				t.Fatal(err)
			}
			f := os.NewFile(uintptr(epfd), "test-set")
			defer f.Close()
			if rc, err = f.SyscallConn(); err != nil {
				t.Fatal(err)
			}
		} else {
			defer syscall.Close(epfd)
		}
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close()
		id := uint64(7)<<32 | 5
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLONESHOT, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
		if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, int(r.Fd()), &ev); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte{1}); err != nil {
			t.Fatal(err)
		}
		events := make([]syscall.EpollEvent, 4)
		n, err := p.wait(rc, events)
		if err != nil || n != 1 {
			t.Fatalf("in runtime %v: wait = %d, %v; want one event", inRuntime, n, err)
		}
		if got := uint64(uint32(events[0].Fd)) | uint64(uint32(events[0].Pad))<<32; got != id {
			t.Fatalf("in runtime %v: event for %x, want %x", inRuntime, got, id)
		}
		// One shot: nothing more until it is armed again.
		if n, _ := syscall.EpollWait(epfd, events, 0); n != 0 {
			t.Fatalf("in runtime %v: %d more events after the one shot", inRuntime, n)
		}
	}
}
