package persistence

import (
	"github.com/switchboard-chat/switchboard/messages"
)

// chatEvent moves the figures by one chat event; st is what the chat's
// history entry keeps between its events. A chat's figures count in the
// department it is in and, where an agent has part, that agent's:
//
//   - created: requested and queued; a wait begins.
//   - assigned: assigned (each assignment: a take-over or a transfer
//     assigns again); a wait that began ends (its length, and whether it
//     was within the department's answer target); the previous agent's
//     handling ends.
//   - a staff message: the first of the assigned agent ends their first
//     response time; the chat is answered.
//   - transferred: out of the department (and agent), into the target;
//     handling ends, a wait begins.
//   - requeued (the agent left) or reopened: handling ends, a wait
//     begins (a reopen counts as queued again).
//   - closed: closed; handling ends; missed if no staff ever wrote and no
//     agent closed it (the visitor left, or the chat timed out).
//   - rated: good or bad, with the comment; a later rating takes the
//     earlier one back.
func (r *statsRound) chatEvent(st *messages.StatsChatState, ev *messages.ChatEvent) {
	at := ev.GetAtMs()
	switch k := ev.GetKind().(type) {
	case *messages.ChatEvent_Created:
		st.Department, st.QueuedAtMs = k.Created.GetDepartment(), at
		r.add(at, st.Department, "", func(x *messages.StatsBucket) { x.Requested++; x.Queued++ })
	case *messages.ChatEvent_Assigned:
		r.endHandling(st, at)
		r.endWait(st, at, int64(k.Assigned.GetAnswerTargetS())*1000)
		st.AgentId, st.AssignedAtMs, st.Responded = k.Assigned.GetAgentId(), at, false
		r.add(at, st.Department, st.AgentId, func(x *messages.StatsBucket) { x.Assigned++ })
	case *messages.ChatEvent_Message:
		r.message(st, ev, k.Message)
	case *messages.ChatEvent_Transferred:
		r.transferred(st, at, k.Transferred)
	case *messages.ChatEvent_Requeued:
		r.endHandling(st, at)
		st.QueuedAtMs = at
	case *messages.ChatEvent_Reopened:
		r.endHandling(st, at)
		st.QueuedAtMs = at
		r.add(at, st.Department, "", func(x *messages.StatsBucket) { x.Queued++ })
	case *messages.ChatEvent_Closed:
		agent := st.AgentId
		r.endHandling(st, at)
		missed := !st.Answered && k.Closed.GetBy().GetKind() != messages.ParticipantKind_PARTICIPANT_KIND_AGENT
		st.QueuedAtMs = 0
		r.add(at, st.Department, agent, func(x *messages.StatsBucket) {
			x.Closed++
			if missed {
				x.Missed++
			}
		})
	case *messages.ChatEvent_Rated:
		r.rated(st, ev.GetChatId(), at, k.Rated)
	}
}

// message counts a message to the visitor (whispers and the system's
// lines are not messages of the chat's figures).
func (r *statsRound) message(st *messages.StatsChatState, ev *messages.ChatEvent, m *messages.ChatMessage) {
	if ev.GetInternal() {
		return
	}
	at := ev.GetAtMs()
	switch from := m.GetFrom(); from.GetKind() {
	case messages.ParticipantKind_PARTICIPANT_KIND_VISITOR:
		r.add(at, st.Department, st.AgentId, func(x *messages.StatsBucket) { x.VisitorMessages++ })
	case messages.ParticipantKind_PARTICIPANT_KIND_AGENT:
		st.Answered = true
		first := from.GetId() == st.AgentId && !st.Responded
		if first {
			st.Responded = true
		}
		r.add(at, st.Department, from.GetId(), func(x *messages.StatsBucket) {
			x.StaffMessages++
			if first {
				if x.FirstResponse == nil {
					x.FirstResponse = &messages.StatsHistogram{}
				}
				histAdd(x.FirstResponse, at-st.AssignedAtMs)
			}
		})
	}
}

// transferred moves the chat out of its department and agent into the
// target's line.
func (r *statsRound) transferred(st *messages.StatsChatState, at int64, t *messages.ChatTransferred) {
	from, agent := st.Department, st.AgentId
	r.endHandling(st, at)
	r.add(at, from, agent, func(x *messages.StatsBucket) { x.TransferredOut++ })
	if d := t.GetToDepartment(); d != "" {
		st.Department = d
	}
	r.add(at, st.Department, t.GetToAgentId(), func(x *messages.StatsBucket) { x.TransferredIn++ })
	st.QueuedAtMs = at
}

// endWait ends the wait that began, if one did: its length, in the
// department it waited in, and whether it was within the department's
// answer target then (targetMs, from the event; 0 in events from before
// it: the department's target now).
func (r *statsRound) endWait(st *messages.StatsChatState, at, targetMs int64) {
	if st.QueuedAtMs == 0 {
		return
	}
	if targetMs == 0 {
		targetMs = r.targetMs(st.Department)
	}
	waited := at - st.QueuedAtMs
	within := waited <= targetMs
	st.QueuedAtMs = 0
	r.add(at, st.Department, "", func(x *messages.StatsBucket) {
		if x.Wait == nil {
			x.Wait = &messages.StatsHistogram{}
		}
		histAdd(x.Wait, waited)
		if within {
			x.WithinTarget++
		}
	})
}

// endHandling ends the agent's handling of the chat, if it is with one.
func (r *statsRound) endHandling(st *messages.StatsChatState, at int64) {
	if st.AgentId == "" {
		return
	}
	took := at - st.AssignedAtMs
	r.add(at, st.Department, st.AgentId, func(x *messages.StatsBucket) {
		if x.Handling == nil {
			x.Handling = &messages.StatsHistogram{}
		}
		histAdd(x.Handling, took)
	})
	st.AgentId, st.AssignedAtMs, st.Responded = "", 0, false
}

// rated counts a rating where the chat is (its department and agent as
// the event names them) and takes back the one it replaces.
func (r *statsRound) rated(st *messages.StatsChatState, chatID string, at int64, k *messages.ChatRated) {
	if st.Rating != messages.RatingScore_RATING_SCORE_UNSPECIFIED {
		old := st.Rating
		undo := func(x *messages.StatsBucket) {
			if old == messages.RatingScore_RATING_SCORE_GOOD && x.RatedGood > 0 {
				x.RatedGood--
			} else if old == messages.RatingScore_RATING_SCORE_BAD && x.RatedBad > 0 {
				x.RatedBad--
			}
		}
		for _, d := range append([]string{dimAll}, st.RatedIn...) {
			r.each(d, st.RatedAtMs, undo)
			r.fail(r.b.Delete(commentKey(d, st.RatedAtMs, chatID), nil))
		}
	}
	dept := k.GetDepartment()
	if dept == "" {
		dept = st.Department
	}
	st.Rating, st.RatedAtMs, st.RatedIn = k.GetScore(), at, dims(dept, k.GetAgentId())
	r.add(at, dept, k.GetAgentId(), func(x *messages.StatsBucket) {
		if k.GetScore() == messages.RatingScore_RATING_SCORE_GOOD {
			x.RatedGood++
		} else {
			x.RatedBad++
		}
	})
	if k.GetComment() == "" {
		return
	}
	c := &messages.StatsComment{ChatId: chatID, Score: k.GetScore(), Comment: k.GetComment(), AtMs: at, AgentId: k.GetAgentId(), Department: dept}
	for _, d := range append([]string{dimAll}, st.RatedIn...) {
		r.fail(setIn(r.b, commentKey(d, at, chatID), c))
	}
}
