package actors

import (
	"testing"
	"time"
)

// handClock fires nothing by itself: a test calls the timers it holds.
type handClock struct {
	fns     []func()
	stopped int
}

func (c *handClock) Now() time.Time { return time.Time{} }
func (c *handClock) AfterFunc(_ time.Duration, f func()) func() bool {
	c.fns = append(c.fns, f)
	return func() bool { c.stopped++; return true }
}

// Only the running timer's message counts: one from a timer stopped or
// armed again since, or a second one, is dropped.
func TestTimerCountsOnlyTheRunningArming(t *testing.T) {
	clock := &handClock{}
	b := &Broker{clock: clock}
	var tm timer
	tm.start(b, nil, time.Second, shiftTick)
	first := tm.token
	tm.start(b, nil, time.Second, shiftTick) // re-armed: the first is stopped
	if clock.stopped != 1 || tm.fired(first) {
		t.Fatalf("re-arming: stopped %d, first token still fires", clock.stopped)
	}
	if !tm.fired(tm.token) || tm.fired(tm.token) {
		t.Fatal("the running arming fires exactly once")
	}
	tm.start(b, nil, time.Second, shiftTick)
	tm.cancel()
	if clock.stopped != 2 || tm.fired(tm.token) || tm.fired(tm.token-1) {
		t.Fatal("a cancelled timer fires")
	}
}

// hold starts the timer once while wanted (a second hold keeps it) and
// stops it when no longer wanted.
func TestTimerHold(t *testing.T) {
	clock := &handClock{}
	b := &Broker{clock: clock}
	var tm timer
	tm.hold(b, nil, true, time.Second, graceExpired)
	tm.hold(b, nil, true, time.Second, graceExpired)
	if len(clock.fns) != 1 || !tm.armed {
		t.Fatalf("hold armed %d timers, want 1", len(clock.fns))
	}
	tm.hold(b, nil, false, time.Second, graceExpired)
	if tm.armed || clock.stopped != 1 {
		t.Fatal("hold(false) leaves the timer running")
	}
	tm.hold(b, nil, false, time.Second, graceExpired)
	if clock.stopped != 1 {
		t.Fatal("hold(false) on a stopped timer stops it again")
	}
}
