package persistence

import (
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// The journal keeps inputs in the order submitted, numbered on after a
// restart; a chat's decisions come back in order; the retention pass
// deletes the journal before a time and leaves the chats' decisions.
func TestRoutingJournalAndDecisions(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	t0 := time.Unix(1_900_000_000, 0)
	ch := make(chan error, 16)
	kinds := []messages.RoutingDecisionKind{messages.RoutingDecisionKind_ROUTING_DECISION_KIND_QUEUED,
		messages.RoutingDecisionKind_ROUTING_DECISION_KIND_OFFERED, messages.RoutingDecisionKind_ROUTING_DECISION_KIND_ASSIGNED}
	for i, k := range kinds {
		in := &messages.RoutingInput{AtNs: t0.Add(time.Duration(i) * time.Minute).UnixNano(), Department: "sales",
			Input: &messages.RoutingInput_Retry{Retry: &messages.RetryDispatch{}}}
		stored := []*messages.RoutingDecision{{ChatId: "c1", Kind: k}, {ChatId: "c2", Kind: k}}
		s.AppendRouting(in, stored, func(err error) { ch <- err })
	}
	for range kinds {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openTest(t, dir)
	defer s.Close()
	s.AppendRouting(&messages.RoutingInput{AtNs: t0.Add(time.Hour).UnixNano(), Department: "sales"}, nil, func(err error) { ch <- err })
	if err := <-ch; err != nil {
		t.Fatal(err)
	}
	if ns, ats := journalOf(t, s, time.Time{}, time.Time{}); len(ns) != 4 || ns[0] != 1 || ns[3] != 4 || ats[3] != t0.Add(time.Hour).UnixNano() {
		t.Fatalf("journal numbers %v at %v, want 1..4 in order", ns, ats)
	}
	for _, c := range []string{"c1", "c2"} {
		checkDecisions(t, s, c, kinds)
	}
	// The period [t0+1m, t0+3m) holds the second and third inputs.
	if got, _ := journalOf(t, s, t0.Add(time.Minute), t0.Add(3*time.Minute)); len(got) != 2 || got[0] != 2 {
		t.Fatalf("period: %v; want [2 3]", got)
	}
	if err := s.DeleteRoutingBefore(t0.Add(2 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := journalOf(t, s, time.Time{}, time.Time{}); len(got) != 2 || got[0] != 3 {
		t.Fatalf("after retention: %v; want [3 4]", got)
	}
	if ds, _ := s.RoutingDecisions("c1"); len(ds) != 3 {
		t.Fatalf("retention of the journal took a chat's decisions: %d left", len(ds))
	}
}

// journalOf lists the journal's numbers and times in [from, to).
func journalOf(t *testing.T, s *Store, from, to time.Time) (ns []uint64, ats []int64) {
	t.Helper()
	if err := s.EachRoutingInput(from, to, func(n uint64, in *messages.RoutingInput) bool {
		ns, ats = append(ns, n), append(ats, in.GetAtNs())
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return ns, ats
}

// checkDecisions: chat's stored decisions are of kinds, in order.
func checkDecisions(t *testing.T, s *Store, chat string, kinds []messages.RoutingDecisionKind) {
	t.Helper()
	ds, err := s.RoutingDecisions(chat)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != len(kinds) {
		t.Fatalf("%s: %d decisions, want %d", chat, len(ds), len(kinds))
	}
	for i, d := range ds {
		if d.GetKind() != kinds[i] || d.GetChatId() != chat {
			t.Fatalf("%s: decision %d is %v of %s, want %v", chat, i, d.GetKind(), d.GetChatId(), kinds[i])
		}
	}
}
