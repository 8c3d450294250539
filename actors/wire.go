package actors

import (
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// Limits on what participants send.
const (
	MaxMessageBytes     = 8 << 10
	MaxClientMsgIDBytes = 128
	MaxNameBytes        = 256
	// MaxVisitorBytes is how much a visitor may write in one chat: each
	// message counts its text plus MessageOverhead, so many tiny messages
	// count too (at most 16,384). A long real conversation writes a few
	// tens of KB.
	MaxVisitorBytes = 1 << 20
	MessageOverhead = 64
)

// sendErr answers a connection's command with a typed error.
func sendErr(ctx actor.SenderContext, conn *actor.PID, ref uint64, e *messages.Error) {
	if conn == nil {
		return
	}
	ctx.Send(conn, &messages.Envelope{Ref: ref, Body: &messages.Envelope_Error{Error: e}})
}

// sendAck answers a connection's command that took effect.
func sendAck(ctx actor.SenderContext, conn *actor.PID, ref uint64, ack *messages.Ack) {
	if conn == nil {
		return
	}
	ctx.Send(conn, &messages.Envelope{Ref: ref, Body: &messages.Envelope_Ack{Ack: ack}})
}

func errorf(code messages.ErrorCode, format string, args ...any) *messages.Error {
	return messages.Errorf(code, format, args...)
}

const (
	codeInvalid     = messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT
	codeForbidden   = messages.ErrorCode_ERROR_CODE_FORBIDDEN
	codeNotFound    = messages.ErrorCode_ERROR_CODE_NOT_FOUND
	codeConflict    = messages.ErrorCode_ERROR_CODE_CONFLICT
	codeUnavailable = messages.ErrorCode_ERROR_CODE_UNAVAILABLE
	codeTooLarge    = messages.ErrorCode_ERROR_CODE_TOO_LARGE

	stateQueued = messages.ChatState_CHAT_STATE_QUEUED
	stateActive = messages.ChatState_CHAT_STATE_ACTIVE
	stateClosed = messages.ChatState_CHAT_STATE_CLOSED

	kindVisitor = messages.ParticipantKind_PARTICIPANT_KIND_VISITOR
	kindAgent   = messages.ParticipantKind_PARTICIPANT_KIND_AGENT

	statusAvailable = messages.AgentStatus_AGENT_STATUS_AVAILABLE
)

// conns is a participant actor's set of websocket connections, with the
// replay state of each: while a connection catches up on a chat (Resume,
// reconnect, new assignment), live events of that chat are held back from
// it, because the replay batch that follows covers them. It is plain actor
// state, owned by one actor.
type conns struct {
	byID map[string]*connEntry
}

type connEntry struct {
	pid     *actor.PID
	syncing map[string]bool
	// paging: per chat, the last seq of the replay page sent with more;
	// the connection's ReplayNext must name it (a stale one, from a replay
	// a new Resume replaced, is ignored).
	paging map[string]uint64
	// epoch is the session epoch of an agent connection's token: the
	// connection ends once the account's epoch differs.
	epoch string
}

func newConns() conns { return conns{byID: map[string]*connEntry{}} }

func (c *conns) add(pid *actor.PID) *connEntry {
	e := &connEntry{pid: pid, syncing: map[string]bool{}, paging: map[string]uint64{}}
	c.byID[pid.GetId()] = e
	return e
}

func (c *conns) remove(pid *actor.PID) { delete(c.byID, pid.GetId()) }

func (c *conns) get(pid *actor.PID) *connEntry { return c.byID[pid.GetId()] }

func (c *conns) len() int { return len(c.byID) }

// push sends a server push to every connection.
func (c *conns) push(ctx actor.Context, env *messages.Envelope) {
	for _, e := range c.byID {
		ctx.Send(e.pid, env)
	}
}

// deliver sends a chat event to every connection that is not catching up
// on that chat.
func (c *conns) deliver(ctx actor.Context, ev *messages.ChatEvent) {
	var out any // one envelope for every connection
	for _, e := range c.byID {
		if e.syncing[ev.GetChatId()] {
			continue
		}
		if out == nil {
			out = eventEnvelope(ctx.Message(), ev)
		}
		ctx.Send(e.pid, out)
	}
}

// sync starts a replay of chatID after afterSeq for one connection.
func (c *conns) sync(ctx actor.Context, b *Broker, e *connEntry, who *messages.Participant, chatID string, afterSeq uint64) {
	e.syncing[chatID] = true
	delete(e.paging, chatID)
	ctx.Request(b.PID(KindChat, chatID), &messages.ReplayRequest{ChatId: chatID, AfterSeq: afterSeq, Conn: e.pid, Who: who})
}

// next asks for the next replay page once the connection wrote the last.
func (c *conns) next(ctx actor.Context, b *Broker, who *messages.Participant, m *messages.ReplayNext) {
	e := c.get(m.GetConn())
	id := m.GetChatId()
	if e == nil || !e.syncing[id] || e.paging[id] == 0 || e.paging[id] != m.GetFromSeq() {
		return
	}
	delete(e.paging, id)
	ctx.Request(b.PID(KindChat, id), &messages.ReplayRequest{ChatId: id, AfterSeq: m.GetAfterSeq(), FromSeq: m.GetFromSeq(), Conn: e.pid, Who: who})
}

// syncAll replays chatID from the start on every connection.
func (c *conns) syncAll(ctx actor.Context, b *Broker, who *messages.Participant, chatID string) {
	for _, e := range c.byID {
		c.sync(ctx, b, e, who, chatID, 0)
	}
}

// receive handles what comes back for a participant's connections (a
// replay's pages, the ask for the next one, typing notices to pass on);
// it reports whether m was one of them. who names the participant.
func (c *conns) receive(ctx actor.Context, b *Broker, who func() *messages.Participant, m any) bool {
	switch m := m.(type) {
	case *messages.ReplayBatch:
		c.replayed(ctx, m)
	case *messages.ReplayNext:
		c.next(ctx, b, who(), m)
	case *messages.Envelope: // typing notices
		c.push(ctx, m)
	default:
		return false
	}
	return true
}

// replayed forwards a replay page to its connection; the last page ends
// its catch-up. A page goes as one message, and pages go one at a time
// (next), so a long transcript holds at most a page in the connection's
// bounded queue.
func (c *conns) replayed(ctx actor.Context, m *messages.ReplayBatch) {
	e := c.get(m.GetConn())
	if e == nil {
		return
	}
	if m.GetUnavailable() {
		// Live events would leave a gap: the connection waits for the
		// client's next Resume.
		ctx.Send(e.pid, &messages.Envelope{Body: &messages.Envelope_Error{Error: messages.TemporaryErrorf(codeUnavailable,
			"chat %s could not be replayed now; send Resume for it again", m.GetChatId())}})
		return
	}
	if m.GetMore() {
		evs := m.GetEvents()
		e.paging[m.GetChatId()] = evs[len(evs)-1].GetSeq()
	} else {
		delete(e.syncing, m.GetChatId())
	}
	if len(m.GetEvents()) > 0 {
		ctx.Send(e.pid, m)
	}
}

func chatEnvelope(s *messages.ChatSummary) *messages.Envelope {
	return &messages.Envelope{Body: &messages.Envelope_Chat{Chat: s}}
}

// summaryAfter returns a chat summary brought up to date by ev: a changed
// copy when ev changes what a summary shows, else s itself. Summaries sent
// to connections are shared, so they are replaced, never mutated.
func summaryAfter(s *messages.ChatSummary, ev *messages.ChatEvent) *messages.ChatSummary {
	if _, ok := ev.GetKind().(*messages.ChatEvent_Message); ok {
		return s
	}
	ns := copySummary(s)
	foldEvent(ns, ev)
	return ns
}

// copySummary copies a summary; its participants are never changed once
// made, so the lists are copied, not their entries. (proto.Clone's
// reflection showed in the assignment benchmark.)
func copySummary(s *messages.ChatSummary) *messages.ChatSummary {
	return &messages.ChatSummary{
		ChatId: s.GetChatId(), Department: s.GetDepartment(), Language: s.GetLanguage(), State: s.GetState(),
		VisitorId: s.GetVisitorId(), VisitorName: s.GetVisitorName(), AgentId: s.GetAgentId(), AgentName: s.GetAgentName(),
		LastSeq: s.GetLastSeq(), CreatedAtMs: s.GetCreatedAtMs(), Position: s.GetPosition(), WorkStatus: s.GetWorkStatus(),
		AssignedAtMs: s.GetAssignedAtMs(), Guests: slices.Clone(s.GetGuests()), Watchers: slices.Clone(s.GetWatchers()),
		Invited: slices.Clone(s.GetInvited()), VisitorLastSeq: s.GetVisitorLastSeq(), AgentAvatarUrl: s.GetAgentAvatarUrl(),
		Tags: slices.Clone(s.GetTags()), Rating: s.GetRating(),
	}
}

// foldEvent applies ev to a summary in place. The chat actor keeps its state
// this way, and the participant actors their copies (summaryAfter): one
// definition of what each event does.
func foldEvent(s *messages.ChatSummary, ev *messages.ChatEvent) {
	s.LastSeq = ev.GetSeq()
	s.VisitorLastSeq = max(s.GetVisitorLastSeq(), ev.GetVisitorSeq())
	switch k := ev.GetKind().(type) {
	case *messages.ChatEvent_Created:
		c := k.Created
		s.ChatId, s.Department, s.Language, s.State = ev.GetChatId(), c.GetDepartment(), c.GetLanguage(), stateQueued
		s.VisitorId, s.VisitorName, s.CreatedAtMs = c.GetVisitorId(), c.GetVisitorName(), ev.GetAtMs()
	case *messages.ChatEvent_Assigned:
		s.State, s.AgentId, s.AgentName = stateActive, k.Assigned.GetAgentId(), k.Assigned.GetAgentName()
		s.AgentAvatarUrl = k.Assigned.GetAgentAvatarUrl()
		if s.AssignedAtMs == 0 {
			s.AssignedAtMs = ev.GetAtMs()
		}
		dropMember(s, s.AgentId)
	case *messages.ChatEvent_Requeued:
		s.State, s.AgentId, s.AgentName, s.AgentAvatarUrl = stateQueued, "", "", ""
	case *messages.ChatEvent_Transferred:
		s.State, s.AgentId, s.AgentName, s.AgentAvatarUrl = stateQueued, "", "", ""
		if d := k.Transferred.GetToDepartment(); d != "" {
			s.Department = d
		}
	case *messages.ChatEvent_StatusChanged:
		s.WorkStatus = k.StatusChanged.GetStatus()
	case *messages.ChatEvent_Renamed:
		if k.Renamed.GetAgentId() == s.AgentId {
			s.AgentName = k.Renamed.GetDisplayName()
		}
	case *messages.ChatEvent_Member:
		m := k.Member
		who := m.GetWho()
		switch m.GetAction() {
		case messages.MemberAction_MEMBER_ACTION_INVITED:
			if memberIndex(s.Invited, who.GetId()) < 0 {
				s.Invited = append(s.Invited, who)
			}
		case messages.MemberAction_MEMBER_ACTION_JOINED:
			dropMember(s, who.GetId())
			if m.GetInvisible() {
				s.Watchers = append(s.Watchers, who)
			} else {
				s.Guests = append(s.Guests, who)
			}
		case messages.MemberAction_MEMBER_ACTION_LEFT, messages.MemberAction_MEMBER_ACTION_DECLINED:
			dropMember(s, who.GetId())
		}
	case *messages.ChatEvent_Closed:
		s.State = stateClosed
	case *messages.ChatEvent_Tagged:
		s.Tags = foldTag(s.Tags, k.Tagged)
	case *messages.ChatEvent_Rated:
		s.Rating = k.Rated.GetScore()
	case *messages.ChatEvent_Reopened:
		// Everyone left when it closed: it waits again, with nobody in it.
		s.State, s.AgentId, s.AgentName, s.AgentAvatarUrl = stateQueued, "", "", ""
		s.Guests, s.Watchers, s.Invited = nil, nil, nil
	}
}

// dropMember takes an agent out of a summary's guests, watchers and
// invited.
func dropMember(s *messages.ChatSummary, id string) {
	drop := func(ps []*messages.Participant) []*messages.Participant {
		if i := memberIndex(ps, id); i >= 0 {
			return append(ps[:i:i], ps[i+1:]...)
		}
		return ps
	}
	s.Guests, s.Watchers, s.Invited = drop(s.Guests), drop(s.Watchers), drop(s.Invited)
}

func memberIndex(ps []*messages.Participant, id string) int {
	for i, p := range ps {
		if p.GetId() == id {
			return i
		}
	}
	return -1
}

// forVisitor is what a visitor may see of a summary: no watchers, no
// invitations.
func forVisitor(s *messages.ChatSummary) *messages.ChatSummary {
	if len(s.Watchers) == 0 && len(s.Invited) == 0 {
		return s
	}
	ns := copySummary(s)
	ns.Watchers, ns.Invited = nil, nil
	return ns
}
