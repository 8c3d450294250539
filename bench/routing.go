package bench

import (
	"context"
	"fmt"
	rnd "math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// The routing phase (issue 20): traffic that exercises every routing
// decision, for `switchboard simulate` to replay from the kept data
// folder. Agents decline some offers, let others expire, transfer some
// chats to another department and close the rest at once; a few agents
// at a time go away and come back (shifts). Visitors wait for their chat
// to close, in a closed loop, until RoutingChats chats have started.

// Routing is the routing phase's figures.
type Routing struct {
	Chats         uint64  `json:"chats"`
	Assigned      uint64  `json:"assigned"`
	Declined      uint64  `json:"declined"`
	Expired       uint64  `json:"expired"`
	Transferred   uint64  `json:"transferred"`
	StatusChanges uint64  `json:"status_changes"`
	PerS          float64 `json:"chats_per_s"`
	// AssignmentsPerSNoRecords is the closed loop's assignment rate of
	// the same broker restarted with -routing-records=false, measured
	// right after assign-max; RecordsCost is 1 - assign-max's rate over
	// it (the share of the rate that recording decisions costs; negative:
	// within the noise).
	AssignmentsPerSNoRecords float64 `json:"assignments_per_s_no_records,omitempty"`
	RecordsCost              float64 `json:"records_cost,omitempty"`
}

// routingMix is how agents answer offers and handle chats in the phase.
type routingMix struct {
	decline, ignore, transfer float64
	// transferTo is where a chat in a language may be transferred: the
	// departments with an agent who speaks it.
	transferTo map[string][]string

	declined, expired, transferred, assigned, statuses atomic.Uint64
	moved                                              sync.Map // chat id -> true: transferred once
	offered                                            sync.Map // chat id -> [2]string{department, language} of its last offer
}

// routingOfferTimeout is the departments' offer timeout during the phase,
// short so that ignored offers expire while it runs.
const routingOfferTimeout = time.Second

// answer is an agent's answer to an offer in the phase: accept, decline
// or ignore (let it expire).
func (m *routingMix) answer() string {
	switch x := rnd.Float64(); {
	case x < m.decline:
		m.declined.Add(1)
		return "decline"
	case x < m.decline+m.ignore:
		m.expired.Add(1)
		return "ignore"
	}
	return "accept"
}

// handled is what an agent does with a chat they got: transfer it (once
// per chat, to another department that speaks its language) or close it.
func (m *routingMix) handled(chat, dept, lang string) *messages.Envelope {
	if _, done := m.moved.Load(chat); !done && rnd.Float64() < m.transfer {
		others := slices.DeleteFunc(slices.Clone(m.transferTo[lang]), func(d string) bool { return d == dept })
		if len(others) > 0 {
			m.moved.Store(chat, true)
			m.transferred.Add(1)
			return &messages.Envelope{Body: &messages.Envelope_TransferChat{TransferChat: &messages.TransferChat{
				ChatId: chat, ToDepartment: others[rnd.IntN(len(others))]}}}
		}
	}
	return &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}}
}

// routingPhase runs the phase when the profile asks for it.
func (r *runner) routingPhase(ctx context.Context) error {
	p := r.cfg.Profile
	if p.RoutingChats == 0 {
		return nil
	}
	r.phase.Store("routing")
	depts, _ := benchDirectory(p, "")
	if err := r.offerTimeouts(ctx, depts, routingOfferTimeout); err != nil {
		return err
	}
	mix := &routingMix{decline: 0.1, ignore: 0.05, transfer: 0.15, transferTo: map[string][]string{}}
	for _, a := range r.agentDefs {
		for _, l := range a.Languages {
			for _, d := range a.Departments {
				if !slices.Contains(mix.transferTo[l], d) {
					mix.transferTo[l] = append(mix.transferTo[l], d)
				}
			}
		}
	}
	s := r.sim
	s.convLimit.Store(0)
	s.routing.Store(mix)
	defer s.routing.Store(nil)
	start := time.Now()
	stopShifts := r.shifts(ctx, mix)
	var issued atomic.Int64
	err := parallel(ctx, p.AssignVisitors, p.AssignVisitors, func(int) error {
		v, err := r.visitor(ctx)
		if err != nil {
			return err
		}
		defer r.release(v)
		for issued.Add(1) <= int64(p.RoutingChats) && ctx.Err() == nil {
			r.routedChat(ctx, v)
		}
		return nil
	})
	stopShifts()
	rt := &r.rep.Routing
	rt.Chats, rt.Assigned = uint64(min(issued.Load(), int64(p.RoutingChats))), mix.assigned.Load()
	rt.Declined, rt.Expired, rt.Transferred, rt.StatusChanges = mix.declined.Load(), mix.expired.Load(), mix.transferred.Load(), mix.statuses.Load()
	rt.PerS = round1(float64(rt.Chats) / time.Since(start).Seconds())
	r.note("routing: %d chats (%d assignments, %d declined, %d let expire, %d transferred, %d status changes) at %.0f/s",
		rt.Chats, rt.Assigned, rt.Declined, rt.Expired, rt.Transferred, rt.StatusChanges, rt.PerS)
	if err != nil {
		return err
	}
	return r.offerTimeouts(ctx, depts, 30*time.Second)
}

// routedChat asks for a chat in a random agent's home department and
// language and waits until an agent closes it.
func (r *runner) routedChat(ctx context.Context, v *peer) {
	dept, lang := r.homePair(rnd.IntN(len(r.agentDefs)))
	chat, refused, err := r.requestChat(ctx, v, dept, lang)
	switch {
	case err != nil:
		r.sim.fail("request chat: %v", err)
		return
	case refused != nil:
		r.sim.refused.Add(1)
		return
	}
	if what := v.await(ctx, "closed"); what != "closed" {
		r.sim.fail("routing: chat %s was not closed (%s)", chat, what)
		r.closeChat(ctx, v, chat)
		return
	}
	r.sim.completed.Add(1)
	v.mu.Lock()
	delete(v.chats, chat)
	v.mu.Unlock()
}

// shifts sends one agent at a time away and back, every 200 ms, until the
// returned function is called (which waits for the last one to be back).
func (r *runner) shifts(ctx context.Context, mix *routingMix) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	set := func(a *peer, st messages.AgentStatus) {
		if _, err := a.call(ctx, &messages.Envelope{Body: &messages.Envelope_SetStatus{SetStatus: &messages.SetStatus{Status: st}}}); err != nil {
			r.sim.fail("agent %s: set status: %v", a.id, err)
			return
		}
		mix.statuses.Add(1)
	}
	go func() {
		defer close(done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			a := r.agents[rnd.IntN(len(r.agents))]
			set(a, messages.AgentStatus_AGENT_STATUS_AWAY)
			select {
			case <-t.C:
			case <-stop:
			case <-ctx.Done():
			}
			set(a, messages.AgentStatus_AGENT_STATUS_AVAILABLE)
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			default:
			}
		}
	}()
	return func() {
		close(stop)
		<-done
	}
}

// offerTimeouts sets every bench department's offer timeout.
func (r *runner) offerTimeouts(ctx context.Context, depts []string, d time.Duration) error {
	ad := admin{base: "http://" + r.addr, token: r.adminToken}
	for _, dep := range depts {
		if err := ad.put(ctx, "/admin/departments/"+dep, benchDepartment(dep, d)); err != nil {
			return fmt.Errorf("department %s: %w", dep, err)
		}
	}
	return nil
}

// routingOffer answers an offer in the routing phase (under p.mu): the
// answer goes out without waiting, like an accept.
func (p *peer) routingOffer(mix *routingMix, o *messages.Offer) {
	mix.offered.Store(o.GetChatId(), [2]string{o.GetDepartment(), o.GetLanguage()})
	var env *messages.Envelope
	switch mix.answer() {
	case "ignore":
		return
	case "decline":
		env = &messages.Envelope{Body: &messages.Envelope_DeclineOffer{DeclineOffer: &messages.DeclineOffer{ChatId: o.GetChatId()}}}
	default:
		env = &messages.Envelope{Body: &messages.Envelope_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: o.GetChatId()}}}
	}
	p.sendLockedNoWait(env)
}

// routingAssigned handles a chat an agent got in the routing phase
// (under p.mu).
func (p *peer) routingAssigned(mix *routingMix, sd *side) {
	mix.assigned.Add(1)
	p.s.led.transferable(sd.chat)
	where, _ := mix.offered.Load(sd.chat)
	dl, _ := where.([2]string)
	env := mix.handled(sd.chat, dl[0], dl[1])
	// A chat transferred away is no longer this agent's (their load
	// check must not count it); one they get back is again.
	sd.closed = env.GetTransferChat() != nil
	p.sendLockedNoWait(env)
}

// sendLockedNoWait sends env with a fresh ref whose answer is dropped
// (under p.mu).
func (p *peer) sendLockedNoWait(env *messages.Envelope) {
	p.ref++
	env.Ref = p.ref
	p.calls[p.ref] = make(chan *messages.Envelope, 1)
	if err := p.c.send(env); err != nil {
		p.s.fail("%s %s: %v", p.kindName(), p.id, err)
	}
}
