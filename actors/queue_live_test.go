package actors

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// The live figures come from the queue's line, chats and roster: the
// longest waiter need not be first, and an agent without a socket counts
// as offline whatever their status.
func TestQueueLiveFigures(t *testing.T) {
	now := time.Unix(2000, 0)
	q := newQueue(nil, "sales")
	q.dept = &messages.Department{Id: "sales", Name: "Sales", ChatEnabled: true}
	if got, want := q.live(now), (&messages.StatsLiveDepartment{Department: "sales", Name: "Sales", Online: true}); !proto.Equal(got, want) {
		t.Fatalf("empty: %v, want %v", got, want)
	}
	q.line.insert(&messages.ChatSummary{ChatId: "c1"}, 2, false, "")
	q.line.insert(&messages.ChatSummary{ChatId: "c2"}, 1, true, "") // a transfer, at the head
	q.line.insert(&messages.ChatSummary{ChatId: "c3"}, 3, false, "")
	q.line.byChat["c1"].since = now.Add(-90 * time.Second)
	q.line.byChat["c2"].since = now.Add(-5 * time.Second)
	q.eta.update(&messages.ChatSummary{ChatId: "a1"}, false, now)
	for _, c := range []*candidate{
		{id: "ann", status: messages.AgentStatus_AGENT_STATUS_AVAILABLE, connected: true},
		{id: "bo", status: messages.AgentStatus_AGENT_STATUS_AVAILABLE, connected: true},
		{id: "cy", status: messages.AgentStatus_AGENT_STATUS_AWAY, connected: true},
		{id: "di", status: messages.AgentStatus_AGENT_STATUS_DRAINING, connected: true},
		{id: "ed", status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}, // no socket
		{id: "fa", status: messages.AgentStatus_AGENT_STATUS_OFFLINE, connected: true},
	} {
		q.roster[c.id] = c
	}
	want := &messages.StatsLiveDepartment{Department: "sales", Name: "Sales", Online: true, Waiting: 3, LongestWaitMs: 90_000,
		ChatsInProgress: 1, AgentsAvailable: 2, AgentsAway: 1, AgentsDraining: 1, AgentsOffline: 2}
	if got := q.live(now); !proto.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
