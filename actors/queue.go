package actors

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// Department defaults (Department's zero values).
const (
	DefaultQueueLimit   = 200
	DefaultOfferTimeout = 30 * time.Second
	DefaultMaxChats     = 3
)

// queue is the actor of one department's queue ("queue/<department>"): the
// first-in-first-out line of waiting chats, ordered by ticket, and the
// dispatcher that offers its head to agents under the routing policy.
//
// It composes plain parts, each tested on its own: the line
// (queue_line.go), the wait estimate (queue_estimate.go) and the monitors'
// view throttle (queue_views.go); the offers, the roster they are made
// from and the cool-down after a decline are in queue_offers.go.
//
// Its view of agents (roster) comes from the agents' reports and is only a
// hint: the agent actor decides whether it takes an offer.
type queue struct {
	b       *Broker
	host    queueHost // brokerHost, or the simulator's
	id      string
	dept    *messages.Department // nil: no such department
	version uint64               // settingsVersion(dept)
	rec     *recording           // the journal entry of the input being handled

	line  line
	eta   estimator
	views viewThrottle

	roster    map[string]*candidate
	sorted    []*candidate // roster by id, rebuilt lazily
	rosterOK  bool
	lastRR    string
	offers    map[string]*offer
	nextOffer uint64
	retryStop func() bool
	traced    tracedWaits // traced chats in line (tracing.go)

	m *queueMetrics // nil: metrics off
}

func newQueue(b *Broker, id string) *queue {
	return &queue{b: b, id: id, line: newLine(), eta: newEstimator(), views: newViewThrottle(),
		roster: map[string]*candidate{}, offers: map[string]*offer{}}
}

func (q *queue) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if q.host == nil {
			q.host = &brokerHost{b: q.b, self: ctx.Self()}
		}
	case *messages.LiveQuery:
		ctx.Respond(q.live(q.host.Now()))
		return
	case *messages.RoutingExplain:
		ctx.Respond(q.explainWaiting(m.GetChatId()))
		return
	}
	q.handle(ctx.Message())
}

// handle is the queue's behaviour on one message, apart from the
// answers to asks (Receive): the actor runs it, and so does the
// simulator on recorded inputs (queueHost). What it sends goes out only
// once the input's journal entry is submitted (routing_record.go).
func (q *queue) handle(msg any) {
	switch msg.(type) {
	case *messages.FlushViews:
		q.flushViews()
		return
	case *messages.ViewQuery, *messages.OfferExpired, *messages.RetryDispatch, *actor.Stopping, *actor.Stopped:
		// These leave the monitors' view as it is.
	default:
		defer q.viewChanged()
	}
	q.host.hold()
	// A panic skips release: what the input sent does not go out without
	// its journal entry (the actor restarts, and its journal with it).
	defer q.host.drop()
	q.begin(msg)
	q.receive(msg)
	q.end(msg)
	q.host.release()
}

func (q *queue) receive(msg any) {
	switch m := msg.(type) {
	case *actor.Started:
		q.m = q.host.queueMetrics(q.id)
		q.reload()
	case *actor.Stopped, *actor.Restarting:
		q.m.stopped() // the line goes with this instance
	case *actor.Stopping:
	case *messages.DirectoryChanged:
		q.directoryChanged()
	case *messages.StartChat:
		q.admit(m)
	case *messages.Enqueue:
		q.enqueue(m)
	case *messages.QueueRestore:
		q.restore(m)
	case *messages.ActiveChat:
		q.activeChat(m)
	case *messages.Watch:
		q.views.watch(m.GetAgentId(), m.GetOn())
	case *messages.ViewQuery:
		q.host.Send(KindAgent, m.GetAgentId(), &messages.ViewAnswer{Token: m.GetToken(), View: q.view()})
	case *messages.Withdraw:
		q.withdraw(m)
	case *messages.AgentReport:
		q.agentReport(m)
	case *messages.OfferReply:
		q.offerReply(m)
	case *messages.OfferExpired:
		q.expired(m)
	case *messages.RetryDispatch:
		q.retry()
	case *messages.PickRequest:
		q.pick(m)
	case *messages.SupervisorAssign:
		q.supervisorAssign(m)
	case *messages.WaitingQuery:
		q.list(m)
	default:
		q.host.Logger().Warn("queue: unexpected message", "department", q.id, "type", fmt.Sprintf("%T", m))
	}
}

func (q *queue) reload() {
	d, err := q.host.Department(q.id)
	if err != nil {
		q.host.Logger().Error("queue: load department", "department", q.id, "err", err)
		return
	}
	q.dept, q.version = d, settingsVersion(d)
}

// directoryChanged reloads the department. When the queue went online or
// offline, its agents are told.
func (q *queue) directoryChanged() {
	was := q.dept
	q.reload()
	if was != nil && q.dept != nil && was.GetChatEnabled() != q.dept.GetChatEnabled() {
		st := &messages.Envelope{Body: &messages.Envelope_QueueState{QueueState: &messages.QueueState{
			Department: q.id, Online: q.dept.GetChatEnabled(), By: q.dept.GetOnlineChangedBy()}}}
		for id := range q.roster {
			q.host.Send(KindAgent, id, st)
		}
	}
	q.dispatch()
}

func (q *queue) limit() int {
	if n := q.dept.GetQueueLimit(); n > 0 {
		return int(n)
	}
	return DefaultQueueLimit
}

// admit takes a validated chat request (from the group): it refuses it
// when the line is full (or, with offline messages, when nobody could
// answer it), or gives it the next ticket and has it created.
func (q *queue) admit(m *messages.StartChat) {
	if capacity, _ := capacityOf(q.roster); capacity == 0 && q.dept.GetOfflineMessages() && m.GetChannel() == nil {
		// The visitor leaves a message instead of waiting for no one. A
		// channel's conversation waits in line instead: its customer does
		// not sit on a page, and the answer goes back to where they
		// wrote (an offline message is answered by email).
		q.refuse(m, messages.RefusalReason_REFUSAL_REASON_NOBODY_AVAILABLE,
			"nobody in %s can take a chat right now; leave a message and we will answer by email")
		return
	}
	t, ok := q.line.admit(m.GetChatId(), AddressKey(m.GetAddress()), q.limit(), q.host.LinePerAddress(), q.host.Now())
	if !ok {
		// To the visitor, a full share of their address is a full line.
		q.refuse(m, messages.RefusalReason_REFUSAL_REASON_QUEUE_FULL, "the %s queue is full; please try again in a few minutes")
		return
	}
	m.Ticket, m.Trace = t, q.host.admitted(m, q.id, ResultAdmitted)
	q.host.Send(KindChat, m.GetChatId(), m)
}

// refuse turns a request away for reason, counted and traced; format
// names the department with %s.
func (q *queue) refuse(m *messages.StartChat, reason messages.RefusalReason, format string) {
	if q.rec != nil {
		q.decide(nil, m.GetChatId(), &messages.RoutingDecision{Kind: messages.RoutingDecisionKind_ROUTING_DECISION_KIND_REFUSED, Refusal: reason,
			Detail: fmt.Sprintf(format, q.dept.GetName())})
	}
	q.m.refused(reason)
	q.host.statsRefused(q.id, reason)
	q.host.admitted(m, q.id, reasonOf(reason))
	q.host.Send(KindVisitor, m.GetVisitorId(), &messages.StartRefused{ChatId: m.GetChatId(), Conn: m.GetConn(), Ref: m.GetRef(),
		Refusal: &messages.ChatRefused{Reason: reason, Department: q.id, Message: fmt.Sprintf(format, q.dept.GetName())}})
}

// enqueue puts a created chat (or one transferred here) in line.
func (q *queue) enqueue(m *messages.Enqueue) {
	q.line.enqueue(m.GetChat(), m.GetTicket(), m.GetHead(), m.GetTarget())
	q.waiting(m)
	q.queued(q.line.byChat[m.GetChat().GetChatId()], "joined the line")
	if w := q.line.byChat[m.GetChat().GetChatId()]; w != nil && w.since.IsZero() {
		w.since = q.host.Now()
		if q.m != nil {
			q.m.enqueued()
			q.measureLine()
		}
	}
	q.notifyPositions()
	q.dispatch()
}

// restore takes the department's open chats after a restart (Recover).
func (q *queue) restore(m *messages.QueueRestore) {
	for _, oc := range m.GetChats() {
		q.line.insert(openSummary(oc), oc.GetTicket(), oc.GetHead(), oc.GetTarget())
		q.queued(q.line.byChat[oc.GetChatId()], "back in line after a restart")
		if w := q.line.byChat[oc.GetChatId()]; w != nil && w.since.IsZero() {
			w.since = time.Unix(0, int64(oc.GetTicket())) // tickets are times (line.admit)
		}
	}
	now := q.host.Now()
	for _, oc := range m.GetActive() {
		q.eta.restore(openSummary(oc), now)
	}
	q.measureLine()
	q.m.handling(len(q.eta.active))
	q.notifyPositions()
	q.dispatch()
}

// withdraw takes a chat whose visitor left out of line.
func (q *queue) withdraw(m *messages.Withdraw) {
	w := q.line.withdraw(m.GetChatId())
	q.forget(m.GetChatId())
	if w == nil {
		return
	}
	if w.offer != nil {
		q.m.offer(offerWithdrawn)
	}
	q.revoke(w, "the visitor left")
	q.note(w, w.chat.GetChatId(), messages.RoutingDecisionKind_ROUTING_DECISION_KIND_LEFT, "", func() string { return "the visitor left the line" })
	q.leave(w)
	q.notifyPositions()
	q.dispatch()
}

// activeChat follows the department's chats being handled. A chat that
// closes adds its handling time to the estimate.
func (q *queue) activeChat(m *messages.ActiveChat) {
	added := q.eta.update(m.GetChat(), m.GetEnded(), q.host.Now())
	q.m.handling(len(q.eta.active))
	if added {
		q.notifyPositions()
	}
}

// leave takes w out of the line (assigned, or gone), observing its wait.
func (q *queue) leave(w *waiting) {
	q.line.remove(w)
	if q.m != nil {
		if !w.since.IsZero() {
			q.m.left(q.host.Now().Sub(w.since))
		}
		q.measureLine()
	}
}

// measureLine sets the line's gauges (metrics on): how many wait, and
// since when the longest waiter has.
func (q *queue) measureLine() {
	if q.m == nil {
		return
	}
	q.m.line(len(q.line.waiting), oldestSince(q.line.waiting))
}

// notifyPositions tells every waiting visitor whose position changed, or
// whose estimated wait moved by etaResend or more.
func (q *queue) notifyPositions() {
	if len(q.line.waiting) == 0 {
		return // nobody to tell (the common case on every agent report)
	}
	n := uint32(len(q.line.waiting))
	capacity, free := capacityOf(q.roster)
	mean := q.eta.mean()
	for i, w := range q.line.waiting {
		pos := uint32(i + 1)
		eta := estimate(pos, capacity, free, mean)
		if !retell(w.notified, w.etaTold, pos, eta) {
			continue
		}
		w.notified, w.etaTold = pos, eta
		q.host.Send(KindVisitor, w.chat.GetVisitorId(), &messages.QueueUpdate{ChatId: w.chat.GetChatId(), Position: pos, QueueLength: n,
			EstimatedWaitMs: max(eta, 0), NoEstimate: eta < 0})
	}
}

// viewChanged pushes the live view to the department's monitors, at most
// once per viewEvery.
func (q *queue) viewChanged() {
	push, wait := q.views.changed(q.host.Now())
	switch {
	case push:
		q.pushViews()
	case wait > 0:
		q.host.After(wait, &messages.FlushViews{})
	}
}

// flushViews is the throttle's timer running out.
func (q *queue) flushViews() {
	if q.views.flush() {
		q.pushViews()
	}
}

// pushViews sends the monitors the view with the live figures and why
// the chat at the head of the line is there (which only the monitors
// get: an agent's transfer targets do not).
func (q *queue) pushViews() {
	now := q.host.Now()
	q.views.pushed(now)
	v := q.view()
	v.Live = q.live(now)
	if len(q.line.waiting) > 0 {
		v.HeadRouting = q.waitingDecision(q.line.waiting[0], now)
	}
	env := &messages.Envelope{Body: &messages.Envelope_DepartmentView{DepartmentView: v}}
	for id := range q.views.watchers {
		q.host.Send(KindAgent, id, env)
	}
}

// view is the department now: its queue, chats being handled and agents.
func (q *queue) view() *messages.DepartmentView {
	v := &messages.DepartmentView{Department: q.id, Name: q.dept.GetName(), Online: q.dept.GetChatEnabled(),
		AtMs: q.host.Now().UnixMilli(), WaitingCount: uint32(len(q.line.waiting))}
	v.Waiting = q.line.list(q.id)
	v.Active = q.eta.chats()
	for _, c := range q.candidates() {
		v.Agents = append(v.Agents, &messages.AgentLoad{AgentId: c.id, DisplayName: c.name, Status: c.status, Connected: c.connected, Load: c.load, MaxChats: c.max})
	}
	return v
}

// list answers an agent's ListWaiting through its agent actor, which adds
// its own unanswered and answered chats.
func (q *queue) list(m *messages.WaitingQuery) {
	q.host.Send(KindAgent, m.GetAgentId(), &messages.WaitingAnswer{Conn: m.GetConn(), Ref: m.GetRef(),
		List: &messages.WaitingList{Department: q.id, Chats: q.line.list(q.id), Online: q.dept.GetChatEnabled()}})
}
