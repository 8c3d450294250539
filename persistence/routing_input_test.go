package persistence

import (
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// A chat's stored decisions name the journal entry they were recorded
// with (input), in order: two decisions of one entry share its number.
func TestRoutingDecisionsNameTheirInput(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	ch := make(chan error, 2)
	queued, offered := messages.RoutingDecisionKind_ROUTING_DECISION_KIND_QUEUED, messages.RoutingDecisionKind_ROUTING_DECISION_KIND_OFFERED
	s.AppendRouting(&messages.RoutingInput{Department: "sales"}, nil, func(err error) { ch <- err })
	s.AppendRouting(&messages.RoutingInput{Department: "sales"}, []*messages.RoutingDecision{{ChatId: "c1", Kind: queued}, {ChatId: "c1", Kind: offered}},
		func(err error) { ch <- err })
	for range 2 {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	ds, err := s.RoutingDecisions("c1")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].GetInput() != 2 || ds[1].GetInput() != 2 || ds[0].GetKind() != queued || ds[1].GetKind() != offered {
		t.Fatalf("decisions %v, want QUEUED and OFFERED of input 2", ds)
	}
}
