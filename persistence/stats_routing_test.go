package persistence

import (
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// TestRoutingFiguresOfAJournal: waits from joining the line to the
// assignment, within the department's target, a chat that left unserved
// missed, and occupancy from the agents' reports, in the hour they fall.
func TestRoutingFiguresOfAJournal(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	at := func(d time.Duration) int64 { return t0.Add(d).UnixNano() }
	dec := func(kind messages.RoutingDecisionKind, chat, agent string) []*messages.RoutingDecision {
		return []*messages.RoutingDecision{{Kind: kind, ChatId: chat, AgentId: agent}}
	}
	enq := func(d time.Duration, chat string) *messages.RoutingInput {
		return &messages.RoutingInput{AtNs: at(d), Department: "sales", Input: &messages.RoutingInput_Enqueue{Enqueue: &messages.Enqueue{
			Chat: &messages.ChatSummary{ChatId: chat}}}}
	}
	report := func(d time.Duration, load uint32, connected bool) *messages.RoutingInput {
		return &messages.RoutingInput{AtNs: at(d), Department: "sales", Input: &messages.RoutingInput_Report{Report: &messages.AgentReport{
			AgentId: "ann", Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE, Connected: connected, MaxChats: 2, Load: load, Member: true}}}
	}
	assigned, left := messages.RoutingDecisionKind_ROUTING_DECISION_KIND_ASSIGNED, messages.RoutingDecisionKind_ROUTING_DECISION_KIND_LEFT
	journal := []*messages.RoutingInput{
		{AtNs: at(0), Department: "sales", Input: &messages.RoutingInput_Settings{Settings: &messages.RoutingSettings{
			Department: &messages.Department{Id: "sales", AnswerTargetS: 30}, Started: true}}},
		report(0, 0, true), enq(0, "c1"), enq(0, "c2"), enq(time.Minute, "c3"),
		{AtNs: at(10 * time.Second), Department: "sales", Decisions: dec(assigned, "c1", "ann")},
		report(10*time.Second, 1, true),
		{AtNs: at(40 * time.Second), Department: "sales", Decisions: dec(assigned, "c2", "ann")},
		{AtNs: at(65 * time.Second), Department: "sales", Decisions: dec(left, "c3", "")},
		report(30*time.Minute+10*time.Second, 0, false), // off for the last half hour
		enq(61*time.Minute, "c4"), // the next hour, after the period
	}
	f := NewRoutingFigures(t0, t0.Add(time.Hour))
	for _, in := range journal {
		f.Add(in)
	}
	f.Finish(t0.Add(time.Hour))
	rows := f.Rows()
	sales, hour, ann := rows[0], rows[1], rows[2]
	if sales.Department != "sales" || !sales.Hour.IsZero() || !hour.Hour.Equal(t0) || ann.Agent != "ann" || len(rows) != 4 {
		t.Fatalf("rows: %+v", rows)
	}
	fs := sales.Figures
	if fs.Requested != 3 || fs.Assigned != 2 || fs.Waits != 2 || fs.WaitMaxMs != 40000 || fs.AnsweredWithinTarget != 1 ||
		fs.WithinTargetShare != 0.5 || fs.Missed != 1 {
		t.Fatalf("sales: %v", fs)
	}
	// Ann carried 1 of her 2 chats for 1800 of the 1810 s she was on
	// (1800/3620), then was off for the rest of the hour.
	if fa := ann.Figures; fa.Assigned != 2 || fa.Occupancy != 0.4972 || fa.AvailableS != 1810 || fa.OfflineS != 1790 {
		t.Fatalf("ann: %v", fa)
	}
}
