package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// idleStop lets an actor stop itself once it has had no message for a
// while and has nothing left to keep (the actor's own check, on
// IdleCheck). It replaces Proto.Actor's receive timeout, whose timer
// goroutine writes the actor context's fields (CancelReceiveTimeout) while
// the actor may be running a message: the race detector reported it in
// long test runs.
//
// It runs on real time, as the receive timeout did, not on the broker's
// clock: it only frees memory (the next message activates the actor again
// from storage), and tests that move a fake clock by hours should not
// stop actors as a side effect.
type idleStop struct {
	after time.Duration
	last  time.Time // the last message while armed
	armed bool      // an IdleCheck is on its way
	at    time.Time // when the next one is due
}

// arm watches for d without a message, from now. Armed already, it moves
// the start and takes the new d; a check comes sooner if d ends before
// the one on its way.
func (s *idleStop) arm(ctx actor.Context, d time.Duration) {
	now := time.Now()
	s.after, s.last = d, now
	if !s.armed || now.Add(d).Before(s.at) {
		s.armed = true
		s.schedule(ctx, now, d)
	}
}

// touch notes a message.
func (s *idleStop) touch() {
	if s.armed {
		s.last = time.Now()
	}
}

// due answers an IdleCheck: true when no message came for the whole
// period (the watch then ends; arm starts it again), false when one did
// (the check comes again when the period from it ends) or when the watch
// is off. Extra checks (a sooner one asked by arm) are harmless.
func (s *idleStop) due(ctx actor.Context) bool {
	if !s.armed {
		return false
	}
	now := time.Now()
	if left := s.after - now.Sub(s.last); left > 0 {
		if !s.at.After(now) {
			s.schedule(ctx, now, left)
		}
		return false
	}
	s.armed = false
	return true
}

func (s *idleStop) schedule(ctx actor.Context, now time.Time, d time.Duration) {
	s.at = now.Add(d)
	self, root := ctx.Self(), ctx.ActorSystem().Root
	time.AfterFunc(d, func() { root.Send(self, &messages.IdleCheck{}) })
}
