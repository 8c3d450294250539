package actors

// The agent's offers and capacity: an offer reserves a slot until it is
// accepted, declined, withdrawn or assigned; picks and take-overs reserve
// one the same way. And the recent lists of chats missed and taken.

import (
	"fmt"
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// pendingOffer is a reserved slot: an offer, a pick or a take-over.
type pendingOffer struct {
	offerID  string
	dept     string
	offer    *messages.Offer
	accepted bool
	conn     *actor.PID // who accepted or picked, to answer
	ref      uint64
}

// recentKeep is how many unanswered and answered chats an agent's lists
// keep.
const recentKeep = 20

// reasonExpired is the reason of an offer withdrawn because its time ran
// out (it counts as unanswered).
const reasonExpired = "the offer expired"

// offerMessage handles the queues' and chats' messages about offers and
// assignments; it reports whether m was one of them.
func (a *agent) offerMessage(ctx actor.Context, m any) bool {
	switch m := m.(type) {
	case *messages.OfferChat:
		a.offered(ctx, m)
	case *messages.RevokeOffer:
		a.revoked(ctx, m)
	case *messages.PickRefused:
		a.pickRefused(ctx, m)
	case *messages.AssignResult:
		a.assigned(ctx, m)
	case *messages.WaitingAnswer:
		a.waitingAnswered(ctx, m)
	default:
		return false
	}
	return true
}

// offerCommand handles the agent's commands about offers and waiting
// chats; it reports whether m was one of them.
func (a *agent) offerCommand(ctx actor.Context, m *messages.SessionCommand) bool {
	conn, ref := m.GetConn(), m.GetRef()
	switch body := m.GetBody().(type) {
	case *messages.SessionCommand_AcceptOffer:
		a.accept(ctx, conn, ref, body.AcceptOffer.GetChatId())
	case *messages.SessionCommand_DeclineOffer:
		a.declineCommand(ctx, conn, ref, body.DeclineOffer.GetChatId())
	case *messages.SessionCommand_PickChat:
		a.pick(ctx, conn, ref, body.PickChat)
	case *messages.SessionCommand_ListWaiting:
		d := body.ListWaiting.GetDepartment()
		if !slices.Contains(a.rec.GetDepartments(), d) {
			sendErr(ctx, conn, ref, errorf(codeForbidden, "you are not in department %q", d))
			return true
		}
		a.b.Send(KindQueue, d, &messages.WaitingQuery{Conn: conn, Ref: ref, AgentId: a.id})
	default:
		return false
	}
	return true
}

func (a *agent) max() uint32 {
	if n := a.rec.GetMaxChats(); n > 0 {
		return n
	}
	return DefaultMaxChats
}

func (a *agent) loadCount() uint32 { return uint32(len(a.active) + len(a.pending)) }

// canTake says why the agent cannot take one more chat now, or "".
func (a *agent) canTake() string {
	switch {
	case a.rec == nil || !a.rec.GetChatAgent() || a.rec.GetSuspended() || !a.perms.Has(PermAcceptChats):
		return "not a live chat agent"
	case a.status != statusAvailable:
		return "not available"
	case a.conns.len() == 0:
		return "not connected"
	case a.loadCount() >= a.max():
		return fmt.Sprintf("at the limit of %d chats", a.max())
	}
	return ""
}

// report tells each of the agent's departments' queues its state, and the
// ones it left that it is gone.
func (a *agent) report(ctx actor.Context) {
	var deps []string
	if a.rec != nil && a.rec.GetChatAgent() && !a.rec.GetSuspended() && a.perms.Has(PermAcceptChats) {
		deps = a.rec.GetDepartments()
	}
	if a.b.metrics != nil {
		a.countStatus(deps)
	}
	a.statsActivity(deps)
	for d := range a.reported {
		if !slices.Contains(deps, d) {
			delete(a.reported, d)
			a.b.Send(KindQueue, d, &messages.AgentReport{AgentId: a.id, Member: false})
		}
	}
	for _, d := range deps {
		a.reported[d] = true
		a.b.Send(KindQueue, d, &messages.AgentReport{
			AgentId: a.id, DisplayName: a.rec.GetDisplayName(), Status: a.status, Connected: a.conns.len() > 0,
			Languages: a.rec.GetLanguages(), MaxChats: a.max(), Load: a.loadCount(), LastAssignedMs: a.lastAsgn, Member: true,
		})
	}
}

// countStatus moves the agent in switchboard_agents: counted in deps under
// its status while connected, in nothing otherwise.
func (a *agent) countStatus(deps []string) {
	status := ""
	if a.conns.len() > 0 {
		status = agentStatusName(a.status, a.loadCount() >= a.max())
	}
	a.b.metrics.agentMoved(&a.counted, status, deps)
}

func (a *agent) offered(ctx actor.Context, m *messages.OfferChat) {
	o := m.GetOffer()
	if why := a.canTake(); why != "" || a.pending[o.GetChatId()] != nil || a.active[o.GetChatId()] != nil ||
		!slices.Contains(a.rec.GetDepartments(), o.GetDepartment()) || !m.GetTargeted() && !slices.Contains(a.rec.GetLanguages(), o.GetLanguage()) {
		a.b.Send(KindQueue, o.GetDepartment(), &messages.OfferReply{OfferId: m.GetOfferId(), ChatId: o.GetChatId(), AgentId: a.id, Busy: true})
		a.report(ctx)
		return
	}
	p := &pendingOffer{offerID: m.GetOfferId(), dept: o.GetDepartment(), offer: o}
	a.pending[o.GetChatId()] = p
	if a.rec.GetAutoAccept() && a.perms.Has(PermAutoAccept) {
		p.accepted = true
		a.b.Send(KindQueue, p.dept, &messages.OfferReply{OfferId: p.offerID, ChatId: o.GetChatId(), AgentId: a.id, Accepted: true})
	} else {
		a.conns.push(ctx, &messages.Envelope{Body: &messages.Envelope_Offer{Offer: o}})
	}
	a.changed(ctx)
}

// accept answers the queue that the agent takes the offer of chat id.
func (a *agent) accept(ctx actor.Context, conn *actor.PID, ref uint64, id string) {
	p := a.pending[id]
	if (p == nil || p.offer == nil) && slices.Contains(a.gone, id) {
		sendErr(ctx, conn, ref, errorf(codeConflict, "the offer for chat %s is gone (it expired, was declined or was withdrawn)", id))
		return
	}
	if p == nil || p.offer == nil {
		sendErr(ctx, conn, ref, errorf(codeNotFound, "no offer for chat %s", id))
		return
	}
	if p.accepted {
		sendErr(ctx, conn, ref, errorf(codeConflict, "the offer for chat %s is already accepted", id))
		return
	}
	p.accepted, p.conn, p.ref = true, conn, ref
	a.b.Send(KindQueue, p.dept, &messages.OfferReply{OfferId: p.offerID, ChatId: p.offer.GetChatId(), AgentId: a.id, Accepted: true})
}

// declineCommand: the agent declines the open offer of chat id.
func (a *agent) declineCommand(ctx actor.Context, conn *actor.PID, ref uint64, id string) {
	p := a.pending[id]
	if p == nil || p.offer == nil || p.accepted {
		sendErr(ctx, conn, ref, errorf(codeNotFound, "no open offer for chat %s", id))
		return
	}
	a.decline(ctx, p)
	sendAck(ctx, conn, ref, &messages.Ack{ChatId: p.offer.GetChatId()})
	a.changed(ctx)
}

func (a *agent) decline(ctx actor.Context, p *pendingOffer) {
	delete(a.pending, p.offer.GetChatId())
	a.offerGone(p.offer.GetChatId())
	a.missed(p.offer)
	a.b.Send(KindQueue, p.dept, &messages.OfferReply{OfferId: p.offerID, ChatId: p.offer.GetChatId(), AgentId: a.id})
}

// declineUnaccepted hands back every offer nobody accepted yet, when the
// agent goes away or loses their last connection.
func (a *agent) declineUnaccepted(ctx actor.Context) {
	for _, p := range a.pending {
		if !p.accepted && p.offer != nil {
			a.decline(ctx, p)
			a.conns.push(ctx, &messages.Envelope{Body: &messages.Envelope_OfferWithdrawn{OfferWithdrawn: &messages.OfferWithdrawn{ChatId: p.offer.GetChatId(), Reason: "you are no longer available"}}})
		}
	}
}

// withdrawOutside declines the open offers the account no longer allows:
// every one once the agent no longer takes chats, and those of
// departments they left.
func (a *agent) withdrawOutside(ctx actor.Context) {
	for _, p := range a.pending {
		if p.accepted || p.offer == nil {
			continue
		}
		if !a.rec.GetChatAgent() || !a.perms.Has(PermAcceptChats) || !slices.Contains(a.rec.GetDepartments(), p.dept) {
			a.decline(ctx, p)
			a.conns.push(ctx, &messages.Envelope{Body: &messages.Envelope_OfferWithdrawn{OfferWithdrawn: &messages.OfferWithdrawn{
				ChatId: p.offer.GetChatId(), Reason: "you are no longer in department " + p.dept}}})
		}
	}
}

func (a *agent) revoked(ctx actor.Context, m *messages.RevokeOffer) {
	p := a.pending[m.GetChatId()]
	if p == nil || p.offerID != m.GetOfferId() {
		return
	}
	delete(a.pending, m.GetChatId())
	a.offerGone(m.GetChatId())
	if !p.accepted && p.offer != nil && m.GetReason() == reasonExpired {
		a.missed(p.offer)
	}
	a.conns.push(ctx, &messages.Envelope{Body: &messages.Envelope_OfferWithdrawn{OfferWithdrawn: &messages.OfferWithdrawn{ChatId: m.GetChatId(), Reason: m.GetReason()}}})
	a.changed(ctx)
	if p.accepted {
		sendErr(ctx, p.conn, p.ref, errorf(codeConflict, "the offer for chat %s is gone: %s", m.GetChatId(), m.GetReason()))
	}
}

// offerGone remembers that the offer of chat id ended.
func (a *agent) offerGone(id string) {
	a.gone = append(slices.DeleteFunc(a.gone, func(x string) bool { return x == id }), id)
	if len(a.gone) > recentKeep {
		a.gone = slices.Delete(a.gone, 0, len(a.gone)-recentKeep)
	}
}

func (a *agent) pick(ctx actor.Context, conn *actor.PID, ref uint64, m *messages.PickChat) {
	switch {
	case !slices.Contains(a.rec.GetDepartments(), m.GetDepartment()):
		sendErr(ctx, conn, ref, errorf(codeForbidden, "you are not in department %q", m.GetDepartment()))
		return
	case a.pending[m.GetChatId()] != nil || a.active[m.GetChatId()] != nil:
		sendErr(ctx, conn, ref, errorf(codeConflict, "chat %s is already yours or offered to you", m.GetChatId()))
		return
	}
	if why := a.canTake(); why != "" {
		sendErr(ctx, conn, ref, errorf(codeConflict, "you cannot take a chat now: %s", why))
		return
	}
	a.picks++
	id := fmt.Sprintf("pick:%s:%d", a.id, a.picks)
	a.pending[m.GetChatId()] = &pendingOffer{offerID: id, dept: m.GetDepartment(), accepted: true, conn: conn, ref: ref}
	a.b.Send(KindQueue, m.GetDepartment(), &messages.PickRequest{ChatId: m.GetChatId(), AgentId: a.id, AgentName: a.rec.GetDisplayName(), OfferId: id})
	a.changed(ctx)
}

// pickRefused frees the slot of a pick the queue refused.
func (a *agent) pickRefused(ctx actor.Context, m *messages.PickRefused) {
	if p := a.pending[m.GetChatId()]; p != nil && p.offerID == m.GetOfferId() {
		delete(a.pending, m.GetChatId())
		a.changed(ctx)
		e := m.GetError()
		if e == nil {
			e = errorf(codeConflict, "%s", m.GetReason())
		}
		sendErr(ctx, p.conn, p.ref, e)
	}
}

func (a *agent) assigned(ctx actor.Context, m *messages.AssignResult) {
	p := a.pending[m.GetChatId()]
	if p != nil && p.offerID == m.GetOfferId() {
		delete(a.pending, m.GetChatId())
	} else {
		p = nil
	}
	if !m.GetOk() {
		// The freed slot is pushed before the answer: when the client
		// reads the refusal, its agent_state already counts no reservation.
		a.changed(ctx)
		if p != nil {
			e := m.GetError()
			if e == nil {
				e = errorf(codeConflict, "chat %s could not be assigned (it ended meanwhile)", m.GetChatId())
			}
			sendErr(ctx, p.conn, p.ref, e)
		}
		return
	}
	// The assignment is stored: it is a fact even if we no longer expected it.
	a.lastAsgn = a.b.clock.Now().UnixMilli()
	delete(a.joined, m.GetChatId()) // a guest who took the chat over
	a.join(ctx, m.GetChat())
	a.answered = remember(a.answered, m.GetChat())
	a.listsChanged()
	if p != nil {
		sendAck(ctx, p.conn, p.ref, &messages.Ack{ChatId: m.GetChatId()})
	}
	a.changed(ctx)
}

// waitingAnswered completes a queue's waiting list with the agent's
// recent lists.
func (a *agent) waitingAnswered(ctx actor.Context, m *messages.WaitingAnswer) {
	l := m.GetList()
	a.refreshLists(ctx)
	l.Unanswered, l.Answered = slices.Clone(a.unanswered), slices.Clone(a.answered)
	ctx.Send(m.GetConn(), &messages.Envelope{Ref: m.GetRef(), Body: &messages.Envelope_WaitingList{WaitingList: l}})
}

// refreshLists brings the recent lists' states up to date from the
// open-chats index before they are shown: the agent hears nothing of a
// chat it missed once it closes or someone else takes it.
func (a *agent) refreshLists(ctx actor.Context) {
	changed := false
	for _, list := range [][]*messages.ChatSummary{a.unanswered, a.answered} {
		for i, s := range list {
			if s.GetState() == stateClosed {
				continue
			}
			oc, err := a.b.store.OpenChat(s.GetChatId())
			if err != nil {
				ctx.Logger().Error("agent: refresh lists", "agent", a.id, "chat", s.GetChatId(), "err", err)
				return
			}
			st := stateClosed
			if oc != nil {
				st = oc.GetState()
			}
			if st != s.GetState() {
				// A copy: the old summary may be on its way to a socket.
				list[i] = copySummary(s)
				list[i].State, changed = st, true
			}
		}
	}
	if changed {
		a.listsChanged()
	}
}

// missed records an offer the agent declined or let expire.
func (a *agent) missed(o *messages.Offer) {
	a.unanswered = remember(a.unanswered, &messages.ChatSummary{ChatId: o.GetChatId(), Department: o.GetDepartment(),
		Language: o.GetLanguage(), VisitorName: o.GetVisitorName(), State: stateQueued})
	a.listsChanged()
}

// remember puts s first in a recent list, without an older entry of the
// same chat, keeping recentKeep.
func remember(list []*messages.ChatSummary, s *messages.ChatSummary) []*messages.ChatSummary {
	out := make([]*messages.ChatSummary, 0, recentKeep)
	out = append(out, s)
	for _, x := range list {
		if len(out) == recentKeep {
			break
		}
		if x.GetChatId() != s.GetChatId() {
			out = append(out, x)
		}
	}
	return out
}
