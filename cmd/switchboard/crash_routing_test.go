package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// rushAgents are the agents of department rush in the crash test.
var rushAgents = []string{"rush1", "rush2", "rush3"}

// TestKill9RoutingStories kills a broker child with SIGKILL while chats
// are being requested, declined and accepted; after the restart, every
// chat whose assignment an agent had acknowledged has its whole routing
// story, in order, ending with its assignment to that agent.
func TestKill9RoutingStories(t *testing.T) {
	dir := t.TempDir()
	checked, declined := 0, 0
	for cycle := range 2 {
		t.Run(fmt.Sprint("cycle", cycle), func(t *testing.T) {
			c, d := kill9RoutingCycle(t, dir)
			checked, declined = checked+c, declined+d
		})
	}
	t.Logf("routing crash test: %d acknowledged assignments checked after SIGKILL, %d declines in their stories", checked, declined)
}

// kill9RoutingCycle returns how many acknowledged assignments it checked
// and how many declines their stories hold.
func kill9RoutingCycle(t *testing.T, dir string) (checked, declined int) {
	ch := startChild(t, dir)
	mustAdmin(t, ch.addr, "PUT", "/admin/departments/rush", map[string]any{"name": "Rush", "chat_enabled": true})
	for _, id := range rushAgents {
		mustAdmin(t, ch.addr, "PUT", "/admin/agents/"+id, map[string]any{"login": id + "@rush", "password": "rush-password",
			"departments": []string{"rush"}, "languages": []string{"en"}, "chat_agent": true, "max_chats": 100})
	}
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	acked := &ackedAssignments{byChat: map[string]string{}, enough: make(chan struct{}), at: 5 + rand.IntN(40)}
	var wg sync.WaitGroup
	for _, id := range rushAgents {
		a, _ := newAgent(t, ch.addr, id+"@rush", "rush-password", true)
		wg.Add(1)
		go func() { defer wg.Done(); rushAgent(ctx, a, id, acked) }()
	}
	for range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); rushVisitors(ctx, ch.addr) }()
	}
	select {
	case <-acked.enough:
	case <-ctx.Done():
		t.Fatal("too few assignments before the deadline")
	}
	ch.kill()
	cancel()
	wg.Wait()

	ch = startChild(t, dir)
	defer ch.kill()
	for chat, agent := range acked.snapshot() {
		code, story, body := routingStory(t, ch.addr, testAdminToken, chat)
		if code != 200 {
			t.Fatalf("%s after the restart: %d %s", chat, code, body)
		}
		if err := completeStory(story.GetDecisions(), agent); err != nil {
			t.Errorf("%s (acknowledged by %s): %v; story %v", chat, agent, err, storyOf(story))
		}
		declined += strings.Count(strings.Join(storyOf(story), ","), "DECLINED")
	}
	return len(acked.byChat), declined
}

// ackedAssignments are the chats whose assignment an agent acknowledged
// (chat -> agent); enough closes once there are at of them.
type ackedAssignments struct {
	mu     sync.Mutex
	byChat map[string]string
	at     int
	enough chan struct{}
}

func (a *ackedAssignments) add(chat, agent string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.byChat[chat] = agent
	if len(a.byChat) == a.at {
		close(a.enough)
	}
}

func (a *ackedAssignments) snapshot() map[string]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]string, len(a.byChat))
	for k, v := range a.byChat {
		out[k] = v
	}
	return out
}

// rushAgent answers every offer until the broker goes: it declines about
// one in four, accepts the rest and notes each acknowledged acceptance.
func rushAgent(ctx context.Context, a *gateway.Client, id string, acked *ackedAssignments) {
	for {
		env, err := a.Await(ctx, func(e *messages.Envelope) bool { return e.GetOffer() != nil })
		if err != nil {
			return
		}
		chat := env.GetOffer().GetChatId()
		if rand.IntN(4) == 0 {
			a.Call(ctx, &messages.Envelope{Body: &messages.Envelope_DeclineOffer{DeclineOffer: &messages.DeclineOffer{ChatId: chat}}})
			continue
		}
		ack, err := a.Call(ctx, &messages.Envelope{Body: &messages.Envelope_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: chat}}})
		if err == nil && ack.GetAck() != nil {
			acked.add(chat, id)
		}
	}
}

// rushVisitors asks chats of rush, one new visitor after another, until
// the broker goes.
func rushVisitors(ctx context.Context, addr string) {
	for ctx.Err() == nil {
		v, err := gateway.Dial(ctx, "ws://"+addr+"/ws/visitor", gateway.ClientOptions{})
		if err != nil {
			return
		}
		_, err = v.Hello(ctx, &messages.Hello{})
		if err == nil {
			_, err = v.Call(ctx, &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{Department: "rush", Language: "en"}}})
		}
		v.CloseNow()
		if err != nil {
			return
		}
	}
}

// completeStory checks a chat's story is whole and in order: it starts
// QUEUED, each offer is answered (declined, expired, busy, withdrawn or
// accepted by its agent) before the next, unless a broker died with it
// out (the chat is QUEUED back after the restart), and it ends ASSIGNED
// to agent.
func completeStory(ds []*messages.RoutingDecision, agent string) error {
	if len(ds) < 3 || ds[0].GetKind() != messages.RoutingDecisionKind_ROUTING_DECISION_KIND_QUEUED {
		return fmt.Errorf("want QUEUED, OFFERED ... ASSIGNED")
	}
	out := "" // the agent an offer is out to
	for i, d := range ds {
		if i > 0 && (d.GetAtMs() < ds[i-1].GetAtMs() || d.GetInput() < ds[i-1].GetInput()) {
			return fmt.Errorf("decision %d out of order", i)
		}
		switch d.GetKind() {
		case messages.RoutingDecisionKind_ROUTING_DECISION_KIND_QUEUED:
			// An offer out when a broker died died with it: the chat is
			// back in line after the restart, and says so.
			if out != "" && !strings.Contains(d.GetDetail(), "restart") {
				return fmt.Errorf("decision %d (%s) while an offer to %s is out", i, d.GetKind(), out)
			}
			out = ""
		case messages.RoutingDecisionKind_ROUTING_DECISION_KIND_WAITING:
			if out != "" {
				return fmt.Errorf("decision %d (%s) while an offer to %s is out", i, d.GetKind(), out)
			}
		case messages.RoutingDecisionKind_ROUTING_DECISION_KIND_OFFERED:
			if out != "" {
				return fmt.Errorf("decision %d offers to %s while an offer to %s is out", i, d.GetAgentId(), out)
			}
			out = d.GetAgentId()
		default: // an answer to the offer out
			if out == "" || d.GetAgentId() != out {
				return fmt.Errorf("decision %d (%s of %s) answers no offer out (to %q)", i, d.GetKind(), d.GetAgentId(), out)
			}
			out = ""
		}
	}
	if last := ds[len(ds)-1]; last.GetKind() != messages.RoutingDecisionKind_ROUTING_DECISION_KIND_ASSIGNED || last.GetAgentId() != agent {
		return fmt.Errorf("it ends %s to %s, want ASSIGNED to %s", last.GetKind(), last.GetAgentId(), agent)
	}
	return nil
}
