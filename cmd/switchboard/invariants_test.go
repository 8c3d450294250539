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
	v := &simVisitorChat{obs: obs, chat: env.GetAck().GetChatId(), seen: seqCheck{}}
	patience := time.After(time.Duration(500+r.IntN(3000)) * time.Millisecond)
	sent := 0
	closing := false
	for {
		rctx, rcancel := context.WithTimeout(ctx, 50*time.Millisecond)
		env, err := c.Recv(rctx)
		rcancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			obs.fail("visitor %s: %v", v.chat, err)
			return v.chat
		}
		if v.frame(env) {
			return v.chat
		}
		select {
		case <-patience:
			if !closing {
				closing = true
				c.Send(ctx, &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: v.chat}}})
			}
		default:
		}
		if v.agent != "" && sent < 3 && !closing && r.IntN(4) == 0 {
			sent++
			c.Send(ctx, &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: v.chat, ClientMsgId: fmt.Sprint(sent), Text: "more"}}})
		}
	}
}

// simVisitorChat is what a simulated visitor knows of its chat.
type simVisitorChat struct {
	obs   *observed
	chat  string
	seen  seqCheck
	agent string // the name of the agent it was assigned to
}

// frame checks one frame (nil when none came); it says whether the chat
// closed.
func (v *simVisitorChat) frame(env *messages.Envelope) (closed bool) {
	if ev := env.GetEvent(); ev != nil {
		v.seen.see(v.obs, "visitor", ev)
		if as := ev.GetAssigned(); as != nil {
			// A visitor sees the agent's name, not their id (here
			// the names are the ids).
			if v.agent != "" && v.agent != as.GetAgentName() {
				v.obs.fail("chat %s assigned to %s then %s", v.chat, v.agent, as.GetAgentName())
			}
			v.agent = as.GetAgentName()
			v.obs.own(v.chat, v.agent)
		}
		if ev.GetClosed() != nil {
			return true
		}
	}
	if e := env.GetError(); e != nil && e.GetCode() != messages.ErrorCode_ERROR_CODE_CONFLICT {
		v.obs.fail("visitor %s got %v", v.chat, e)
	}
	return false
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
	s := &agentSession{ctx: ctx, c: c, a: a, obs: obs, r: r, seen: seen, mine: mine}
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		env, err := c.Recv(rctx)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return
		}
		s.frame(env)
		if s.randomAction() {
			return // drop the connection; reconnect with cursors
		}
	}
}

// agentSession is one connection of a simulated agent.
type agentSession struct {
	ctx  context.Context
	c    *gateway.Client
	a    simAgent
	obs  *observed
	r    *rand.Rand
	seen seqCheck
	mine map[string]bool // the chats the agent holds
}

func (s *agentSession) send(env *messages.Envelope) { s.c.Send(s.ctx, env) }

// frame checks one frame (nil when none came) and answers it.
func (s *agentSession) frame(env *messages.Envelope) {
	switch b := env.GetBody().(type) {
	case *messages.Envelope_AgentState:
		s.state(b.AgentState)
	case *messages.Envelope_Offer:
		s.offer(b.Offer)
	case *messages.Envelope_Chat:
		s.summary(b.Chat)
	case *messages.Envelope_Event:
		s.event(b.Event)
	case *messages.Envelope_Error:
		s.checkError(b.Error)
	}
}

func (s *agentSession) state(st *messages.AgentState) {
	if st.GetActiveChats()+st.GetPendingOffers() > st.GetMaxChats() || st.GetMaxChats() != s.a.max {
		s.obs.fail("agent %s state %v over limit %d", s.a.id, st, s.a.max)
	}
}

// offer: mostly accept, sometimes decline, sometimes stay silent.
func (s *agentSession) offer(o *messages.Offer) {
	switch p := s.r.IntN(10); {
	case p < 7:
		s.send(&messages.Envelope{Body: &messages.Envelope_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: o.GetChatId()}}})
	case p < 9:
		s.send(&messages.Envelope{Body: &messages.Envelope_DeclineOffer{DeclineOffer: &messages.DeclineOffer{ChatId: o.GetChatId()}}})
	}
}

func (s *agentSession) summary(ch *messages.ChatSummary) {
	a := s.a
	switch ch.GetState() {
	case messages.ChatState_CHAT_STATE_ACTIVE:
		if ch.GetAgentId() != a.id {
			s.obs.fail("agent %s was given %s owned by %s", a.id, ch.GetChatId(), ch.GetAgentId())
		}
		s.mine[ch.GetChatId()] = true
		s.obs.own(ch.GetChatId(), a.id)
		if uint32(len(s.mine)) > a.max {
			s.obs.fail("agent %s holds %d chats, limit %d", a.id, len(s.mine), a.max)
		}
	case messages.ChatState_CHAT_STATE_CLOSED:
		delete(s.mine, ch.GetChatId())
	}
}

// event: checked for order; a visitor's message is answered half the time.
func (s *agentSession) event(ev *messages.ChatEvent) {
	s.seen.see(s.obs, "agent "+s.a.id, ev)
	if msg := ev.GetMessage(); msg != nil && msg.GetFrom().GetKind() == messages.ParticipantKind_PARTICIPANT_KIND_VISITOR && s.r.IntN(2) == 0 {
		s.send(&messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: ev.GetChatId(), Text: "on it"}}})
	}
}

// checkError: only lost races are expected.
func (s *agentSession) checkError(e *messages.Error) {
	switch e.GetCode() {
	case messages.ErrorCode_ERROR_CODE_CONFLICT, messages.ErrorCode_ERROR_CODE_NOT_FOUND:
		// Lost races (an offer that expired as it was accepted,
		// a chat closed as it was written to) are normal.
	default:
		s.obs.fail("agent %s got %v", s.a.id, e)
	}
}

// randomAction does, after each frame, now and then something on the
// agent's own: it says whether to drop the connection.
func (s *agentSession) randomAction() (drop bool) {
	switch p := s.r.IntN(1000); {
	case p < 3:
		return true
	case p < 10:
		s.send(&messages.Envelope{Body: &messages.Envelope_SetStatus{SetStatus: &messages.SetStatus{Status: messages.AgentStatus_AGENT_STATUS_AWAY}}})
		s.send(&messages.Envelope{Body: &messages.Envelope_SetStatus{SetStatus: &messages.SetStatus{Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}})
	case p < 25:
		for chat := range s.mine {
			s.send(&messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}})
			break
		}
	}
	return false
}
