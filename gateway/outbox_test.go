package gateway

import "testing"

// TestOutboxIdleKeepsAClosingWriter: a lingering writer ends only while
// the socket is not closing; once it is, the writer stays to close it
// (close starts no second writer while one runs).
func TestOutboxIdleKeepsAClosingWriter(t *testing.T) {
	var o outbox
	o.init(8, 1<<10, func() {})
	o.start()
	o.writers.Wait()
	o.writing = true // as if the writer still ran
	closing := make(chan struct{})
	close(closing)
	if o.idle(closing) {
		t.Fatal("a closing socket's writer was let go")
	}
	if !o.writing {
		t.Fatal("the writer was marked ended")
	}
	if !o.idle(make(chan struct{})) || o.writing {
		t.Fatal("an idle writer of an open socket was kept")
	}
}
