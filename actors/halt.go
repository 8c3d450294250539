package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Halt stops every actor of this broker, and activates none after: a
// message sent to any of them is dropped (a dead letter). Cluster mode
// calls it when this node hands its actors to another, after the gateway
// closed its sockets: Proto.Actor's Shutdown leaves actors running, and
// their timers (grace periods, retries of mail and webhooks) must not
// act for an owner that is gone. It waits at most timeout for them to
// stop. Their writes still in the store's queue are committed or failed
// by the store, as at any stop.
func (b *Broker) Halt(timeout time.Duration) {
	var pids []*actor.PID
	for i := range b.activation.stripes {
		s := &b.activation.stripes[i]
		s.Lock()
		if !s.halted {
			s.halted = true
			for _, pid := range s.live {
				pids = append(pids, pid)
			}
			clear(s.closing)
		}
		s.Unlock()
	}
	futures := make([]*actor.Future, 0, len(pids))
	for _, pid := range pids {
		futures = append(futures, b.root.StopFuture(pid))
	}
	deadline := time.Now().Add(timeout)
	for _, f := range futures {
		if time.Until(deadline) <= 0 {
			b.log.Warn("actors: halt: some actors did not stop in time", "actors", len(pids))
			return
		}
		_ = f.Wait()
	}
}

// haltedPID is where messages go once the broker halted: nowhere.
func (b *Broker) haltedPID(n Name) *actor.PID {
	return actor.NewPID(b.system.Address(), "halted/"+n.String())
}
