package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/bench"
	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence"
)

// TestReplayEqualsRealityOverBench records a bench run whose routing
// phase has thousands of chats, with offers declined and let expire,
// chats transferred between departments and agents going away and back,
// on a real broker (a child process, real gateway and Pebble, a SIGKILL
// crash cycle and restarts in between); then it replays the broker's
// routing journal through the queues' own code: every decision comes out
// the same, in the same order, at the same times.
func TestReplayEqualsRealityOverBench(t *testing.T) {
	p := bench.Profile{Name: "replay", Agents: 12, Departments: 3, Languages: 2, MessageBytes: 64,
		ConvMessages: 2, AssignVisitors: 40, AssignPhase: time.Second,
		Chats: 4, Window: 2, MessagePhase: time.Second, IdleConnections: 0, IdlePerHolder: 20, CrashCycles: 1, BadInputRounds: 1,
		RoutingChats: 2000, RoutingOverhead: true}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	rep, err := bench.Run(ctx, bench.Config{Profile: p, Out: t.TempDir(), Command: benchChild, KeepData: true, Progress: io.Discard, Summary: io.Discard})
	if rep != nil && rep.DataDir != "" {
		defer os.RemoveAll(rep.DataDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	rt := rep.Routing
	t.Logf("routing phase: %+v", rt)
	if rt.Chats != 2000 || rt.Declined == 0 || rt.Expired == 0 || rt.Transferred == 0 || rt.StatusChanges == 0 {
		t.Fatalf("the routing phase did not exercise every decision: %+v", rt)
	}
	store, err := persistence.Open(rep.DataDir, persistence.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	kinds := map[messages.RoutingDecisionKind]int{}
	res, err := actors.ReplayCheck(func(fn func(uint64, *messages.RoutingInput) bool) error {
		return store.EachRoutingInput(time.Time{}, time.Time{}, func(n uint64, in *messages.RoutingInput) bool {
			for _, d := range in.GetDecisions() {
				kinds[d.GetKind()]++
			}
			return fn(n, in)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("replayed %d inputs, %d decisions reproduced; recorded kinds %v", res.Inputs, res.Decisions, kinds)
	if res.Diff != nil {
		t.Fatalf("replay differs from what happened: %+v", *res.Diff)
	}
	for _, k := range []messages.RoutingDecisionKind{messages.RoutingDecisionKind_ROUTING_DECISION_KIND_OFFERED,
		messages.RoutingDecisionKind_ROUTING_DECISION_KIND_DECLINED, messages.RoutingDecisionKind_ROUTING_DECISION_KIND_EXPIRED,
		messages.RoutingDecisionKind_ROUTING_DECISION_KIND_ASSIGNED, messages.RoutingDecisionKind_ROUTING_DECISION_KIND_QUEUED} {
		if kinds[k] == 0 {
			t.Errorf("the journal holds no %v decision", k)
		}
	}
	if kinds[messages.RoutingDecisionKind_ROUTING_DECISION_KIND_ASSIGNED] < 2000 || res.Decisions < 6000 {
		t.Errorf("%d assignments and %d decisions replayed: want thousands", kinds[messages.RoutingDecisionKind_ROUTING_DECISION_KIND_ASSIGNED], res.Decisions)
	}
}
