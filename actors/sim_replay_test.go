package actors

import (
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// journalOf runs msgs through a fresh queue of department sales on a
// host that keeps its journal, one second apart: what a broker records.
// A *messages.Department is a settings change (the first starts the
// queue; restart: a new queue, as after a broker restart).
func journalOf(msgs ...any) []*messages.RoutingInput {
	var out []*messages.RoutingInput
	h := &simHost{now: time.Unix(1_900_000_000, 0)}
	h.col.fn = func(in *messages.RoutingInput) { out = append(out, in) }
	var q *queue
	for _, m := range msgs {
		h.now = h.now.Add(time.Second)
		switch d := m.(type) {
		case *messages.Department:
			h.dept = d
			q = newSimQueue("sales", h)
			q.handle(&actor.Started{})
		case string: // "directory": the department changed
			q.handle(&messages.DirectoryChanged{})
		default:
			q.handle(m)
		}
	}
	return out
}

func agentReport(id string, load uint32) *messages.AgentReport {
	return &messages.AgentReport{AgentId: id, DisplayName: id, Status: statusAvailable, Connected: true, Languages: []string{"en"},
		MaxChats: 1, Load: load, Member: true}
}

func waitingChat(id string, ticket uint64) *messages.Enqueue {
	return &messages.Enqueue{Chat: &messages.ChatSummary{ChatId: id, VisitorId: "v" + id, Department: "sales", Language: "en"}, Ticket: ticket}
}

func replayJournal(j []*messages.RoutingInput) ReplayResult {
	res, _ := ReplayCheck(func(fn func(uint64, *messages.RoutingInput) bool) error {
		for i, in := range j {
			if !fn(uint64(i+1), in) {
				break
			}
		}
		return nil
	})
	return res
}

// handMadeJournal: offers, a decline, an expiry, a withdrawal, a retry
// after the cool-down, a settings change and a restart.
func handMadeJournal() []*messages.RoutingInput {
	sales := &messages.Department{Id: "sales", Name: "Sales", ChatEnabled: true}
	return journalOf(sales,
		agentReport("ann", 0), agentReport("ben", 0),
		&messages.StartChat{ChatId: "c1", VisitorId: "vc1", Request: &messages.RequestChat{Department: "sales", Language: "en"}},
		waitingChat("c1", 1), waitingChat("c2", 2), waitingChat("c3", 3),
		&messages.OfferReply{OfferId: "sales:1", ChatId: "c1", AgentId: "ann"}, // declined
		agentReport("ann", 0),                      // ann is offered c3 (c1 cools down)
		&messages.OfferExpired{OfferId: "sales:2"}, // ben lets c2 expire
		agentReport("ben", 0),                      // ben is offered c1
		&messages.OfferReply{OfferId: "sales:3", ChatId: "c3", AgentId: "ann", Accepted: true},
		&messages.OfferReply{OfferId: "sales:4", ChatId: "c1", AgentId: "ben", Accepted: true},
		&messages.Withdraw{ChatId: "c2"},
		agentReport("ann", 0), // ann is done with c3: free, and round robin's next after ben
		&messages.RetryDispatch{},
		"directory",
		&messages.Department{Id: "sales", Name: "Sales", ChatEnabled: true, Policy: messages.RoutingPolicy_ROUTING_POLICY_ROUND_ROBIN},
		agentReport("ben", 0), waitingChat("c4", 4))
}

func TestReplayReproducesAHandMadeJournal(t *testing.T) {
	j := handMadeJournal()
	kinds := map[messages.RoutingDecisionKind]int{}
	total := 0
	for _, in := range j {
		for _, d := range in.GetDecisions() {
			kinds[d.GetKind()]++
			total++
		}
	}
	for _, k := range []messages.RoutingDecisionKind{messages.RoutingDecisionKind_ROUTING_DECISION_KIND_DECLINED,
		messages.RoutingDecisionKind_ROUTING_DECISION_KIND_EXPIRED, messages.RoutingDecisionKind_ROUTING_DECISION_KIND_ASSIGNED,
		messages.RoutingDecisionKind_ROUTING_DECISION_KIND_LEFT} {
		if kinds[k] == 0 {
			t.Fatalf("the journal has no %s: %v", k, kinds)
		}
	}
	res := replayJournal(j)
	if res.Diff != nil || res.Decisions != total || res.Inputs != len(j) {
		t.Fatalf("replay: %+v (diff %v), want %d decisions of %d entries", res, res.Diff, total, len(j))
	}
}

// TestReplayFindsTheFirstDifference: a journal whose decision was not
// the queue's (here: another agent) is caught at that entry, with both
// versions.
func TestReplayFindsTheFirstDifference(t *testing.T) {
	j := handMadeJournal()
	at := -1
	for i, in := range j {
		for _, d := range in.GetDecisions() {
			if at < 0 && d.GetKind() == messages.RoutingDecisionKind_ROUTING_DECISION_KIND_ASSIGNED {
				d.AgentId, at = "zed", i
			}
		}
	}
	res := replayJournal(j)
	if res.Diff == nil || res.Diff.N != uint64(at+1) || res.Inputs != at+1 {
		t.Fatalf("diff %v after %d entries, want entry %d", res.Diff, res.Inputs, at+1)
	}
	if msg := res.Diff.Error(); !strings.Contains(msg, "assigned c3 zed") || !strings.Contains(msg, "assigned c3 ann") {
		t.Fatalf("the difference says %q", msg)
	}
}

// TestReplayStartsAFreshQueueAtARestart: the entries after a restart
// are decided by a new queue (an empty roster): replaying them on the
// old one would offer c4 to ann, whom the new queue does not know yet.
func TestReplayStartsAFreshQueueAtARestart(t *testing.T) {
	j := handMadeJournal()
	last := j[len(j)-1]
	if len(last.GetDecisions()) == 0 || last.GetDecisions()[len(last.GetDecisions())-1].GetAgentId() != "ben" {
		t.Fatalf("c4 is not offered to ben after the restart: %v", last.GetDecisions())
	}
	for _, in := range j[1:] {
		if s := in.GetSettings(); s != nil {
			s.Started = false // the restart is taken for a settings change
		}
	}
	if res := replayJournal(j); res.Diff == nil || res.Diff.N != uint64(len(j)) {
		t.Fatalf("replayed without the restart: %v; want the last entry to differ", res.Diff)
	}
}

// TestReplaySkipsWhatCameBeforeAStart: a journal whose beginning
// retention deleted is replayed from its department's next start; what
// comes before it is counted as skipped.
func TestReplaySkipsWhatCameBeforeAStart(t *testing.T) {
	j := handMadeJournal()
	restart := 0
	for i, in := range j {
		if in.GetSettings().GetStarted() {
			restart = i
		}
	}
	res := replayJournal(j[3:])
	skipped := 0
	for _, in := range j[3:restart] {
		skipped += len(in.GetDecisions())
	}
	if res.Diff != nil || res.Skipped != restart-3 || res.SkippedDecisions != skipped || res.Decisions == 0 {
		t.Fatalf("replay from entry 4: %+v (diff %v), want %d entries skipped", res, res.Diff, restart-3)
	}
}
