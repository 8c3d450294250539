package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// timer is one of an actor's one-shot timers on the broker's clock (a
// grace period, the next shift change, a deferred save). When it runs out
// the actor gets a message carrying the timer's token. A stopped timer's
// AfterFunc may have fired already, and a timer armed again leaves the old
// message on its way: neither matches the token any more, so fired drops
// them. (idleStop is apart: it runs on real time, see idle.go.)
type timer struct {
	armed bool
	token uint64
	stop  func() bool
}

// start arms the timer anew (stopping a running one): after d, self gets
// msg(token).
func (t *timer) start(b *Broker, self *actor.PID, d time.Duration, msg func(token uint64) any) {
	t.cancel()
	t.armed = true
	t.token++
	tok, root := t.token, b.root
	t.stop = b.clock.AfterFunc(d, func() { root.Send(self, msg(tok)) })
}

// hold keeps the timer running while want holds: it starts it when want
// holds and it is not armed, and stops it when want does not hold.
func (t *timer) hold(b *Broker, self *actor.PID, want bool, d time.Duration, msg func(token uint64) any) {
	switch {
	case want && !t.armed:
		t.start(b, self, d, msg)
	case !want:
		t.cancel()
	}
}

// cancel stops the timer if it runs.
func (t *timer) cancel() {
	if t.armed {
		t.armed = false
		t.token++
		t.stop()
	}
}

// fired reports whether token is the running timer's (and disarms it).
func (t *timer) fired(token uint64) bool {
	if !t.armed || token != t.token {
		return false
	}
	t.armed = false
	return true
}

// The timers' messages.
func graceExpired(token uint64) any   { return &messages.GraceExpired{Token: token} }
func silenceExpired(token uint64) any { return &messages.GraceExpired{Token: token, Silence: true} }
func shiftTick(token uint64) any      { return &messages.ShiftTick{Token: token} }
func saveListsDue(token uint64) any   { return &messages.SaveListsDue{Token: token} }
