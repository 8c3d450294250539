package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// simClient is one socket of the randomized test. A pump reads every frame
// it gets, checks it at once, keeps what the client believes, and hands
// answers to the calls waiting for them.
type simClient struct {
	w       *world
	name    string // agent id, or "visitor N"
	visitor bool
	c       *gateway.Client
	login   string
	resume  string // a visitor's resume token
	max     uint32

	mu      sync.Mutex
	ref     uint64
	waiters map[uint64]chan *messages.Envelope
	owns    map[string]bool // chats the agent was told are theirs
	offers  map[string]bool
	invites map[string]bool
	chats   map[string]bool // a visitor's open chats
	seqs    map[string]uint64
	known   map[string]uint64 // the seq a chat summary was current at: older events are history
	active  uint32            // active_chats in the last AgentState
	done    chan struct{}
}

// world is the randomized test's view of everything.
type world struct {
	t      *testing.T
	m      *Main
	dir    string
	r      *rand.Rand
	agents []*simClient
	vis    []*simClient
	chats  []string
	// Acknowledged messages: chat -> seq -> text; a visitor's, by the
	// visitor_seq their ack carries, in vacked.
	acked, vacked map[string]map[uint64]string
	// The last acknowledged seq per chat and sender: acks of one sender
	// must come in order.
	lastAck map[string]uint64

	mu         sync.Mutex
	violations []string
	counts     map[string]int
	ok         map[string]int // commands that took effect, by kind
}

func (w *world) fail(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.violations) < 20 {
		w.violations = append(w.violations, fmt.Sprintf(format, args...))
	}
}

// connect opens the client's socket and says Hello; the Welcome resets
// what it believes.
func (s *simClient) connect() {
	t := s.w.t
	role := "agent"
	h := &messages.Hello{Login: s.login, Password: strings.Split(s.login, "@")[0] + "-random-pw"}
	if s.visitor {
		role, h = "visitor", &messages.Hello{ResumeToken: s.resume}
	}
	c, err := gateway.Dial(ctxT(t), "ws://"+s.w.m.Addr()+"/ws/"+role, gateway.ClientOptions{JSON: s.visitor})
	if err != nil {
		t.Fatal(err)
	}
	wl, err := c.Hello(ctxT(t), h)
	if err != nil {
		t.Fatalf("%s hello: %v", s.name, err)
	}
	s.mu.Lock()
	s.c, s.waiters, s.done = c, map[uint64]chan *messages.Envelope{}, make(chan struct{})
	s.owns, s.offers, s.invites, s.chats, s.seqs = map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]uint64{}
	s.known = map[string]uint64{}
	s.resume = wl.GetResumeToken()
	if s.visitor {
		s.name = "visitor " + wl.GetVisitorId()
	}
	for _, cs := range wl.GetChats() {
		s.summary(cs)
	}
	s.active = wl.GetState().GetActiveChats()
	for _, o := range wl.GetOffers() {
		s.offers[o.GetChatId()] = true
	}
	for _, inv := range wl.GetInvitations() {
		s.invites[inv.GetChatId()] = true
	}
	s.mu.Unlock()
	go s.pump()
}

// summary updates what the client believes from a chat summary. mu held.
func (s *simClient) summary(cs *messages.ChatSummary) {
	id := cs.GetChatId()
	if s.visitor {
		if len(cs.GetWatchers()) > 0 || len(cs.GetInvited()) > 0 {
			s.w.fail("%s was shown staff-only members: %v", s.name, cs)
		}
		s.chats[id] = cs.GetState() != messages.ChatState_CHAT_STATE_CLOSED
		return
	}
	s.owns[id] = cs.GetState() == messages.ChatState_CHAT_STATE_ACTIVE && cs.GetAgentId() == s.name
	if cs.GetState() != messages.ChatState_CHAT_STATE_QUEUED {
		delete(s.offers, id)
	}
	s.known[id] = max(s.known[id], cs.GetLastSeq())
	if cs.GetState() == messages.ChatState_CHAT_STATE_CLOSED || slices.ContainsFunc(append(cs.GetGuests(), cs.GetWatchers()...), func(p *messages.Participant) bool { return p.GetId() == s.name }) {
		delete(s.invites, id)
	}
}

func (s *simClient) pump() {
	defer close(s.done)
	for {
		env, err := s.c.Recv(context.Background())
		if err != nil {
			return
		}
		s.see(env)
		if env.GetRef() != 0 {
			s.mu.Lock()
			ch := s.waiters[env.GetRef()]
			delete(s.waiters, env.GetRef())
			s.mu.Unlock()
			if ch != nil {
				ch <- env
			}
		}
	}
}

// see checks one frame the moment it arrives, and folds it into what the
// client believes.
func (s *simClient) see(env *messages.Envelope) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.visitor {
		s.checkVisitorFrame(env)
	}
	s.fold(env)
	if ev := env.GetEvent(); ev != nil {
		s.seeEvent(ev)
	}
}

// checkVisitorFrame asserts what no visitor frame may carry. mu held.
func (s *simClient) checkVisitorFrame(env *messages.Envelope) {
	if strings.Contains(env.String(), "WHISPER") {
		s.w.fail("%s saw a whisper: %v", s.name, env)
	}
	// No staff id in any field (id, agent_id, previous_agent_id,
	// to_agent_id): visitors get names and per-chat references.
	for _, a := range s.w.agents {
		if strings.Contains(env.String(), `id:"`+a.name+`"`) {
			s.w.fail("%s saw staff id %s: %v", s.name, a.name, env)
		}
	}
}

// fold updates what the client believes from a frame that is not an
// event. mu held.
func (s *simClient) fold(env *messages.Envelope) {
	switch b := env.GetBody().(type) {
	case *messages.Envelope_Chat:
		s.summary(b.Chat)
	case *messages.Envelope_AgentState:
		if st := b.AgentState; st.GetActiveChats() > st.GetMaxChats() {
			s.w.fail("%s is over their limit: %v", s.name, st)
		}
		s.active = b.AgentState.GetActiveChats()
	case *messages.Envelope_Offer:
		s.offers[b.Offer.GetChatId()] = true
	case *messages.Envelope_OfferWithdrawn:
		delete(s.offers, b.OfferWithdrawn.GetChatId())
	case *messages.Envelope_Invitation:
		s.invites[b.Invitation.GetChatId()] = true
	case *messages.Envelope_TypingNotice:
		if s.visitor {
			s.w.fail("%s got a typing notice nobody visible sent", s.name)
		}
	}
}

// seeEvent checks a chat event and folds it into what the client
// believes. mu held.
func (s *simClient) seeEvent(ev *messages.ChatEvent) {
	if s.visitor && (ev.GetInternal() || ev.GetMember().GetInvisible() ||
		ev.GetMember().GetAction() == messages.MemberAction_MEMBER_ACTION_INVITED || ev.GetMember().GetAction() == messages.MemberAction_MEMBER_ACTION_DECLINED) {
		s.w.fail("%s saw a staff-only event: %v", s.name, ev)
	}
	if last := s.seqs[ev.GetChatId()]; ev.GetSeq() <= last || s.visitor && ev.GetSeq() != last+1 {
		// A visitor's numbering has no gaps: internal events leave
		// no trace in it.
		s.w.fail("%s got seq %d of %s after %d", s.name, ev.GetSeq(), ev.GetChatId(), last)
	}
	s.seqs[ev.GetChatId()] = ev.GetSeq()
	if ev.GetSeq() <= s.known[ev.GetChatId()] {
		return // a replay of what the summary already covers
	}
	if a := ev.GetAssigned(); a != nil && !s.visitor && a.GetAgentId() != s.name {
		s.owns[ev.GetChatId()] = false
	}
	if ev.GetClosed() != nil || ev.GetTransferred() != nil || ev.GetRequeued() != nil {
		s.owns[ev.GetChatId()] = false
	}
}

// call sends a command and waits for its answer.
func (s *simClient) call(body *messages.Envelope) (*messages.Envelope, error) {
	ch := make(chan *messages.Envelope, 1)
	s.mu.Lock()
	s.ref++
	body.Ref = s.ref
	s.waiters[body.Ref] = ch
	s.mu.Unlock()
	if err := s.c.SendRaw(ctxT(s.w.t), body); err != nil {
		return nil, err
	}
	select {
	case env := <-ch:
		if e := env.GetError(); e != nil {
			return env, e
		}
		s.w.mu.Lock()
		s.w.ok[strings.TrimPrefix(fmt.Sprintf("%T", body.GetBody()), "*messages.Envelope_")]++
		s.w.mu.Unlock()
		return env, nil
	case <-time.After(15 * time.Second):
		s.w.t.Fatalf("%s: no answer to %v", s.name, body)
		return nil, nil
	}
}

func (s *simClient) pick(set func(*simClient) map[string]bool, r *rand.Rand) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, ok := range set(s) {
		if ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		return ""
	}
	return ids[r.IntN(len(ids))]
}

func (s *simClient) count(set func(*simClient) map[string]bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ok := range set(s) {
		if ok {
			n++
		}
	}
	return n
}

func owns(s *simClient) map[string]bool    { return s.owns }
func offers(s *simClient) map[string]bool  { return s.offers }
func invites(s *simClient) map[string]bool { return s.invites }
func vchats(s *simClient) map[string]bool  { return s.chats }

// chatFacts is a chat as its stored log says.
type chatFacts struct {
	state   messages.ChatState
	owner   string
	members []string // guests and watchers
	n       int
	byCID   map[string]int
}

func (w *world) facts(chat string) chatFacts {
	rec, err := w.m.broker.ChatRecord(chat)
	if err != nil || rec == nil {
		w.t.Fatalf("record of %s: %v %v", chat, rec, err)
	}
	sum := &messages.ChatSummary{}
	f := chatFacts{byCID: map[string]int{}}
	visible := uint64(0)
	for _, ev := range rec.GetTranscript() {
		if !ev.GetInternal() {
			visible++
			if ev.GetVisitorSeq() != visible {
				w.fail("%s #%d has visitor_seq %d, want %d", chat, ev.GetSeq(), ev.GetVisitorSeq(), visible)
			}
		}
		if want, ok := w.vacked[chat][ev.GetVisitorSeq()]; ok && ev.GetVisitorSeq() != 0 && ev.GetMessage().GetText() != want {
			w.fail("acknowledged %s visitor #%d %q is %v in the transcript", chat, ev.GetVisitorSeq(), want, ev)
		}
		foldForTest(sum, ev)
		if m := ev.GetMessage(); m.GetClientMsgId() != "" {
			f.byCID[m.GetFrom().GetId()+"/"+m.GetClientMsgId()]++
		}
		if want, ok := w.acked[chat][ev.GetSeq()]; ok && ev.GetMessage().GetText() != want {
			w.fail("acknowledged %s #%d %q is %v in the transcript", chat, ev.GetSeq(), want, ev)
		}
	}
	for seq := range w.acked[chat] {
		if seq > uint64(len(rec.GetTranscript())) {
			w.fail("acknowledged %s #%d is missing from the transcript", chat, seq)
		}
	}
	for seq := range w.vacked[chat] {
		if seq > visible {
			w.fail("acknowledged %s visitor #%d is missing from the transcript", chat, seq)
		}
	}
	for k, n := range f.byCID {
		if n > 1 {
			w.fail("%s: message %s stored %d times", chat, k, n)
		}
	}
	f.state, f.owner, f.n = sum.GetState(), sum.GetAgentId(), len(rec.GetTranscript())
	for _, p := range append(sum.GetGuests(), sum.GetWatchers()...) {
		f.members = append(f.members, p.GetId())
	}
	return f
}

// check asserts the invariants after a step. The store is the truth; the
// clients' beliefs must come to agree with it (they are told
// asynchronously), within a deadline.
func (w *world) check(step int, what string) {
	w.t.Helper()
	load := map[string]int{}
	truth := map[string]string{}
	for _, chat := range w.chats {
		f := w.facts(chat)
		switch {
		case f.state == messages.ChatState_CHAT_STATE_ACTIVE && f.owner == "":
			w.fail("step %d (%s): active chat %s has no owner", step, what, chat)
		case f.state == messages.ChatState_CHAT_STATE_QUEUED && f.owner != "":
			w.fail("step %d (%s): queued chat %s has owner %s", step, what, chat, f.owner)
		}
		if f.state == messages.ChatState_CHAT_STATE_ACTIVE {
			load[f.owner]++
			truth[chat] = f.owner
		}
	}
	for _, a := range w.agents {
		if load[a.name] > int(a.max) {
			w.fail("step %d (%s): %s owns %d chats, limit %d", step, what, a.name, load[a.name], a.max)
		}
	}
	var disagree []string
	agreed := poll(15*time.Second, func() bool {
		disagree = disagree[:0]
		for _, a := range w.agents {
			a.mu.Lock()
			for chat, mine := range a.owns {
				if mine && truth[chat] != a.name {
					disagree = append(disagree, fmt.Sprintf("%s believes it owns %s (owner %q)", a.name, chat, truth[chat]))
				}
			}
			for chat, owner := range truth {
				if owner == a.name && !a.owns[chat] {
					disagree = append(disagree, fmt.Sprintf("%s does not know it owns %s", a.name, chat))
				}
			}
			if int(a.active) != load[a.name] {
				disagree = append(disagree, fmt.Sprintf("%s's state counts %d chats, it owns %d", a.name, a.active, load[a.name]))
			}
			a.mu.Unlock()
		}
		return len(disagree) == 0
	})
	if !agreed {
		w.fail("step %d (%s): %v", step, what, disagree)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.violations) > 0 {
		w.t.Fatalf("step %d (%s): %d violations:\n%s", step, what, len(w.violations), strings.Join(w.violations, "\n"))
	}
}

// foldForTest folds an event like the broker, but written here, so the
// test does not check the broker against itself.
func foldForTest(s *messages.ChatSummary, ev *messages.ChatEvent) {
	drop := func(id string) {
		keep := func(ps []*messages.Participant) []*messages.Participant {
			return slices.DeleteFunc(ps, func(p *messages.Participant) bool { return p.GetId() == id })
		}
		s.Guests, s.Watchers = keep(s.Guests), keep(s.Watchers)
	}
	switch k := ev.GetKind().(type) {
	case *messages.ChatEvent_Created:
		s.State = messages.ChatState_CHAT_STATE_QUEUED
	case *messages.ChatEvent_Assigned:
		s.State, s.AgentId = messages.ChatState_CHAT_STATE_ACTIVE, k.Assigned.GetAgentId()
		drop(s.AgentId)
	case *messages.ChatEvent_Requeued, *messages.ChatEvent_Transferred:
		s.State, s.AgentId = messages.ChatState_CHAT_STATE_QUEUED, ""
	case *messages.ChatEvent_Member:
		switch who := k.Member.GetWho(); k.Member.GetAction() {
		case messages.MemberAction_MEMBER_ACTION_JOINED:
			drop(who.GetId())
			if k.Member.GetInvisible() {
				s.Watchers = append(s.Watchers, who)
			} else {
				s.Guests = append(s.Guests, who)
			}
		case messages.MemberAction_MEMBER_ACTION_LEFT:
			drop(who.GetId())
		}
	case *messages.ChatEvent_Closed:
		s.State = messages.ChatState_CHAT_STATE_CLOSED
	}
}

// TestRandomWorkingTogether runs random sequences of every action of this
// issue (requests, messages, offers accepted and declined, transfers to
// colleagues and departments, invitations, visible and invisible joins,
// whispers, leaving, take-overs, closing, status changes by agents and
// managers, queues going offline and online, and a restart) over many
// chats and agents, through real websockets and storage. After every step
// it asserts: every open chat has exactly one owner or is queued, and the
// agents agree; no agent is over their limit; every acknowledged message
// is in the transcript once, in order. On every frame: no visitor frame
// carries a whisper, an internal event or an invisible participant, and
// sequences only go forward. SWITCHBOARD_SEED replays a run.
func TestRandomWorkingTogether(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SWITCHBOARD_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	steps := 1000
	if testing.Short() {
		steps = 200
	}
	t.Logf("seed %d (SWITCHBOARD_SEED=%d replays it)", seed, seed)
	w := &world{t: t, dir: t.TempDir(), r: rand.New(rand.NewPCG(seed, 7)), acked: map[string]map[uint64]string{},
		vacked: map[string]map[uint64]string{}, lastAck: map[string]uint64{}, counts: map[string]int{}, ok: map[string]int{}}
	w.m = startBroker(t, w.dir)
	addr := w.m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/roles/lead", map[string]any{"name": "Lead", "permissions": []string{
		"live_chat", "chats.view", "chats.accept", "chats.forward", "chats.invite", "chats.join", "chats.join_invisible",
		"chats.take_over", "supervise", "queues.manage"}})
	deps := [][]string{{"sales"}, {"sales"}, {"support"}, {"support"}, {"sales", "support"}, {"sales", "support"}}
	for i, d := range deps {
		id := fmt.Sprintf("r%d", i+1)
		max := uint32(2 + i%3)
		mustAdmin(t, addr, "PUT", "/admin/agents/"+id, map[string]any{"login": id + "@demo", "password": id + "-random-pw", "role": "lead",
			"departments": d, "languages": []string{"en"}, "chat_agent": true, "max_chats": max})
		w.agents = append(w.agents, &simClient{w: w, name: id, login: id + "@demo", max: max})
	}
	mustAdmin(t, addr, "PUT", "/admin/departments/sales", map[string]any{"name": "Sales", "chat_enabled": true, "supervisors": []string{"r5"}, "managers": []string{"r6"}})
	mustAdmin(t, addr, "PUT", "/admin/departments/support", map[string]any{"name": "Support", "chat_enabled": true, "supervisors": []string{"r6"}, "managers": []string{"r5"}})
	for _, a := range w.agents {
		a.connect()
		if _, err := a.call(&messages.Envelope{Body: &messages.Envelope_SetStatus{SetStatus: &messages.SetStatus{Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}}); err != nil {
			t.Fatal(err)
		}
	}
	restartAt := steps / 2
	for step := 1; step <= steps; step++ {
		what := w.step(step == restartAt)
		w.counts[what]++
		w.check(step, what)
	}
	t.Logf("%d steps over %d chats, %d agents, %d visitors: %v", steps, len(w.chats), len(w.agents), len(w.vis), w.counts)
	t.Logf("commands that took effect: %v", w.ok)
}

// step does one random action and names it.
func (w *world) step(restart bool) string {
	if restart {
		w.restart()
		return "restart"
	}
	s := w.newStep()
	n := w.r.IntN(100)
	for _, k := range stepKinds[:len(stepKinds)-1] {
		if n < k.below {
			return k.do(s)
		}
	}
	return stepKinds[len(stepKinds)-1].do(s)
}

// stepKinds are the random actions: r.IntN(100) below a bound picks the
// first kind with that bound; the last takes the rest. The bounds and
// their order fix the random sequence a seed replays: keep them.
var stepKinds = []struct {
	below int
	do    func(*randomStep) string
}{
	{12, (*randomStep).request},
	{27, (*randomStep).message},
	{40, (*randomStep).answerOffer},
	{48, (*randomStep).transfer},
	{54, (*randomStep).invite},
	{60, (*randomStep).answerInvitation},
	{68, (*randomStep).join},
	{72, (*randomStep).leave},
	{75, (*randomStep).whisperAsMember},
	{85, (*randomStep).takeOver},
	{91, (*randomStep).closeChat},
	{94, (*randomStep).status},
	{100, (*randomStep).queueOnline},
}

// randomStep is what one step chooses among.
type randomStep struct {
	w     *world
	r     *rand.Rand
	agent *simClient // a random agent
	owner *simClient // mostly an agent who holds a chat, else agent
	owned []string   // one chat of each agent who holds any
}

func (w *world) newStep() *randomStep {
	r := w.r
	s := &randomStep{w: w, r: r, agent: w.agents[r.IntN(len(w.agents))]}
	// Most actions are about chats someone handles: pick those more often.
	var owners []*simClient
	for _, a := range w.agents {
		if chat := a.pick(owns, r); chat != "" {
			s.owned, owners = append(s.owned, chat), append(owners, a)
		}
	}
	s.owner = s.agent
	if len(owners) > 0 && r.IntN(4) > 0 {
		s.owner = owners[r.IntN(len(owners))]
	}
	return s
}

// anyChat is mostly a chat someone handles, else any chat, else one that
// does not exist.
func (s *randomStep) anyChat() string {
	r, w := s.r, s.w
	if len(s.owned) > 0 && r.IntN(3) > 0 {
		return s.owned[r.IntN(len(s.owned))]
	}
	if len(w.chats) == 0 {
		return "c0000000000000000000000000000"
	}
	return w.chats[r.IntN(len(w.chats))]
}

// chatCall sends a staff command about a chat; a refusal must change
// nothing in it.
func (s *randomStep) chatCall(c *simClient, chat string, env *messages.Envelope) error {
	w := s.w
	before := -1
	if slices.Contains(w.chats, chat) {
		before = w.facts(chat).n
	}
	_, err := c.call(env)
	if err != nil && before >= 0 {
		if after := w.facts(chat).n; after != before {
			w.fail("a refused %v changed chat %s (%d -> %d events)", env, chat, before, after)
		}
	}
	return err
}

// request: a visitor asks for a chat.
func (s *randomStep) request() string {
	w, r := s.w, s.r
	var v *simClient
	for _, x := range w.vis {
		if x.pick(vchats, r) == "" {
			v = x
			break
		}
	}
	if v == nil {
		if len(w.vis) >= 16 {
			return "request (none free)"
		}
		v = &simClient{w: w, visitor: true}
		v.connect()
		w.vis = append(w.vis, v)
	}
	env, err := v.call(&messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{
		Department: []string{"sales", "support"}[r.IntN(2)], Language: "en", Name: "V"}}})
	if err == nil && env.GetAck().GetChatId() != "" {
		id := env.GetAck().GetChatId()
		w.chats = append(w.chats, id)
		eventually(w.t, "the visitor knows its chat", func() bool { return v.pick(vchats, r) == id })
	}
	return "request"
}

// message: a message, from the visitor or an agent in the chat.
func (s *randomStep) message() string {
	w, r := s.w, s.r
	var c *simClient
	var chat string
	if r.IntN(2) == 0 && len(w.vis) > 0 {
		c = w.vis[r.IntN(len(w.vis))]
		chat = c.pick(vchats, r)
	} else {
		c, chat = s.owner, s.owner.pick(owns, r)
	}
	if chat == "" {
		return "message (none)"
	}
	whisper := !c.visitor && r.IntN(3) == 0
	text := fmt.Sprintf("message %d from %s", r.Uint32(), c.name)
	if whisper {
		text = "WHISPER " + text
	}
	cid := fmt.Sprintf("m%d", r.Uint64())
	env, err := c.call(&messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, ClientMsgId: cid, Text: text, Whisper: whisper}}})
	if err == nil {
		w.noteAck(c, chat, env.GetAck().GetSeq(), text)
	}
	if whisper {
		return "whisper"
	}
	return "message"
}

// noteAck records an acknowledged message and checks that one sender's
// acks come in order.
func (w *world) noteAck(c *simClient, chat string, seq uint64, text string) {
	acked := w.acked
	if c.visitor {
		acked = w.vacked
	}
	if acked[chat] == nil {
		acked[chat] = map[uint64]string{}
	}
	acked[chat][seq] = text
	key := chat + "/" + c.name
	if seq <= w.lastAck[key] {
		w.fail("%s's message acknowledged as #%d after #%d", c.name, seq, w.lastAck[key])
	}
	w.lastAck[key] = seq
}

// answerOffer: accept or decline an offer.
func (s *randomStep) answerOffer() string {
	w, r, agent := s.w, s.r, s.agent
	chat := agent.pick(offers, r)
	if chat == "" {
		return "offer (none)"
	}
	agent.mu.Lock()
	delete(agent.offers, chat) // answered either way
	agent.mu.Unlock()
	if r.IntN(4) == 0 {
		agent.call(&messages.Envelope{Body: &messages.Envelope_DeclineOffer{DeclineOffer: &messages.DeclineOffer{ChatId: chat}}})
		return "decline"
	}
	if _, err := agent.call(&messages.Envelope{Body: &messages.Envelope_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: chat}}}); err == nil {
		eventually(w.t, "the accepted chat is the agent's", func() bool { return agent.pick(owns, r) != "" })
	}
	return "accept"
}

// transfer: the owner transfers a chat to a colleague or a department.
func (s *randomStep) transfer() string {
	w, r, agent := s.w, s.r, s.owner
	chat := agent.pick(owns, r)
	if chat == "" {
		return "transfer (none)"
	}
	t := &messages.TransferChat{ChatId: chat}
	if r.IntN(2) == 0 {
		t.ToAgent = w.agents[r.IntN(len(w.agents))].name
	} else {
		t.ToDepartment = []string{"sales", "support", "nowhere"}[r.IntN(3)]
	}
	s.chatCall(agent, chat, &messages.Envelope{Body: &messages.Envelope_TransferChat{TransferChat: t}})
	return "transfer"
}

// invite: the owner invites a colleague into one of their chats, or any.
func (s *randomStep) invite() string {
	w, r, agent := s.w, s.r, s.owner
	chat := agent.pick(owns, r)
	if chat == "" {
		chat = s.anyChat()
	}
	s.chatCall(agent, chat, &messages.Envelope{Body: &messages.Envelope_InviteAgent{InviteAgent: &messages.InviteAgent{ChatId: chat, AgentId: w.agents[r.IntN(len(w.agents))].name}}})
	return "invite"
}

// answerInvitation: join or decline an invitation.
func (s *randomStep) answerInvitation() string {
	r, agent := s.r, s.agent
	chat := agent.pick(invites, r)
	if chat == "" {
		return "invitation (none)"
	}
	if r.IntN(3) == 0 {
		s.chatCall(agent, chat, &messages.Envelope{Body: &messages.Envelope_DeclineInvite{DeclineInvite: &messages.DeclineInvite{ChatId: chat}}})
		return "decline invitation"
	}
	s.chatCall(agent, chat, &messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat}}})
	return "join invited"
}

// join: join any chat, visibly or not.
func (s *randomStep) join() string {
	chat := s.anyChat()
	s.chatCall(s.agent, chat, &messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat, Invisible: s.r.IntN(2) == 0}}})
	return "join"
}

// leave: leave any chat.
func (s *randomStep) leave() string {
	chat := s.anyChat()
	s.chatCall(s.agent, chat, &messages.Envelope{Body: &messages.Envelope_LeaveChat{LeaveChat: &messages.LeaveChat{ChatId: chat}}})
	return "leave"
}

// whisperAsMember: whisper or write as a member of any chat.
func (s *randomStep) whisperAsMember() string {
	w, agent := s.w, s.agent
	chat := s.anyChat()
	text := fmt.Sprintf("WHISPER %d from %s", s.r.Uint32(), agent.name)
	env, err := agent.call(&messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, Text: text, Whisper: true}}})
	if err == nil {
		if w.acked[chat] == nil {
			w.acked[chat] = map[uint64]string{}
		}
		w.acked[chat][env.GetAck().GetSeq()] = text
	}
	return "whisper as member"
}

// takeOver: take over, mostly by someone with room, from a colleague.
func (s *randomStep) takeOver() string {
	w, r, agent := s.w, s.r, s.agent
	for _, a := range w.agents {
		if a.count(owns) < int(a.max) && r.IntN(2) == 0 {
			agent = a
		}
	}
	chat := s.anyChat()
	if _, err := agent.call(&messages.Envelope{Body: &messages.Envelope_TakeOver{TakeOver: &messages.TakeOver{ChatId: chat}}}); err == nil {
		eventually(w.t, "the taken chat is the agent's", func() bool {
			agent.mu.Lock()
			defer agent.mu.Unlock()
			return agent.owns[chat]
		})
	}
	return "take over"
}

// closeChat: a visitor or an owner closes a chat.
func (s *randomStep) closeChat() string {
	w, r := s.w, s.r
	if r.IntN(2) == 0 && len(w.vis) > 0 {
		v := w.vis[r.IntN(len(w.vis))]
		if chat := v.pick(vchats, r); chat != "" {
			v.call(&messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}})
			eventually(w.t, "the visitor's chat closed", func() bool { return v.pick(vchats, r) != chat })
		}
		return "close by visitor"
	}
	if chat := s.owner.pick(owns, r); chat != "" {
		s.owner.call(&messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}})
	}
	return "close by agent"
}

// status: a status change, by the agent or a manager.
func (s *randomStep) status() string {
	w, r, agent := s.w, s.r, s.agent
	st := []messages.AgentStatus{messages.AgentStatus_AGENT_STATUS_AVAILABLE, messages.AgentStatus_AGENT_STATUS_AVAILABLE, messages.AgentStatus_AGENT_STATUS_AWAY}[r.IntN(3)]
	if r.IntN(2) == 0 {
		agent.call(&messages.Envelope{Body: &messages.Envelope_SetStatus{SetStatus: &messages.SetStatus{Status: st}}})
		return "status"
	}
	agent.call(&messages.Envelope{Body: &messages.Envelope_SetAgentStatus{SetAgentStatus: &messages.SetAgentStatus{AgentId: w.agents[r.IntN(len(w.agents))].name, Status: st}}})
	return "status by manager"
}

// queueOnline: a queue goes offline or online.
func (s *randomStep) queueOnline() string {
	r := s.r
	s.agent.call(&messages.Envelope{Body: &messages.Envelope_SetQueueOnline{SetQueueOnline: &messages.SetQueueOnline{
		Department: []string{"sales", "support"}[r.IntN(2)], Online: r.IntN(3) > 0}}})
	return "queue online/offline"
}

// restart stops the broker, starts it on the same data, and reconnects
// every client with its token or login.
func (w *world) restart() {
	if err := w.m.Close(); err != nil {
		w.t.Fatal(err)
	}
	for _, c := range append(slices.Clone(w.agents), w.vis...) {
		<-c.done
		c.c.CloseNow()
	}
	w.m = startBroker(w.t, w.dir)
	for _, c := range append(slices.Clone(w.agents), w.vis...) {
		c.connect()
	}
}
