package persistence

import (
	"github.com/switchboard-chat/switchboard/messages"
)

// statsEvent moves the figures by one statistics event (se/).
func (r *statsRound) statsEvent(ev *messages.StatsEvent) {
	at, dept, agent := ev.GetAtMs(), ev.GetDepartment(), ev.GetAgentId()
	switch k := ev.GetKind().(type) {
	case *messages.StatsEvent_Refused:
		r.add(at, dept, "", func(x *messages.StatsBucket) {
			x.Requested++
			if x.Refused == nil {
				x.Refused = map[int32]uint32{}
			}
			x.Refused[int32(k.Refused)]++
		})
	case *messages.StatsEvent_OfferDeclined:
		r.add(at, dept, agent, func(x *messages.StatsBucket) {
			if k.OfferDeclined {
				x.OffersDeclined++
			} else {
				x.OffersExpired++
			}
		})
	case *messages.StatsEvent_OfflineMessage:
		r.add(at, dept, "", func(x *messages.StatsBucket) { x.OfflineMessages++ })
	case *messages.StatsEvent_Agent:
		r.activity(agent, at, k.Agent)
	case *messages.StatsEvent_Started:
		r.loadAgents()
		for id, st := range r.agents {
			if a := st.GetActivity(); a != nil && a.GetStatus() != messages.AgentStatus_AGENT_STATUS_OFFLINE {
				r.activity(id, at, &messages.AgentActivity{Status: messages.AgentStatus_AGENT_STATUS_OFFLINE,
					Limit: a.GetLimit(), Departments: a.GetDepartments()})
			}
		}
	}
}

// activity ends agent's current activity at at (its time goes into the
// buckets it spans) and begins a.
func (r *statsRound) activity(agent string, at int64, a *messages.AgentActivity) {
	st := r.agent(agent)
	at = max(at, st.SinceMs) // a clock set back a little: the change still counts
	if st.Activity != nil && at > st.SinceMs {
		spanActivity(st.SinceMs, at, func(bucketMs, ms int64) {
			for _, d := range activityDims(agent, st.Activity) {
				r.each(d, bucketMs, func(x *messages.StatsBucket) { addActivity(x, st.Activity, ms) })
			}
		})
	}
	st.Activity, st.SinceMs = a, at
}

// activityDims are the dimensions an agent's time counts in: everything,
// the agent's, and for each of their departments the department's and
// the agent's in it.
func activityDims(agent string, a *messages.AgentActivity) []string {
	out := []string{dimAll, dimAgent(agent)}
	for _, d := range a.GetDepartments() {
		out = append(out, dimDepartment(d), messages.StatsAgentIn(agent, d))
	}
	return out
}

// spanActivity calls f with each bucket's start that [from, to) overlaps
// and the milliseconds it overlaps.
func spanActivity(from, to int64, f func(bucketMs, ms int64)) {
	const bucketMs = bucketMinutes * 60000
	for t := from; t < to; {
		start := int64(bucketMinute(t, false)) * 60000
		end := min(start+bucketMs, to)
		f(start, end-t)
		t = end
	}
}

// addActivity adds ms of activity a to bucket x: the time in its status
// and, when not offline, the chats and the limit it carried, and its peak.
func addActivity(x *messages.StatsBucket, a *messages.AgentActivity, ms int64) {
	if x.StatusMs == nil {
		x.StatusMs = map[int32]uint64{}
	}
	x.StatusMs[int32(a.GetStatus())] += uint64(ms)
	if a.GetStatus() == messages.AgentStatus_AGENT_STATUS_OFFLINE {
		return
	}
	x.ChatMs += uint64(a.GetChats()) * uint64(ms)
	x.LimitMs += uint64(a.GetLimit()) * uint64(ms)
	if a.GetChats() > x.PeakChats || x.PeakLimit == 0 && a.GetChats() == x.PeakChats {
		x.PeakChats, x.PeakLimit = a.GetChats(), a.GetLimit()
	}
}
