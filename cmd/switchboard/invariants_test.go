package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// observed is what the simulated clients saw, checked as they see it.
type observed struct {
	t          *testing.T
	mu         sync.Mutex
	owners     map[string]map[string]bool // chat -> agents that were told it is theirs
	violations []string
}

func (o *observed) fail(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.violations) < 20 {
		o.violations = append(o.violations, fmt.Sprintf(format, args...))
	}
}

func (o *observed) own(chat, agent string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.owners[chat] == nil {
		o.owners[chat] = map[string]bool{}
	}
	o.owners[chat][agent] = true
	if len(o.owners[chat]) > 1 {
		o.violations = append(o.violations, fmt.Sprintf("chat %s has two owners: %v", chat, o.owners[chat]))
	}
}

// seqCheck asserts that one connection sees each chat's events once, in
// order, without gaps.
type seqCheck map[string]uint64

func (s seqCheck) see(o *observed, who string, ev *messages.ChatEvent) {
	if ev.GetSeq() != s[ev.GetChatId()]+1 {
		o.fail("%s got seq %d of %s after %d", who, ev.GetSeq(), ev.GetChatId(), s[ev.GetChatId()])
	}
	s[ev.GetChatId()] = ev.GetSeq()
}

type simAgent struct {
	id, login string
	max       uint32
}

// TestConcurrentRoutingInvariants: hundreds of visitors and dozens of agents
// with random accepts, declines, silence, disconnects and status changes.
// At every point observed: no agent over their limit (their own state
// pushes and the stored open chats), no chat with two owners, every
// connection sees every event once and in order. At the end every chat is
// closed and nothing is left open.
func TestConcurrentRoutingInvariants(t *testing.T) {
	const (
		nAgents   = 24
		nVisitors = 240
		parallel  = 60
	)
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	rng := rand.New(rand.NewPCG(1, 2))
	mustAdmin(t, addr, "PUT", "/admin/departments/d1", map[string]any{"chat_enabled": true, "offer_timeout_ms": 250})
	mustAdmin(t, addr, "PUT", "/admin/departments/d2", map[string]any{"chat_enabled": true, "offer_timeout_ms": 250, "policy": "ROUTING_POLICY_ROUND_ROBIN"})
	deptSets := [][]string{{"d1"}, {"d2"}, {"d1", "d2"}}
	langSets := [][]string{{"en"}, {"es"}, {"en", "es"}}
	agents := make([]simAgent, nAgents)
	maxOf := map[string]uint32{}
	for i := range agents {
		a := simAgent{id: fmt.Sprintf("ag%02d", i), login: fmt.Sprintf("ag%02d@test", i), max: uint32(1 + rng.IntN(3))}
		agents[i] = a
		maxOf[a.id] = a.max
		mustAdmin(t, addr, "PUT", "/admin/agents/"+a.id, map[string]any{"login": a.login, "password": "password-" + a.id,
			"departments": deptSets[i%3], "languages": langSets[(i/3)%3], "max_chats": a.max, "chat_agent": true})
	}
	obs := &observed{t: t, owners: map[string]map[string]bool{}}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	// A watcher reads the stored open chats while everything runs.
	var watch sync.WaitGroup
	watch.Add(1)
	go func() {
		defer watch.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			open, err := m.store.OpenChats()
			if err != nil {
				obs.fail("read open chats: %v", err)
				return
			}
			load := map[string]uint32{}
			for _, oc := range open {
				if oc.GetState() == messages.ChatState_CHAT_STATE_ACTIVE {
					if oc.GetAgentId() == "" {
						obs.fail("active chat %s without an agent", oc.GetChatId())
					}
					load[oc.GetAgentId()]++
				}
			}
			for a, n := range load {
				if n > maxOf[a] {
					obs.fail("stored: agent %s holds %d chats, limit %d", a, n, maxOf[a])
				}
			}
		}
	}()

	var agentsWG sync.WaitGroup
	for i, a := range agents {
		agentsWG.Add(1)
		go func() {
			defer agentsWG.Done()
			runSimAgent(ctx, t, addr, a, obs, rand.New(rand.NewPCG(uint64(i), 7)))
		}()
	}

	var visitorsWG sync.WaitGroup
	sem := make(chan struct{}, parallel)
	var mu sync.Mutex
	var created []string
	for i := 0; i < nVisitors; i++ {
		visitorsWG.Add(1)
		sem <- struct{}{}
		go func() {
			defer visitorsWG.Done()
			defer func() { <-sem }()
			r := rand.New(rand.NewPCG(uint64(i), 99))
			if chat := runSimVisitor(t, addr, obs, r); chat != "" {
				mu.Lock()
				created = append(created, chat)
				mu.Unlock()
			}
		}()
	}
	visitorsWG.Wait()
	stop()
	agentsWG.Wait()
	watch.Wait()

	for _, v := range obs.violations {
		t.Error(v)
	}
	// Every chat a visitor started is closed and stored as closed.
	eventually(t, "no open chats", func() bool { open, _ := m.store.OpenChats(); return len(open) == 0 })
	assigned := 0
	for _, chat := range created {
		rec, err := m.broker.ChatRecord(chat)
		if err != nil || rec.GetState() != messages.ChatState_CHAT_STATE_CLOSED {
			t.Fatalf("chat %s: %v %v", chat, rec.GetState(), err)
		}
		if rec.GetAssignedAtMs() != 0 {
			assigned++
		}
	}
	if assigned == 0 {
		t.Fatal("no chat was ever assigned: the test exercised nothing")
	}
	t.Logf("%d visitors, %d chats, %d assigned, %d agents", nVisitors, len(created), assigned, nAgents)
}

func runSimVisitor(t *testing.T, addr string, obs *observed, r *rand.Rand) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := gateway.Dial(ctx, "ws://"+addr+"/ws/visitor", gateway.ClientOptions{JSON: r.IntN(2) == 0})
	if err != nil {
		obs.fail("visitor dial: %v", err)
		return ""
	}
	defer c.CloseNow()
	if _, err := c.Hello(ctx, &messages.Hello{}); err != nil {
		obs.fail("visitor hello: %v", err)
		return ""
	}
	dept := []string{"d1", "d2"}[r.IntN(2)]
	lang := []string{"en", "es"}[r.IntN(2)]
	env, err := c.Call(ctx, &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{Department: dept, Language: lang, Name: "sim", FirstMessage: "help"}}})
	if err != nil || env.GetAck() == nil {
		obs.fail("visitor request: %v %v", env, err)
		return ""
	}
	chat := env.GetAck().GetChatId()
	seen := seqCheck{}
	patience := time.After(time.Duration(500+r.IntN(3000)) * time.Millisecond)
	var agent string
	sent := 0
	closing := false
	for {
		rctx, rcancel := context.WithTimeout(ctx, 50*time.Millisecond)
		env, err := c.Recv(rctx)
		rcancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			obs.fail("visitor %s: %v", chat, err)
			return chat
		}
		if ev := env.GetEvent(); ev != nil {
			seen.see(obs, "visitor", ev)
			if as := ev.GetAssigned(); as != nil {
				// A visitor sees the agent's name, not their id (here
				// the names are the ids).
				if agent != "" && agent != as.GetAgentName() {
					obs.fail("chat %s assigned to %s then %s", chat, agent, as.GetAgentName())
				}
				agent = as.GetAgentName()
				obs.own(chat, agent)
			}
			if ev.GetClosed() != nil {
				return chat
			}
		}
		if e := env.GetError(); e != nil && e.GetCode() != messages.ErrorCode_ERROR_CODE_CONFLICT {
			obs.fail("visitor %s got %v", chat, e)
		}
		select {
		case <-patience:
			if !closing {
				closing = true
				c.Send(ctx, &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}})
			}
		default:
		}
		if agent != "" && sent < 3 && !closing && r.IntN(4) == 0 {
			sent++
			c.Send(ctx, &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, ClientMsgId: fmt.Sprint(sent), Text: "more"}}})
		}
	}
}

func runSimAgent(ctx context.Context, t *testing.T, addr string, a simAgent, obs *observed, r *rand.Rand) {
	token := ""
	cursors := map[string]uint64{}
	for ctx.Err() == nil {
		c, err := gateway.Dial(ctx, "ws://"+addr+"/ws/agent", gateway.ClientOptions{})
		if err != nil {
			if ctx.Err() == nil {
				obs.fail("agent %s dial: %v", a.id, err)
			}
			return
		}
		hello := &messages.Hello{Login: a.login, Password: "password-" + a.id, Cursors: cursors}
		if token != "" {
			hello = &messages.Hello{SessionToken: token, Cursors: cursors}
		}
		w, err := c.Hello(ctx, hello)
		if err != nil {
			c.CloseNow()
			if ctx.Err() == nil {
				obs.fail("agent %s hello: %v", a.id, err)
			}
			return
		}
		token = w.GetSessionToken()
		seen := seqCheck{}
		mine := map[string]bool{}
		for _, ch := range w.GetChats() {
			mine[ch.GetChatId()] = true
			seen[ch.GetChatId()] = cursors[ch.GetChatId()]
		}
		c.Send(ctx, &messages.Envelope{Body: &messages.Envelope_SetStatus{SetStatus: &messages.SetStatus{Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}})
		simAgentSession(ctx, c, a, obs, r, seen, mine)
		c.CloseNow()
		for chat, seq := range seen {
			if mine[chat] {
				cursors[chat] = seq
			} else {
				delete(cursors, chat)
			}
		}
	}
}

// simAgentSession runs one connection until a random disconnect or the end.
func simAgentSession(ctx context.Context, c *gateway.Client, a simAgent, obs *observed, r *rand.Rand, seen seqCheck, mine map[string]bool) {
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		env, err := c.Recv(rctx)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return
		}
		switch b := env.GetBody().(type) {
		case *messages.Envelope_AgentState:
			s := b.AgentState
			if s.GetActiveChats()+s.GetPendingOffers() > s.GetMaxChats() || s.GetMaxChats() != a.max {
				obs.fail("agent %s state %v over limit %d", a.id, s, a.max)
			}
		case *messages.Envelope_Offer:
			switch p := r.IntN(10); {
			case p < 7:
				c.Send(ctx, &messages.Envelope{Body: &messages.Envelope_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: b.Offer.GetChatId()}}})
			case p < 9:
				c.Send(ctx, &messages.Envelope{Body: &messages.Envelope_DeclineOffer{DeclineOffer: &messages.DeclineOffer{ChatId: b.Offer.GetChatId()}}})
			}
		case *messages.Envelope_Chat:
			ch := b.Chat
			switch ch.GetState() {
			case messages.ChatState_CHAT_STATE_ACTIVE:
				if ch.GetAgentId() != a.id {
					obs.fail("agent %s was given %s owned by %s", a.id, ch.GetChatId(), ch.GetAgentId())
				}
				mine[ch.GetChatId()] = true
				obs.own(ch.GetChatId(), a.id)
				if uint32(len(mine)) > a.max {
					obs.fail("agent %s holds %d chats, limit %d", a.id, len(mine), a.max)
				}
			case messages.ChatState_CHAT_STATE_CLOSED:
				delete(mine, ch.GetChatId())
			}
		case *messages.Envelope_Event:
			seen.see(obs, "agent "+a.id, b.Event)
			if msg := b.Event.GetMessage(); msg != nil && msg.GetFrom().GetKind() == messages.ParticipantKind_PARTICIPANT_KIND_VISITOR && r.IntN(2) == 0 {
				c.Send(ctx, &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: b.Event.GetChatId(), Text: "on it"}}})
			}
		case *messages.Envelope_Error:
			switch b.Error.GetCode() {
			case messages.ErrorCode_ERROR_CODE_CONFLICT, messages.ErrorCode_ERROR_CODE_NOT_FOUND:
				// Lost races (an offer that expired as it was accepted,
				// a chat closed as it was written to) are normal.
			default:
				obs.fail("agent %s got %v", a.id, b.Error)
			}
		}
		switch p := r.IntN(1000); {
		case p < 3:
			return // drop the connection; reconnect with cursors
		case p < 10:
			c.Send(ctx, &messages.Envelope{Body: &messages.Envelope_SetStatus{SetStatus: &messages.SetStatus{Status: messages.AgentStatus_AGENT_STATUS_AWAY}}})
			c.Send(ctx, &messages.Envelope{Body: &messages.Envelope_SetStatus{SetStatus: &messages.SetStatus{Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}})
		case p < 25:
			for chat := range mine {
				c.Send(ctx, &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}})
				break
			}
		}
	}
}
