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
}

// arm watches for d without a message, from now. Armed already, it only
// moves the start (and takes the new d).
func (s *idleStop) arm(ctx actor.Context, d time.Duration) {
	s.after, s.last = d, time.Now()
	if !s.armed {
		s.armed = true
		s.schedule(ctx, d)
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
// (the check comes again when the period from it ends).
func (s *idleStop) due(ctx actor.Context) bool {
	if !s.armed {
		return false
	}
	if left := s.after - time.Since(s.last); left > 0 {
		s.schedule(ctx, left)
		return false
	}
	s.armed = false
	return true
}

func (s *idleStop) schedule(ctx actor.Context, d time.Duration) {
	self, root := ctx.Self(), ctx.ActorSystem().Root
	time.AfterFunc(d, func() { root.Send(self, &messages.IdleCheck{}) })
}
