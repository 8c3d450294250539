package actors

import (
	"github.com/asynkron/protoactor-go/actor"

	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// explainQueue is a department's queue with roster cs and one chat in
// line in lang (visitor v), under policy.
func explainQueue(policy messages.RoutingPolicy, v, lang string, cs ...*candidate) (*queue, *waiting) {
	q := newQueue(nil, "sales")
	q.dept = &messages.Department{Id: "sales", Name: "Sales", Policy: policy}
	for _, c := range cs {
		q.roster[c.id] = c
	}
	q.line.insert(&messages.ChatSummary{ChatId: "c1", VisitorId: v, Language: lang}, 1, false, "")
	return q, q.line.byChat["c1"]
}

// skipOf names the first rule that passes each agent over, in the
// dispatcher's order: every reason a single candidate can be given.
func TestSkipOfEveryReason(t *testing.T) {
	t0 := time.Unix(1_900_000_000, 0)
	with := func(f func(c *candidate)) *candidate {
		c := cand("bob", 1, 3, 0, "en")
		f(c)
		return c
	}
	cases := []struct {
		name   string
		c      *candidate
		v      string
		policy messages.RoutingPolicy
		prep   func(w *waiting)
		want   messages.RoutingSkip
	}{
		{"free and speaks it", cand("bob", 1, 3, 0, "en"), "v1", 0, nil, messages.RoutingSkip_ROUTING_SKIP_CHOSEN},
		{"their own question", cand("bob", 0, 3, 0, "en"), colleaguePrefix + "bob", 0, nil, messages.RoutingSkip_ROUTING_SKIP_OWN_QUESTION},
		{"draining", with(func(c *candidate) { c.status = messages.AgentStatus_AGENT_STATUS_DRAINING }), "v1", 0, nil, messages.RoutingSkip_ROUTING_SKIP_DRAINING},
		{"away", with(func(c *candidate) { c.status = messages.AgentStatus_AGENT_STATUS_AWAY }), "v1", 0, nil, messages.RoutingSkip_ROUTING_SKIP_AWAY},
		{"offline", with(func(c *candidate) { c.status = messages.AgentStatus_AGENT_STATUS_OFFLINE }), "v1", 0, nil, messages.RoutingSkip_ROUTING_SKIP_AWAY},
		{"no socket", with(func(c *candidate) { c.connected = false }), "v1", 0, nil, messages.RoutingSkip_ROUTING_SKIP_NOT_CONNECTED},
		{"at the limit", cand("bob", 3, 3, 0, "en"), "v1", 0, nil, messages.RoutingSkip_ROUTING_SKIP_AT_LIMIT},
		{"answered busy", with(func(c *candidate) { c.hold = true }), "v1", 0, nil, messages.RoutingSkip_ROUTING_SKIP_AT_LIMIT},
		{"another language", cand("bob", 0, 3, 0, "es"), "v1", 0, nil, messages.RoutingSkip_ROUTING_SKIP_LANGUAGE},
		{"routing by hand", cand("bob", 0, 3, 0, "en"), "v1", messages.RoutingPolicy_ROUTING_POLICY_MANUAL, nil, messages.RoutingSkip_ROUTING_SKIP_MANUAL},
		{"an offer out", cand("bob", 0, 3, 0, "en"), "v1", 0, func(w *waiting) { w.offer = &offer{agent: "carol"} }, messages.RoutingSkip_ROUTING_SKIP_MANUAL},
		{"declined a moment ago", cand("bob", 0, 3, 0, "en"), "v1", 0, func(w *waiting) { w.declined["bob"] = t0.Add(-time.Second) }, messages.RoutingSkip_ROUTING_SKIP_COOLING},
		{"declined long ago", cand("bob", 0, 3, 0, "en"), "v1", 0, func(w *waiting) { w.declined["bob"] = t0.Add(-declineCooldown) }, messages.RoutingSkip_ROUTING_SKIP_CHOSEN},
		// The first rule wins: away and at the limit is away.
		{"away at the limit", with(func(c *candidate) { c.status, c.load = messages.AgentStatus_AGENT_STATUS_AWAY, 3 }), "v1", 0, nil, messages.RoutingSkip_ROUTING_SKIP_AWAY},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, w := explainQueue(c.policy, c.v, "en", c.c)
			if c.prep != nil {
				c.prep(w)
			}
			if got := q.skipOf(c.c, w, t0); got != c.want {
				t.Fatalf("skipOf = %s, want %s", got, c.want)
			}
		})
	}
}

// explain lists the chosen agent first, then the others by id with their
// reasons; those the rules would have taken are MORE_LOADED under
// least-loaded and NOT_TURN under round-robin; COOLING says until when.
func TestExplainLists(t *testing.T) {
	t0 := time.Unix(1_900_000_000, 0)
	for _, c := range []struct {
		policy messages.RoutingPolicy
		passed messages.RoutingSkip
	}{
		{messages.RoutingPolicy_ROUTING_POLICY_LEAST_LOADED, messages.RoutingSkip_ROUTING_SKIP_MORE_LOADED},
		{messages.RoutingPolicy_ROUTING_POLICY_ROUND_ROBIN, messages.RoutingSkip_ROUTING_SKIP_NOT_TURN},
	} {
		t.Run(c.policy.String(), func(t *testing.T) {
			chosen := cand("dave", 0, 3, 0, "en")
			away := cand("amy", 0, 3, 0, "en")
			away.status = messages.AgentStatus_AGENT_STATUS_AWAY
			q, w := explainQueue(c.policy, "v1", "en", away, cand("bob", 2, 2, 0, "en"), cand("carol", 0, 2, 0, "es"), chosen,
				cand("erin", 1, 3, 0, "en"), cand("fay", 0, 3, 0, "en"))
			w.declined["fay"] = t0.Add(-time.Second)
			cs, omitted := q.explain(w, chosen, t0)
			got := []string{}
			for _, rc := range cs {
				got = append(got, rc.GetAgentId()+":"+rc.GetReason().String())
			}
			want := []string{"dave:ROUTING_SKIP_CHOSEN", "amy:ROUTING_SKIP_AWAY", "bob:ROUTING_SKIP_AT_LIMIT", "carol:ROUTING_SKIP_LANGUAGE",
				"erin:" + c.passed.String(), "fay:ROUTING_SKIP_COOLING"}
			if strings.Join(got, " ") != strings.Join(want, " ") || omitted != 0 {
				t.Fatalf("explain = %v (+%d), want %v", got, omitted, want)
			}
			if until := cs[5].GetUntilMs(); until != t0.Add(-time.Second).Add(declineCooldown).UnixMilli() {
				t.Fatalf("cooling until %d", until)
			}
			if b := cs[2]; b.GetLoad() != 2 || b.GetMaxChats() != 2 || !b.GetConnected() || b.GetStatus() != statusAvailable {
				t.Fatalf("bob as seen: %v", b)
			}
		})
	}
}

// explain lists at most maxExplained candidates and counts the others.
func TestExplainBounded(t *testing.T) {
	var cs []*candidate
	for i := range maxExplained + 5 {
		cs = append(cs, cand(fmt.Sprintf("a%03d", i), 2, 2, 0, "en"))
	}
	q, w := explainQueue(0, "v1", "en", cs...)
	got, omitted := q.explain(w, nil, time.Unix(0, 0))
	if len(got) != maxExplained || omitted != 5 {
		t.Fatalf("%d listed, %d omitted; want %d and 5", len(got), omitted, maxExplained)
	}
}

// waitingDecision says why the chat waits, in words and per candidate.
func TestWaitingDecisionWords(t *testing.T) {
	t0 := time.Unix(1_900_000_000, 0)
	away := cand("amy", 0, 3, 0, "en")
	away.status = messages.AgentStatus_AGENT_STATUS_AWAY
	for _, c := range []struct {
		name   string
		policy messages.RoutingPolicy
		cs     []*candidate
		offer  string
		want   string
	}{
		{"nobody signed in", 0, nil, "", "no agent of the department has signed in since the broker started"},
		{"everyone busy", 0, []*candidate{cand("bob", 2, 2, 0, "en"), cand("carol", 3, 3, 0, "en"), away, cand("dan", 0, 2, 0, "sv")},
			"", "nobody can take it now: 2 at their limit, 1 away or offline, 1 not speaking the chat's language"},
		{"someone free", 0, []*candidate{cand("bob", 0, 2, 0, "en")}, "", "an agent is free: the chat is offered on the next routing pass"},
		{"by hand", messages.RoutingPolicy_ROUTING_POLICY_MANUAL, []*candidate{cand("bob", 0, 2, 0, "en")}, "", "the department routes by hand: an agent picks the chat from the line"},
		{"an offer out", 0, []*candidate{cand("bob", 0, 2, 0, "en")}, "bob", "offered to bob, waiting for their answer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, w := explainQueue(c.policy, "v1", "en", c.cs...)
			if c.offer != "" {
				w.offer = &offer{agent: c.offer}
			}
			d := q.waitingDecision(w, t0)
			if d.GetDetail() != c.want || d.GetKind() != messages.RoutingDecisionKind_ROUTING_DECISION_KIND_WAITING ||
				d.GetPosition() != 1 || d.GetLineLength() != 1 || d.GetAtMs() != t0.UnixMilli() || d.GetAgentId() != c.offer {
				t.Fatalf("waiting decision %v, want detail %q", d, c.want)
			}
		})
	}
}

// A chat transferred to a colleague by name is offered to them first:
// the others are passed over for that (TRANSFER_TARGET). When the
// colleague cannot take it (away) or is no member of the department,
// the story says so and the chat goes to anyone.
func TestTransferTargetExplained(t *testing.T) {
	h := &simHost{now: time.Unix(1_900_000_000, 0), dept: &messages.Department{Id: "sales", Name: "Sales", ChatEnabled: true}}
	var got []*messages.RoutingDecision
	h.col.stored = func(ds []*messages.RoutingDecision) { got = append(got, ds...) }
	q := newSimQueue("sales", h)
	q.handle(&actor.Started{})
	away := agentReport("ben", 0)
	away.Status = messages.AgentStatus_AGENT_STATUS_AWAY
	ann, cat := agentReport("ann", 0), agentReport("cat", 0)
	ann.MaxChats, cat.MaxChats = 3, 3
	for _, m := range []any{ann, cat, away} {
		q.handle(m)
	}
	transfer := func(chat, to string) []*messages.RoutingDecision {
		got = nil
		e := waitingChat(chat, 1)
		e.Head, e.Target = true, to
		q.handle(e)
		return got
	}
	// To ann, who is free: offered to her, cat passed over for her.
	ds := transfer("c1", "ann")
	off := ds[len(ds)-1]
	if off.GetKind() != messages.RoutingDecisionKind_ROUTING_DECISION_KIND_OFFERED || off.GetAgentId() != "ann" {
		t.Fatalf("transfer to ann: %v", ds)
	}
	for _, c := range off.GetCandidates()[1:] {
		want := messages.RoutingSkip_ROUTING_SKIP_TRANSFER_TARGET
		if c.GetAgentId() == "ben" {
			want = messages.RoutingSkip_ROUTING_SKIP_AWAY
		}
		if c.GetReason() != want {
			t.Errorf("transfer to ann: %s passed over for %v, want %v", c.GetAgentId(), c.GetReason(), want)
		}
	}
	// To ben (away) and to zed (no member): the story says why, and the
	// chat goes to anyone.
	for _, c := range []struct {
		chat, to string
		why      messages.RoutingSkip
	}{{"c2", "ben", messages.RoutingSkip_ROUTING_SKIP_AWAY}, {"c3", "zed", messages.RoutingSkip_ROUTING_SKIP_NOT_MEMBER}} {
		ds := transfer(c.chat, c.to)
		var passed *messages.RoutingDecision
		for _, d := range ds {
			if d.GetKind() == messages.RoutingDecisionKind_ROUTING_DECISION_KIND_REQUEUED {
				passed = d
			}
		}
		if passed == nil || passed.GetAgentId() != c.to || len(passed.GetCandidates()) != 1 || passed.GetCandidates()[0].GetReason() != c.why ||
			!strings.Contains(passed.GetDetail(), "transferred to "+c.to) {
			t.Fatalf("transfer to %s: %v", c.to, ds)
		}
	}
}
