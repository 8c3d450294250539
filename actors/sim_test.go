package actors

import (
	"cmp"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// simWaits are the waits of a simulation: from joining a line to being
// assigned, and how many chats joined.
type simWaits struct {
	since  map[string]int64
	waits  []time.Duration
	joined int
}

func (s *simWaits) observe(in *messages.RoutingInput) {
	if e := in.GetEnqueue(); e != nil {
		s.since[e.GetChat().GetChatId()] = in.GetAtNs()
		s.joined++
	}
	for _, d := range in.GetDecisions() {
		if d.GetKind() == messages.RoutingDecisionKind_ROUTING_DECISION_KIND_ASSIGNED {
			s.waits = append(s.waits, time.Duration(in.GetAtNs()-s.since[d.GetChatId()]))
		}
	}
}

func (s *simWaits) mean() time.Duration {
	var sum time.Duration
	for _, w := range s.waits {
		sum += w
	}
	return sum / time.Duration(max(len(s.waits), 1))
}

// waited is the share of chats that waited at all.
func (s *simWaits) waited() float64 {
	n := 0
	for _, w := range s.waits {
		if w > 0 {
			n++
		}
	}
	return float64(n) / float64(max(len(s.waits), 1))
}

func (s *simWaits) within(target time.Duration) float64 {
	n := 0
	for _, w := range s.waits {
		if w <= target {
			n++
		}
	}
	return float64(n) / float64(max(len(s.waits), 1))
}

func simulate(t testing.TB, tr *Traffic, ch Changes) *simWaits {
	t.Helper()
	s := &simWaits{since: map[string]int64{}}
	Simulate(tr, ch, s.observe)
	if len(s.waits) != s.joined {
		t.Fatalf("%d chats joined, %d assigned", s.joined, len(s.waits))
	}
	return s
}

func TestErlangCFormulas(t *testing.T) {
	// Textbook values: 10 agents, 8 erlangs.
	if c := ErlangC(10, 8); math.Abs(c-0.4092) > 0.001 {
		t.Fatalf("ErlangC(10, 8) = %.4f, want 0.4092", c)
	}
	if w := ErlangMeanWait(10, 8, 5*time.Minute); (w - 61*time.Second).Abs() > time.Second {
		t.Fatalf("mean wait = %s, want about 61s", w)
	}
	if sl := ErlangServiceLevel(10, 8, 5*time.Minute, 20*time.Second); math.Abs(sl-(1-0.4092*math.Exp(-2*20.0/300))) > 0.001 {
		t.Fatalf("service level = %.4f", sl)
	}
	if ErlangC(3, 3) != 1 {
		t.Fatal("an overloaded team must always wait")
	}
}

// TestSimulateAgreesWithErlangC runs the synthetic mode of one
// department, least-loaded, limit 1, exponential arrivals and handling:
// an M/M/N queue. Over 40,000 chats (5 agents at 3.5 erlangs: 70%
// busy) the share that waits and the service level agree with Erlang C
// within 3 points, and the mean wait within 8% (waits are correlated
// from one chat to the next, so their mean converges slowest: with this
// seed and length the run is well inside both bounds).
func TestSimulateAgreesWithErlangC(t *testing.T) {
	const agents, load = 5, 3.5
	mean := 4 * time.Minute
	perHour := load / mean.Hours()
	s := simulate(t, Synthetic{Department: "sales", Language: "en", ArrivalsPerHour: perHour, HandlingMean: mean, Agents: agents,
		Limit: 1, Hours: 40000 / perHour, Seed: 7}.Traffic(), Changes{})
	target := 30 * time.Second
	wantC, wantW, wantSL := ErlangC(agents, load), ErlangMeanWait(agents, load, mean), ErlangServiceLevel(agents, load, mean, target)
	t.Logf("%d chats: waited %.4f (Erlang C %.4f), mean wait %s (%s), within %s %.4f (%.4f)", len(s.waits),
		s.waited(), wantC, s.mean().Round(time.Millisecond), wantW.Round(time.Millisecond), target, s.within(target), wantSL)
	if math.Abs(s.waited()-wantC) > 0.03 {
		t.Errorf("share that waited %.4f, Erlang C %.4f", s.waited(), wantC)
	}
	if math.Abs(s.within(target)-wantSL) > 0.03 {
		t.Errorf("within %s: %.4f, Erlang C %.4f", target, s.within(target), wantSL)
	}
	if r := float64(s.mean()) / float64(wantW); math.Abs(r-1) > 0.08 {
		t.Errorf("mean wait %s, Erlang C %s", s.mean(), wantW)
	}
}

// TestSimulateChangesMoveWaitsTheRightWay: on the same traffic (three
// agents, 80% busy), more capacity lowers the mean wait and less raises
// it.
func TestSimulateChangesMoveWaitsTheRightWay(t *testing.T) {
	tr := Synthetic{Department: "sales", Language: "en", ArrivalsPerHour: 28.8, HandlingMean: 5 * time.Minute, Agents: 3, Limit: 1,
		Hours: 72, Seed: 11}.Traffic()
	base := simulate(t, tr, Changes{}).mean()
	evening := &Window{From: 12 * time.Hour, To: 24 * time.Hour}
	for _, c := range []struct {
		name string
		ch   Changes
		want int // the sign of the change in the mean wait
	}{
		{"one more agent", Changes{Add: []SimAgent{{ID: "new", Departments: []string{"sales"}, Languages: []string{"en"}, Limit: 1}}}, -1},
		{"one more in the afternoons", Changes{Add: []SimAgent{{ID: "new", Departments: []string{"sales"}, Languages: []string{"en"}, Limit: 1, Window: evening}}}, -1},
		{"a higher limit", Changes{Limit: map[string]uint32{"agent-001": 2}}, -1},
		{"one agent fewer", Changes{Remove: map[string]bool{"agent-003": true}}, 1},
		{"one agent on mornings only", Changes{Shift: map[string]Window{"agent-002": {From: 0, To: 12 * time.Hour}}}, 1},
		{"a new agent who speaks no English", Changes{Add: []SimAgent{{ID: "new", Departments: []string{"sales"}, Languages: []string{"fr"}, Limit: 1}}}, 0},
	} {
		got := simulate(t, tr, c.ch).mean()
		t.Logf("%s: mean wait %s (as recorded: %s)", c.name, got.Round(time.Second), base.Round(time.Second))
		if sign := cmp.Compare(int64(got), int64(base)); sign != c.want {
			t.Errorf("%s: mean wait %s against %s, want the sign %d", c.name, got, base, c.want)
		}
	}
}

// recordedSynthetic is a synthetic run's journal with its chats: traffic
// as a broker would have recorded it.
func recordedSynthetic(s Synthetic) *Traffic {
	tr := s.Traffic()
	out := &Traffic{Chats: tr.Chats}
	Simulate(tr, Changes{}, func(in *messages.RoutingInput) { out.Inputs = append(out.Inputs, in) })
	return out
}

// TestSimulatedJournalReplays: what the simulation's queues decided is
// a journal like a broker's, and the replay check reproduces it, offers
// and expiries included; simulating it again unchanged gives the same
// decisions.
func TestSimulatedJournalReplays(t *testing.T) {
	tr := recordedSynthetic(Synthetic{Department: "sales", Language: "en", ArrivalsPerHour: 40, HandlingMean: 4 * time.Minute,
		Agents: 3, Limit: 2, Hours: 24, Seed: 3})
	res := replayJournal(tr.Inputs)
	if res.Diff != nil || res.Decisions == 0 {
		t.Fatalf("replay of a simulated journal: %+v, %v", res, res.Diff)
	}
	again := recordedSynthetic(Synthetic{Department: "sales", Language: "en", ArrivalsPerHour: 40, HandlingMean: 4 * time.Minute,
		Agents: 3, Limit: 2, Hours: 24, Seed: 3})
	var twice []*messages.RoutingInput
	Simulate(tr, Changes{}, func(in *messages.RoutingInput) { twice = append(twice, in) })
	if got, want := assignments(twice), assignments(again.Inputs); got != want {
		t.Fatalf("simulating the recorded traffic unchanged: %d assignments differ from the recording", countDiff(got, want))
	}
}

// assignments are a journal's ASSIGNED decisions, "time chat agent" each.
func assignments(j []*messages.RoutingInput) string {
	var b strings.Builder
	for _, in := range j {
		for _, d := range in.GetDecisions() {
			if d.GetKind() == messages.RoutingDecisionKind_ROUTING_DECISION_KIND_ASSIGNED {
				fmt.Fprintf(&b, "%d %s %s\n", in.GetAtNs(), d.GetChatId(), d.GetAgentId())
			}
		}
	}
	return b.String()
}

func countDiff(a, b string) int {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	n := max(len(la), len(lb)) - min(len(la), len(lb))
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			n++
		}
	}
	return n
}

// TestSimulateOfferTimeoutAndPolicy: when agent-001 lets the first offer
// of every chat expire (as recorded), a shorter offer timeout lowers the
// waits; a manual queue offers nothing.
func TestSimulateOfferTimeoutAndPolicy(t *testing.T) {
	tr := Synthetic{Department: "sales", Language: "en", ArrivalsPerHour: 20, HandlingMean: 5 * time.Minute, Agents: 3, Limit: 1,
		Hours: 24, Seed: 4}.Traffic()
	for _, in := range tr.Inputs {
		if a := in.GetAdmit(); a != nil {
			in.Decisions = []*messages.RoutingDecision{
				{Kind: messages.RoutingDecisionKind_ROUTING_DECISION_KIND_OFFERED, ChatId: a.GetChatId(), AgentId: "agent-001"},
				{Kind: messages.RoutingDecisionKind_ROUTING_DECISION_KIND_EXPIRED, ChatId: a.GetChatId(), AgentId: "agent-001"}}
		}
	}
	slow := simulate(t, tr, Changes{}).mean()
	fast := simulate(t, tr, Changes{OfferTimeout: map[string]time.Duration{"sales": 5 * time.Second}}).mean()
	t.Logf("mean wait: %s with the default offer timeout, %s with 5s", slow.Round(time.Millisecond), fast.Round(time.Millisecond))
	if fast >= slow {
		t.Fatalf("a 5s offer timeout: mean wait %s, not below %s", fast, slow)
	}
	s := &simWaits{since: map[string]int64{}}
	Simulate(tr, Changes{Policy: map[string]messages.RoutingPolicy{"sales": messages.RoutingPolicy_ROUTING_POLICY_MANUAL}}, s.observe)
	if s.joined == 0 || len(s.waits) != 0 {
		t.Fatalf("manual: %d joined, %d assigned; want nobody assigned", s.joined, len(s.waits))
	}
}
