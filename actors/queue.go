package actors

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// Department defaults (Department's zero values).
const (
	DefaultQueueLimit   = 200
	DefaultOfferTimeout = 30 * time.Second
	DefaultMaxChats     = 3
	// declineCooldown is how long an agent who declined (or let expire) an
	// offer is not offered that chat again, unless nobody else can take it.
	declineCooldown = 15 * time.Second
)

// queue is the actor of one department's queue ("queue/<department>"): the
// first-in-first-out line of waiting chats, ordered by ticket, and the
// dispatcher that offers its head to agents under the routing policy.
//
// Its view of agents (roster) comes from the agents' reports and is only a
// hint: the agent actor decides whether it takes an offer.
type queue struct {
	b    *Broker
	id   string
	self *actor.PID
	dept *messages.Department // nil: no such department

	waiting   []*waiting // by ticket
	byChat    map[string]*waiting
	admitting map[string]bool // chats being created: they count toward the limit
	lastTick  uint64
	// Each waiting (or admitted) chat's client address, and how many
	// chats each address has in line (Config.LinePerAddress).
	addrOf  map[string]string
	perAddr map[string]int

	roster    map[string]*candidate
	sorted    []*candidate // roster by id, rebuilt lazily
	rosterOK  bool
	lastRR    string
	offers    map[string]*offer
	nextOffer uint64
	retryStop func() bool

	// The department's chats being handled, for its monitors, and the
	// recent handling times, for the wait estimate.
	active  map[string]*handled
	handled []time.Duration // the last handledKeep, oldest first
	// Agents following the live view, and its throttle.
	watchers   map[string]bool
	viewDirty  bool
	flushArmed bool
	lastPush   time.Time
}

type handled struct {
	chat  *messages.ChatSummary
	since time.Time
}

// The wait estimate: the mean of the last handledKeep handling times, or
// DefaultHandlingTime before there are any. Monitors get at most one view
// per viewEvery.
const (
	handledKeep         = 20
	DefaultHandlingTime = 3 * time.Minute
	viewEvery           = 250 * time.Millisecond
	etaResend           = 15 * time.Second
)

type waiting struct {
	chat     *messages.ChatSummary
	ticket   uint64
	offer    *offer
	declined map[string]time.Time // agent -> when they declined
	notified uint32               // position last told to the visitor
	etaTold  int64                // estimate last told, ms; -1: none
	// A transferred chat: ahead of the others, and offered to target first.
	head   bool
	target string
}

type offer struct {
	id     string
	chatID string
	agent  string
	stop   func() bool
}

func newQueue(b *Broker, id string) *queue {
	return &queue{b: b, id: id, byChat: map[string]*waiting{}, admitting: map[string]bool{}, addrOf: map[string]string{}, perAddr: map[string]int{},
		roster: map[string]*candidate{}, offers: map[string]*offer{}, active: map[string]*handled{}, watchers: map[string]bool{}}
}

func (q *queue) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *messages.FlushViews:
		q.flushArmed = false
		if q.viewDirty {
			q.pushViews()
		}
		return
	case *messages.ViewQuery, *messages.OfferExpired, *messages.RetryDispatch, *actor.Stopping, *actor.Stopped:
	default:
		defer q.viewChanged()
	}
	q.receive(ctx)
}

func (q *queue) receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		q.self = ctx.Self()
		q.reload(ctx)
	case *actor.Stopping, *actor.Stopped, *actor.Restarting:
	case *messages.DirectoryChanged:
		was := q.dept
		q.reload(ctx)
		if was != nil && q.dept != nil && was.GetChatEnabled() != q.dept.GetChatEnabled() {
			// The queue went online or offline: its agents are told.
			st := &messages.Envelope{Body: &messages.Envelope_QueueState{QueueState: &messages.QueueState{
				Department: q.id, Online: q.dept.GetChatEnabled(), By: q.dept.GetOnlineChangedBy()}}}
			for id := range q.roster {
				q.b.Send(KindAgent, id, st)
			}
		}
		q.dispatch(ctx)
	case *messages.StartChat:
		q.admit(ctx, m)
	case *messages.Enqueue:
		delete(q.admitting, m.GetChat().GetChatId())
		q.insert(m.GetChat(), m.GetTicket(), m.GetHead(), m.GetTarget())
		q.notifyPositions(ctx)
		q.dispatch(ctx)
	case *messages.QueueRestore:
		for _, oc := range m.GetChats() {
			q.insert(openSummary(oc), oc.GetTicket(), oc.GetHead(), oc.GetTarget())
		}
		now := q.b.clock.Now()
		for _, oc := range m.GetActive() {
			q.active[oc.GetChatId()] = &handled{chat: openSummary(oc), since: now}
		}
		q.notifyPositions(ctx)
		q.dispatch(ctx)
	case *messages.ActiveChat:
		q.activeChat(ctx, m)
	case *messages.Watch:
		if m.GetOn() {
			q.watchers[m.GetAgentId()] = true
			q.lastPush = time.Time{} // the new watcher gets a view at once
		} else {
			delete(q.watchers, m.GetAgentId())
		}
	case *messages.ViewQuery:
		q.b.Send(KindAgent, m.GetAgentId(), &messages.ViewAnswer{Token: m.GetToken(), View: q.view()})
	case *messages.Withdraw:
		delete(q.admitting, m.GetChatId())
		if q.byChat[m.GetChatId()] == nil {
			q.leaveLine(m.GetChatId())
		}
		if w := q.byChat[m.GetChatId()]; w != nil {
			q.revoke(ctx, w, "the visitor left")
			q.remove(w)
			q.notifyPositions(ctx)
			q.dispatch(ctx)
		}
	case *messages.AgentReport:
		q.report(m)
		q.dispatch(ctx)
		q.notifyPositions(ctx) // the estimate depends on who is available
	case *messages.OfferReply:
		q.offerReply(ctx, m)
	case *messages.OfferExpired:
		q.expired(ctx, m)
	case *messages.RetryDispatch:
		q.retryStop = nil
		q.dispatch(ctx)
	case *messages.PickRequest:
		q.pick(ctx, m)
	case *messages.WaitingQuery:
		q.list(ctx, m)
	default:
		ctx.Logger().Warn("queue: unexpected message", "queue", q.id, "type", fmt.Sprintf("%T", m))
	}
}

func (q *queue) reload(ctx actor.Context) {
	d, err := q.b.store.Department(q.id)
	if err != nil {
		ctx.Logger().Error("queue: load department", "queue", q.id, "err", err)
		return
	}
	q.dept = d
}

func (q *queue) limit() int {
	if n := q.dept.GetQueueLimit(); n > 0 {
		return int(n)
	}
	return DefaultQueueLimit
}

func (q *queue) offerTimeout() time.Duration {
	if ms := q.dept.GetOfferTimeoutMs(); ms > 0 {
		return time.Duration(ms) * time.Millisecond
	}
	return DefaultOfferTimeout
}

// admit takes a validated chat request (from the group): it refuses it
// when the line is full, or gives it the next ticket and has it created.
func (q *queue) admit(ctx actor.Context, m *messages.StartChat) {
	full := len(q.waiting)+len(q.admitting) >= q.limit()
	addr := AddressKey(m.GetAddress())
	// One address's share of the line is bounded too, so a few addresses
	// cannot fill it: to the visitor it is the same refusal.
	if !full && addr != "" && q.b.linePerAddress > 0 && q.perAddr[addr] >= q.b.linePerAddress {
		full = true
	}
	if full {
		q.b.Send(KindVisitor, m.GetVisitorId(), &messages.StartRefused{ChatId: m.GetChatId(), Conn: m.GetConn(), Ref: m.GetRef(),
			Refusal: &messages.ChatRefused{Reason: messages.RefusalReason_REFUSAL_REASON_QUEUE_FULL, Department: q.id,
				Message: fmt.Sprintf("the %s queue is full; please try again in a few minutes", q.dept.GetName())}})
		return
	}
	if addr != "" {
		q.addrOf[m.GetChatId()] = addr
		q.perAddr[addr]++
	}
	// Tickets come from a hybrid clock: wall time in nanoseconds, bumped
	// to stay increasing, so they keep increasing across restarts without
	// being stored anywhere but in the chats.
	t := uint64(q.b.clock.Now().UnixNano())
	if t <= q.lastTick {
		t = q.lastTick + 1
	}
	q.lastTick = t
	m.Ticket = t
	q.admitting[m.GetChatId()] = true
	q.b.Send(KindChat, m.GetChatId(), m)
}

// insert puts a chat in line by ticket; transferred chats (head) go
// before all others, by ticket among themselves.
func (q *queue) insert(s *messages.ChatSummary, ticket uint64, head bool, target string) {
	if q.byChat[s.GetChatId()] != nil {
		return
	}
	if ticket > q.lastTick {
		q.lastTick = ticket
	}
	w := &waiting{chat: s, ticket: ticket, declined: map[string]time.Time{}, head: head, target: target, etaTold: -1}
	i := len(q.waiting)
	for i > 0 && (head && !q.waiting[i-1].head || q.waiting[i-1].head == head && q.waiting[i-1].ticket > ticket) {
		i--
	}
	q.waiting = slices.Insert(q.waiting, i, w)
	q.byChat[s.GetChatId()] = w
}

// leaveLine gives a chat's place in its address's share back.
func (q *queue) leaveLine(chatID string) {
	addr, ok := q.addrOf[chatID]
	if !ok {
		return
	}
	delete(q.addrOf, chatID)
	if q.perAddr[addr]--; q.perAddr[addr] <= 0 {
		delete(q.perAddr, addr)
	}
}

func (q *queue) remove(w *waiting) {
	q.leaveLine(w.chat.GetChatId())
	delete(q.byChat, w.chat.GetChatId())
	if i := slices.Index(q.waiting, w); i >= 0 {
		q.waiting = slices.Delete(q.waiting, i, i+1)
	}
}

// notifyPositions tells every waiting visitor whose position changed, or
// whose estimated wait moved by etaResend or more.
func (q *queue) notifyPositions(ctx actor.Context) {
	if len(q.waiting) == 0 {
		return // nobody to tell (the common case on every agent report)
	}
	n := uint32(len(q.waiting))
	capacity, free := q.capacity()
	mean := q.meanHandling()
	for i, w := range q.waiting {
		pos := uint32(i + 1)
		eta := estimate(pos, capacity, free, mean)
		if w.notified == pos && (eta < 0) == (w.etaTold < 0) && time.Duration(abs(eta-w.etaTold))*time.Millisecond < etaResend {
			continue
		}
		w.notified, w.etaTold = pos, eta
		q.b.Send(KindVisitor, w.chat.GetVisitorId(), &messages.QueueUpdate{ChatId: w.chat.GetChatId(), Position: pos, QueueLength: n,
			EstimatedWaitMs: max(eta, 0), NoEstimate: eta < 0})
	}
}

// estimate is the wait in ms of the chat at position pos: none (-1) when no
// agent is available; 0 when a free slot awaits it; else, since a slot
// frees every mean/capacity on average, (pos - free) * mean / capacity.
func estimate(pos, capacity, free uint32, mean time.Duration) int64 {
	switch {
	case capacity == 0:
		return -1
	case pos <= free:
		return 0
	}
	return int64(time.Duration(pos-free) * mean / time.Duration(capacity) / time.Millisecond)
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// capacity sums the limits of the connected, available agents, and their
// free slots.
func (q *queue) capacity() (capacity, free uint32) {
	for _, c := range q.roster {
		if c.status == statusAvailable && c.connected {
			capacity += c.max
			if c.load < c.max {
				free += c.max - c.load
			}
		}
	}
	return capacity, free
}

// meanHandling is the mean of the recent handling times.
func (q *queue) meanHandling() time.Duration {
	if len(q.handled) == 0 {
		return DefaultHandlingTime
	}
	var sum time.Duration
	for _, d := range q.handled {
		sum += d
	}
	return sum / time.Duration(len(q.handled))
}

// activeChat follows the department's chats being handled. A chat that
// closes adds its handling time (since it was first handled here) to the
// estimate.
func (q *queue) activeChat(ctx actor.Context, m *messages.ActiveChat) {
	id := m.GetChat().GetChatId()
	h := q.active[id]
	if !m.GetEnded() {
		if h == nil {
			h = &handled{since: q.b.clock.Now()}
			q.active[id] = h
		}
		h.chat = m.GetChat()
		return
	}
	if h == nil {
		return
	}
	delete(q.active, id)
	if m.GetChat().GetState() == stateClosed {
		q.handled = append(q.handled, q.b.clock.Now().Sub(h.since))
		if len(q.handled) > handledKeep {
			q.handled = q.handled[1:]
		}
		q.notifyPositions(ctx)
	}
}

// viewChanged pushes the live view to the department's monitors, at most
// once per viewEvery.
func (q *queue) viewChanged() {
	if len(q.watchers) == 0 {
		return
	}
	q.viewDirty = true
	if q.flushArmed {
		return
	}
	since := q.b.clock.Now().Sub(q.lastPush)
	if since >= viewEvery {
		q.pushViews()
		return
	}
	q.flushArmed = true
	self, root := q.self, q.b.root
	q.b.clock.AfterFunc(viewEvery-since, func() { root.Send(self, &messages.FlushViews{}) })
}

func (q *queue) pushViews() {
	q.viewDirty = false
	q.lastPush = q.b.clock.Now()
	env := &messages.Envelope{Body: &messages.Envelope_DepartmentView{DepartmentView: q.view()}}
	for id := range q.watchers {
		q.b.Send(KindAgent, id, env)
	}
}

// view is the department now: its queue, chats being handled and agents.
func (q *queue) view() *messages.DepartmentView {
	v := &messages.DepartmentView{Department: q.id, Name: q.dept.GetName(), Online: q.dept.GetChatEnabled(),
		AtMs: q.b.clock.Now().UnixMilli(), WaitingCount: uint32(len(q.waiting))}
	v.Waiting = q.waitingList()
	for _, h := range q.active {
		v.Active = append(v.Active, h.chat)
	}
	slices.SortFunc(v.Active, func(x, y *messages.ChatSummary) int { return int(x.GetCreatedAtMs() - y.GetCreatedAtMs()) })
	for _, c := range q.candidates() {
		v.Agents = append(v.Agents, &messages.AgentLoad{AgentId: c.id, DisplayName: c.name, Status: c.status, Connected: c.connected, Load: c.load, MaxChats: c.max})
	}
	return v
}

func (q *queue) report(m *messages.AgentReport) {
	q.rosterOK = false
	if !m.GetMember() {
		delete(q.roster, m.GetAgentId())
		return
	}
	c := q.roster[m.GetAgentId()]
	if c == nil {
		c = &candidate{id: m.GetAgentId()}
		q.roster[c.id] = c
	}
	c.name, c.status, c.connected = m.GetDisplayName(), m.GetStatus(), m.GetConnected()
	c.languages, c.max, c.load = m.GetLanguages(), m.GetMaxChats(), m.GetLoad()
	c.lastAssigned = m.GetLastAssignedMs()
	c.hold = false
}

func (q *queue) candidates() []*candidate {
	if !q.rosterOK {
		q.sorted = q.sorted[:0]
		for _, c := range q.roster {
			q.sorted = append(q.sorted, c)
		}
		slices.SortFunc(q.sorted, func(a, b *candidate) int {
			switch {
			case a.id < b.id:
				return -1
			case a.id > b.id:
				return 1
			}
			return 0
		})
		q.rosterOK = true
	}
	return q.sorted
}

// dispatch offers waiting chats, in order, to eligible agents. A chat that
// nobody can take now does not hold back the ones behind it (they may be in
// another language), but it keeps its place at the head.
//
// An offline queue (chat_enabled off) refuses new requests but still
// serves the chats already waiting. A manual queue offers only transfers
// to a named agent.
func (q *queue) dispatch(ctx actor.Context) {
	if q.dept == nil {
		return
	}
	manual := q.dept.GetPolicy() == messages.RoutingPolicy_ROUTING_POLICY_MANUAL
	cands := q.candidates()
	now := q.b.clock.Now()
	var cooling time.Time
	for _, w := range q.waiting {
		if !q.anyFree(cands) {
			break
		}
		if w.offer != nil {
			continue
		}
		if w.target != "" {
			if c := q.roster[w.target]; c != nil && c.status == statusAvailable && c.connected && !c.hold && c.load < c.max {
				q.makeOffer(ctx, w, c)
				continue
			}
			// The colleague cannot take it now: it waits at the head
			// for anyone.
			w.target = ""
		}
		if manual {
			continue
		}
		excluded := func(id string) bool {
			t, ok := w.declined[id]
			return ok && now.Sub(t) < declineCooldown
		}
		c := q.pickFor(cands, w.chat.GetLanguage(), excluded)
		if c == nil {
			// Only agents who declined it are left: try them again once
			// their cool-down ends.
			if alt := q.pickFor(cands, w.chat.GetLanguage(), noneExcluded); alt != nil {
				until := w.declined[alt.id].Add(declineCooldown)
				if cooling.IsZero() || until.Before(cooling) {
					cooling = until
				}
			}
			continue
		}
		q.makeOffer(ctx, w, c)
	}
	if !cooling.IsZero() && q.retryStop == nil {
		self, root := q.self, q.b.root
		q.retryStop = q.b.clock.AfterFunc(cooling.Sub(now), func() { root.Send(self, &messages.RetryDispatch{}) })
	}
}

func (q *queue) anyFree(cands []*candidate) bool {
	for _, c := range cands {
		if c.status == statusAvailable && c.connected && !c.hold && c.load < c.max {
			return true
		}
	}
	return false
}

func (q *queue) pickFor(cands []*candidate, lang string, excluded func(string) bool) *candidate {
	if q.dept.GetPolicy() == messages.RoutingPolicy_ROUTING_POLICY_ROUND_ROBIN {
		return pickRoundRobin(cands, lang, q.lastRR, excluded)
	}
	return pickLeastLoaded(cands, lang, excluded)
}

func (q *queue) makeOffer(ctx actor.Context, w *waiting, c *candidate) {
	q.nextOffer++
	id := q.id + ":" + strconv.FormatUint(q.nextOffer, 36)
	timeout := q.offerTimeout()
	self, root := q.self, q.b.root
	o := &offer{id: id, chatID: w.chat.GetChatId(), agent: c.id}
	o.stop = q.b.clock.AfterFunc(timeout, func() { root.Send(self, &messages.OfferExpired{OfferId: id}) })
	w.offer = o
	q.offers[id] = o
	c.load++ // until the agent's next report says otherwise
	c.lastAssigned = q.b.clock.Now().UnixMilli()
	q.lastRR = c.id
	q.b.Send(KindAgent, c.id, &messages.OfferChat{OfferId: id, Targeted: w.target == c.id, Offer: &messages.Offer{
		ChatId: w.chat.GetChatId(), Department: q.id, Language: w.chat.GetLanguage(),
		VisitorName: w.chat.GetVisitorName(), ExpiresAtMs: q.b.clock.Now().Add(timeout).UnixMilli(),
	}})
}

// revoke cancels w's outstanding offer, telling the agent.
func (q *queue) revoke(ctx actor.Context, w *waiting, reason string) {
	o := w.offer
	if o == nil {
		return
	}
	o.stop()
	delete(q.offers, o.id)
	w.offer = nil
	q.b.Send(KindAgent, o.agent, &messages.RevokeOffer{OfferId: o.id, ChatId: o.chatID, Reason: reason})
}

func (q *queue) offerReply(ctx actor.Context, m *messages.OfferReply) {
	o := q.offers[m.GetOfferId()]
	if o == nil {
		// Expired or withdrawn before the answer came: make sure the agent
		// lets go of it.
		if m.GetAccepted() {
			q.b.Send(KindAgent, m.GetAgentId(), &messages.RevokeOffer{OfferId: m.GetOfferId(), ChatId: m.GetChatId(), Reason: "the offer had expired"})
		}
		return
	}
	o.stop()
	delete(q.offers, o.id)
	w := q.byChat[o.chatID]
	if w == nil {
		return
	}
	w.offer = nil
	if w.target == o.agent {
		w.target = "" // the colleague did not take it: anyone may
	}
	switch {
	case m.GetAccepted():
		q.remove(w)
		q.b.Send(KindChat, o.chatID, &messages.AssignChat{ChatId: o.chatID, AgentId: o.agent, AgentName: q.nameOf(o.agent), OfferId: o.id, How: howFor(w)})
		q.notifyPositions(ctx)
	case m.GetBusy():
		if c := q.roster[o.agent]; c != nil {
			c.hold = true
		}
	default:
		w.declined[o.agent] = q.b.clock.Now()
	}
	q.dispatch(ctx)
}

func (q *queue) nameOf(agent string) string {
	if c := q.roster[agent]; c != nil {
		return c.name
	}
	return agent
}

func (q *queue) expired(ctx actor.Context, m *messages.OfferExpired) {
	o := q.offers[m.GetOfferId()]
	if o == nil {
		return
	}
	w := q.byChat[o.chatID]
	if w == nil {
		delete(q.offers, o.id)
		return
	}
	q.revoke(ctx, w, reasonExpired)
	w.declined[o.agent] = q.b.clock.Now()
	if w.target == o.agent {
		w.target = ""
	}
	q.dispatch(ctx)
}

func (q *queue) pick(ctx actor.Context, m *messages.PickRequest) {
	w := q.byChat[m.GetChatId()]
	if w == nil || w.offer != nil {
		reason := "the chat is no longer waiting"
		if w != nil {
			reason = "the chat is being offered to someone else"
		}
		q.b.Send(KindAgent, m.GetAgentId(), &messages.PickRefused{ChatId: m.GetChatId(), OfferId: m.GetOfferId(), Reason: reason})
		return
	}
	q.remove(w)
	q.b.Send(KindChat, m.GetChatId(), &messages.AssignChat{ChatId: m.GetChatId(), AgentId: m.GetAgentId(), AgentName: m.GetAgentName(), OfferId: m.GetOfferId(), How: howFor(w)})
	q.notifyPositions(ctx)
	q.dispatch(ctx)
}

// howFor says how a chat taken from the line was assigned.
func howFor(w *waiting) messages.AssignHow {
	if w.head {
		return messages.AssignHow_ASSIGN_HOW_TRANSFERRED
	}
	return messages.AssignHow_ASSIGN_HOW_ROUTED
}

// waitingList is the line as summaries with positions.
func (q *queue) waitingList() []*messages.ChatSummary {
	out := make([]*messages.ChatSummary, 0, len(q.waiting))
	for i, w := range q.waiting {
		s := w.chat
		out = append(out, &messages.ChatSummary{ChatId: s.GetChatId(), Department: q.id, Language: s.GetLanguage(),
			State: stateQueued, VisitorId: s.GetVisitorId(), VisitorName: s.GetVisitorName(), CreatedAtMs: s.GetCreatedAtMs(),
			Position: uint32(i + 1), Guests: s.GetGuests()})
	}
	return out
}

// list answers an agent's ListWaiting through its agent actor, which adds
// its own unanswered and answered chats.
func (q *queue) list(ctx actor.Context, m *messages.WaitingQuery) {
	q.b.Send(KindAgent, m.GetAgentId(), &messages.WaitingAnswer{Conn: m.GetConn(), Ref: m.GetRef(),
		List: &messages.WaitingList{Department: q.id, Chats: q.waitingList(), Online: q.dept.GetChatEnabled()}})
}
