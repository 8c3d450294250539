package actors

import (
	"fmt"
	"slices"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// probe is an actor of the Broker's making for the passivation tests: it
// passivates on IdleCheck, records each Persisted it runs with its
// activation's number, and calls onStopped at Stopped.
type probe struct {
	n         int
	got       *[]string
	onStopped func()
}

func (p *probe) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *messages.IdleCheck:
		passivate(ctx)
	case *messages.Persisted:
		*p.got = append(*p.got, fmt.Sprintf("%d:%d", p.n, m.GetToken()))
	case *actor.Stopped:
		if p.onStopped != nil {
			p.onStopped()
		}
	}
}

// probeHarness registers the probe kind; stopped runs at the Stopped of
// the first activation.
func probeHarness(t *testing.T, stopped func(h *harness)) (*harness, *[]string) {
	h := newHarness(t)
	got := &[]string{}
	activations := 0
	h.b.props["probe"] = func(id string, carry []interface{}) *actor.Props {
		return h.b.newProps(Name{"probe", id}, carry, func() actor.Actor {
			activations++
			p := &probe{n: activations, got: got}
			if activations == 1 && stopped != nil {
				p.onStopped = func() { stopped(h) }
			}
			return p
		})
	}
	h.b.PID("probe", "p1")
	h.drain()
	return h, got
}

// Messages queued behind an idle passivation are not dropped: the next
// activation runs them, in order (a chat's command that came while its
// idle check ran was lost before).
func TestPassivationHandsQueuedMessagesOn(t *testing.T) {
	h, got := probeHarness(t, nil)
	pid := h.b.PID("probe", "p1")
	h.b.root.Send(pid, &messages.IdleCheck{})
	h.b.root.Send(pid, &messages.Persisted{Token: 1})
	h.b.root.Send(pid, &messages.Persisted{Token: 2})
	h.drain()
	if want := []string{"2:1", "2:2"}; !slices.Equal(*got, want) {
		t.Fatalf("ran %v, want %v", *got, want)
	}
}

// A message sent once Proto.Actor took the stopping actor out of the
// registry, before its Stopped handed its mailbox on, activates the actor
// again after the messages queued before it, not ahead of them.
func TestPassivationKeepsOrderWithASenderInTheGap(t *testing.T) {
	h, got := probeHarness(t, func(h *harness) { h.b.Send("probe", "p1", &messages.Persisted{Token: 3}) })
	pid := h.b.PID("probe", "p1")
	h.b.root.Send(pid, &messages.IdleCheck{})
	h.b.root.Send(pid, &messages.Persisted{Token: 1})
	h.drain()
	if want := []string{"2:1", "2:3"}; !slices.Equal(*got, want) {
		t.Fatalf("ran %v, want %v", *got, want)
	}
	n := Name{"probe", "p1"}
	s := h.b.activation.stripe(n)
	s.Lock()
	left := len(s.closing)
	s.Unlock()
	if left != 0 {
		t.Errorf("%d closing mailboxes left behind", left)
	}
}

// A stop from outside (a supervisor giving up, a test) is not a
// passivation: its mailbox is not handed on.
func TestStopFromOutsideIsNotHandedOn(t *testing.T) {
	h, got := probeHarness(t, nil)
	pid := h.b.PID("probe", "p1")
	h.b.root.Stop(pid)
	h.b.root.Send(pid, &messages.Persisted{Token: 1})
	h.drain()
	if len(*got) != 0 {
		t.Fatalf("ran %v after a stop from outside", *got)
	}
}
