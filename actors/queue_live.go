package actors

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// live is the department's figures now (issue 16, live figures): the one
// place they are computed, from the queue's own state, for its monitors'
// DepartmentView and for LiveQuery (GET /api/stats/live).
func (q *queue) live(now time.Time) *messages.StatsLiveDepartment {
	f := &messages.StatsLiveDepartment{Department: q.id, Name: q.dept.GetName(), Online: q.dept.GetChatEnabled(),
		Waiting: uint32(len(q.line.waiting)), LongestWaitMs: waitedLongest(q.line.waiting, now).Milliseconds(),
		ChatsInProgress: uint32(len(q.eta.active))}
	for _, c := range q.roster {
		switch status := c.status; {
		case !c.connected || status == messages.AgentStatus_AGENT_STATUS_OFFLINE:
			f.AgentsOffline++
		case status == messages.AgentStatus_AGENT_STATUS_AVAILABLE:
			f.AgentsAvailable++
		case status == messages.AgentStatus_AGENT_STATUS_AWAY:
			f.AgentsAway++
		case status == messages.AgentStatus_AGENT_STATUS_DRAINING:
			f.AgentsDraining++
		}
	}
	return f
}

// waitedLongest is how long the longest waiter in line has waited at now.
func waitedLongest(line []*waiting, now time.Time) time.Duration {
	if oldest := oldestSince(line); !oldest.IsZero() {
		return now.Sub(oldest)
	}
	return 0
}

// oldestSince is since when the longest waiter in line has waited, or
// zero with nobody (transfers wait at the head, so the longest waiter
// need not be first).
func oldestSince(line []*waiting) time.Time {
	var oldest time.Time
	for _, w := range line {
		if !w.since.IsZero() && (oldest.IsZero() || w.since.Before(oldest)) {
			oldest = w.since
		}
	}
	return oldest
}

// liveWait is how long LiveFigures waits for the queues by default.
const liveWait = 5 * time.Second

// askTimeout is how long a request to a queue waits: until ctx's
// deadline, or liveWait.
func askTimeout(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return max(time.Until(dl), time.Millisecond) // a future without a timeout (< 0) would wait for ever
	}
	return liveWait
}

// LiveFigures asks each of deps' queue actors for its live figures, all
// at once, and waits for every answer (until ctx's deadline, or
// liveWait): the figures come from the queues' own state, by message.
// deps are departments that exist; a queue that does not answer in time
// fails the whole call with a temporary UNAVAILABLE.
func (b *Broker) LiveFigures(ctx context.Context, deps []string) (*messages.StatsLive, error) {
	timeout := askTimeout(ctx)
	futures := make([]*actor.Future, len(deps))
	for i, d := range deps {
		futures[i] = b.root.RequestFuture(b.PID(KindQueue, d), &messages.LiveQuery{}, timeout)
	}
	out := &messages.StatsLive{Departments: make([]*messages.StatsLiveDepartment, 0, len(deps)), AtMs: b.clock.Now().UnixMilli()}
	for i, f := range futures {
		res, err := f.Result()
		if err != nil {
			return nil, messages.TemporaryErrorf(codeUnavailable, "the %s queue did not answer: %v", deps[i], err)
		}
		live, ok := res.(*messages.StatsLiveDepartment)
		if !ok {
			return nil, fmt.Errorf("queue %s: unexpected reply %T", deps[i], res)
		}
		out.Departments = append(out.Departments, live)
	}
	return out, nil
}
