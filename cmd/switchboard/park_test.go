package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// parkAfter: the sockets of the tests below park after this much quiet.
func parkAfter(d time.Duration) func(*Config) {
	return func(c *Config) { c.Gateway.ParkAfter = d }
}

// awaitParked waits until n sockets are parked.
func awaitParked(t *testing.T, m *Main, n int) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d parked sockets", n), func() bool { return m.Gateway().Parked() == n })
}

// TestIdleSocketsPark: a whole chat through sockets that park between
// every step (no reader goroutine while they wait): each step wakes the
// one that is written to, and both park again after it.
func TestIdleSocketsPark(t *testing.T) {
	m := startBroker(t, t.TempDir(), parkAfter(10*time.Millisecond))
	addr := m.Addr()
	v, chat := firstChatQueued(t, addr)
	awaitParked(t, m, 1)
	a := firstChatAccepted(t, addr, v, chat)
	awaitParked(t, m, 2)
	firstChatTalk(t, a, v, chat)
	awaitParked(t, m, 2)
	if _, err := v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_Ping{Ping: &messages.Ping{}}}); err != nil {
		t.Fatalf("ping through a parked socket: %v", err)
	}
	awaitParked(t, m, 2)
	firstChatClosed(t, a, v, chat)
	// The peer going away wakes its parked socket, which then cleans up.
	awaitParked(t, m, 2)
	v.CloseNow()
	eventually(t, "the visitor's socket gone", func() bool { return m.Gateway().Connections() == 1 })
	awaitParked(t, m, 1)
}

// TestParkedSocketClosedByServer: the Hello deadline and the shutdown
// reach sockets that are parked: each is closed with its code and cleaned
// up, and shutting down does not wait for a reader that is not there.
func TestParkedSocketClosedByServer(t *testing.T) {
	m := startBroker(t, t.TempDir(), parkAfter(5*time.Millisecond), func(c *Config) { c.Gateway.HelloTimeout = 300 * time.Millisecond })
	addr := m.Addr()
	silent := dial(t, addr, "visitor", false) // never says Hello
	awaitParked(t, m, 1)
	if _, err := silent.Recv(ctxT(t)); gateway.CloseCode(err) != gateway.CloseUnauthenticated {
		t.Fatalf("silent socket ended with %v, want close code %d", err, gateway.CloseUnauthenticated)
	}
	eventually(t, "the silent socket cleaned up", func() bool {
		return m.Gateway().Connections() == 0 && m.Gateway().Parked() == 0
	})

	v, _ := newVisitor(t, addr, false)
	awaitParked(t, m, 1)
	done := make(chan error, 1)
	go func() { done <- m.Close() }()
	if _, err := v.Recv(ctxT(t)); gateway.CloseCode(err) != gateway.CloseGoingAway {
		t.Fatalf("parked socket at shutdown ended with %v, want close code %d", err, gateway.CloseGoingAway)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("close: %v", err)
		}
	case <-ctxT(t).Done():
		t.Fatal("shutdown waited for a parked socket")
	}
	if n := m.Gateway().Parked(); n != 0 {
		t.Fatalf("%d sockets still parked after shutdown", n)
	}
}

// TestSocketsParkAndWakeConcurrently: many sockets ping while others park
// and wake around them (a park time shorter than a round trip on a busy
// machine); every ping is answered once, in order, and at the end every
// socket is cleaned up.
func TestSocketsParkAndWakeConcurrently(t *testing.T) {
	m := startBroker(t, t.TempDir(), parkAfter(time.Millisecond))
	addr := m.Addr()
	const sockets, rounds = 24, 40
	var wg sync.WaitGroup
	errs := make(chan error, sockets)
	for i := 0; i < sockets; i++ {
		v, _ := newVisitor(t, addr, i%2 == 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for r := 0; r < rounds; r++ {
				// A burst of one to three pings, then the answers.
				var refs []uint64
				for k := 0; k <= r%3; k++ {
					ref, err := v.Send(ctx, &messages.Envelope{Body: &messages.Envelope_Ping{Ping: &messages.Ping{}}})
					if err != nil {
						errs <- err
						return
					}
					refs = append(refs, ref)
				}
				for _, ref := range refs {
					got, err := v.Recv(ctx)
					if err != nil || got.GetRef() != ref || got.GetPong() == nil {
						errs <- fmt.Errorf("round %d: want the pong to %d, got %v, %v", r, ref, got, err)
						return
					}
				}
			}
			v.CloseNow()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	eventually(t, "every socket cleaned up", func() bool {
		return m.Gateway().Connections() == 0 && m.Gateway().Parked() == 0
	})
	if m.Gateway().ParkedEver() == 0 {
		t.Fatal("no socket ever parked")
	}
}

// TestParkedSocketDroppedByItsWriter: a parked socket whose peer stops
// reading (a tiny receive buffer, nothing read) while the chat floods it
// is dropped when a write times out; with no reader, closing the
// descriptor alone would leave it parked for good: it is cleaned up, and
// its visitor keeps their other socket.
func TestParkedSocketDroppedByItsWriter(t *testing.T) {
	m := startBroker(t, t.TempDir(), func(c *Config) {
		c.Gateway.WriteTimeout = 300 * time.Millisecond
		c.Gateway.OutboundQueue, c.Gateway.OutboundBytes = 1<<14, 64<<20 // the write times out before the queue is full
	})
	addr := m.Addr()
	v, vw := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", ""))
	a, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	accept(t, a, awaitOffer(t, a).GetChatId())

	slow := dialStalled(t, addr, vw.GetResumeToken())
	defer slow.CloseNow()
	eventually(t, "the stalled socket attached", func() bool { return m.Gateway().Connections() == 3 })
	awaitParked(t, m, 3)
	text := strings.Repeat("x", 8000)
	for i := 0; i < 900 && m.Gateway().Connections() == 3; i++ {
		send(t, a, chat, "", text)
	}
	eventually(t, "the stalled socket dropped and cleaned up", func() bool {
		return m.Gateway().Connections() == 2 && m.Gateway().Parked() <= 2
	})
	if got := send(t, v, chat, "", "still here"); got == 0 {
		t.Fatal("the visitor's other socket stopped")
	}
}
