package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// The simulated clients. Each visitor, agent or echo connection is a peer;
// each chat it is in is a side. A side sends numbered messages ("<ns> <n>
// <padding>", ns being the send time since the run began) and checks what
// arrives from the other side: numbers must come exactly once, in order,
// and event sequences must have no gap and no repeat.

type peerKind int

const (
	kindVisitor peerKind = iota
	kindAgent
	kindEcho
)

// Sending modes of the streams that belong to message phases.
const (
	modeStop int32 = iota
	modeClosed
	modeOpen
)

// sim is the shared state of the simulated clients.
type sim struct {
	wsBase   string // ws://host:port
	msgBytes int
	epoch    time.Time
	// bases are a cluster's nodes (ws://host:port each): peers are spread
	// over them and fail over from one to the next; nil with one broker.
	bases  []string
	nextAt atomic.Uint32
	// keepAcks: record every acknowledged message's sequence (outside
	// conversations), for the transcript check after failovers.
	keepAcks bool
	// killedAt is when the failover cycle's SIGKILL went out (since
	// epoch; 0 outside one): the first acknowledgement per chat on a
	// connection made after it is recorded.
	killedAt atomic.Int64

	mode       atomic.Int32
	convLimit  atomic.Int64 // messages each way in chats assigned from now on; 0: streams wait for a phase
	convWindow int
	window     int
	msgHist    atomic.Pointer[Hist]
	assignHist atomic.Pointer[Hist]
	lag        Hist                       // open loop: how late paced sends went out
	crashing   atomic.Bool                // the broker is being killed: failed sends are expected
	routing    atomic.Pointer[routingMix] // the routing phase's agents (routing.go); nil: they accept every offer

	led   ledger
	chats sync.Map // chat id -> *chatStat

	sent, acked, delivered       atomic.Uint64
	started, assigned, completed atomic.Uint64
	refused, errs                atomic.Uint64
	lastErr                      atomic.Value // string
	phase                        atomic.Value // string: the runner's phase, for notes
}

func (s *sim) phaseName() string {
	p, _ := s.phase.Load().(string)
	return p
}

func newSim(wsBase string, msgBytes, window int) *sim {
	s := &sim{wsBase: wsBase, msgBytes: msgBytes, window: window, convWindow: 1, epoch: time.Now()}
	s.msgHist.Store(&Hist{})
	s.assignHist.Store(&Hist{})
	return s
}

func (s *sim) fail(format string, args ...any) {
	s.errs.Add(1)
	s.lastErr.Store(fmt.Sprintf(format, args...))
}

// ledger holds what the clients saw, to check the routing invariants.
type ledger struct {
	mu      sync.Mutex
	owner   map[string]string
	moves   map[string]bool // chats that may change owner (transferred)
	overCap atomic.Uint64
	double  atomic.Uint64
	dup     atomic.Uint64
	ooo     atomic.Uint64
	// stateMismatch: an agent whose load or status after a restart did not
	// match the chats its client holds.
	stateMismatch atomic.Uint64
	notes         []string // the first duplicates, under mu
}

// duplicate counts a duplicate and keeps the first few, for the report.
func (l *ledger) duplicate(what string) {
	l.dup.Add(1)
	l.note(what)
}

// note keeps what broke, among the first few.
func (l *ledger) note(what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.notes) < 10 {
		l.notes = append(l.notes, what)
	}
}

// owned records that a client saw agent own chat. A different owner for
// the same chat, as seen by anyone, is a double assignment.
// transferable says chat may change owner (the routing phase transfers
// some chats): its owners are not compared.
func (l *ledger) transferable(chat string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.moves == nil {
		l.moves = map[string]bool{}
	}
	l.moves[chat] = true
}

func (l *ledger) owned(chat, agent string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.owner == nil {
		l.owner = map[string]string{}
	}
	if o, ok := l.owner[chat]; ok && o != agent && !l.moves[chat] {
		l.double.Add(1)
		return
	}
	l.owner[chat] = agent
}

// chatStat counts one chat's messages in both directions, for the lost
// message check: every acknowledged message must reach the other side.
type chatStat struct {
	ackedV, ackedA atomic.Uint64 // acknowledged to the visitor / agent
	gotV, gotA     atomic.Uint64 // received by the visitor / agent
	// firstAck: the chat's first acknowledgement after a failover's kill
	// (since the sim's epoch; 0: none yet).
	firstAck atomic.Int64

	mu   sync.Mutex
	acks []ackRec // with sim.keepAcks
}

// ackRec is one acknowledged message: who sent it, its number (its
// client message id) and the sequence the broker gave it.
type ackRec struct {
	visitor bool
	n, seq  uint64
}

func (st *chatStat) keep(a ackRec) {
	st.mu.Lock()
	st.acks = append(st.acks, a)
	st.mu.Unlock()
}

func (s *sim) stat(chat string) *chatStat {
	if v, ok := s.chats.Load(chat); ok {
		return v.(*chatStat)
	}
	v, _ := s.chats.LoadOrStore(chat, &chatStat{})
	return v.(*chatStat)
}

// lost returns how many acknowledged messages have not (yet) arrived.
func (s *sim) lost() uint64 {
	var n uint64
	s.chats.Range(func(_, v any) bool {
		st := v.(*chatStat)
		if a, g := st.ackedV.Load(), st.gotA.Load(); a > g {
			n += a - g
		}
		if a, g := st.ackedA.Load(), st.gotV.Load(); a > g {
			n += a - g
		}
		return true
	})
	return n
}

// peer is one simulated connection.
type peer struct {
	s     *sim
	kind  peerKind
	id    string // agent id or visitor id
	max   int    // agent: chat limit
	c     *wsc   // replaced, under mu, when the peer reconnects
	path  string // /ws/visitor or /ws/agent
	token string // resume token (visitor) or session token (agent)
	// at is the index in sim.bases of the node it dials (a cluster run);
	// only the goroutine that (re)connects the peer moves it.
	at int
	// greeting: the peer said Hello and waits for its Welcome; an error
	// without a ref is the Hello's answer.
	greeting atomic.Bool
	// fresh (under mu): the connection was made after a failover's kill.
	fresh bool

	mu      sync.Mutex
	chats   map[string]*side
	calls   map[uint64]chan *messages.Envelope
	ref     uint64
	reqAt   time.Time // visitor: when the current RequestChat went out
	welcome chan *messages.Envelope
	notify  chan string // visitor: "done" or "closed" for its chat
}

// side is a peer's part in one chat.
type side struct {
	chat      string
	stat      *chatStat
	assigned  bool
	closed    bool
	conv      bool   // a conversation of limit messages each way, then close
	limit     uint64 // conv: messages to send
	window    int
	streaming bool // a message phase has started this side
	next      uint64
	acked     uint64
	lastSeq   uint64
	lastN     uint64
	got       uint64
	reqAt     time.Time
	doneSent  bool
}

func (s *sim) newPeer(kind peerKind) *peer {
	return &peer{s: s, kind: kind, chats: map[string]*side{}, calls: map[uint64]chan *messages.Envelope{},
		welcome: make(chan *messages.Envelope, 1), notify: make(chan string, 4), at: int(s.nextAt.Add(1) - 1)}
}

// connect dials path and says hello.
func (p *peer) connect(ctx context.Context, path string, hello *messages.Hello) error {
	p.path = path
	_, err := p.dial(ctx, hello)
	return err
}

// dial opens the peer's socket (again) and says hello; it returns the
// Welcome (nil for the echo).
func (p *peer) dial(ctx context.Context, hello *messages.Hello) (*messages.Welcome, error) {
	c, err := dialWS(ctx, p.base()+p.path, p.on)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.c = c
	p.mu.Unlock()
	if p.kind == kindEcho {
		return nil, nil
	}
	select { // a Welcome left by an earlier try that gave up waiting
	case <-p.welcome:
	default:
	}
	p.greeting.Store(true)
	defer p.greeting.Store(false)
	if err := c.send(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: hello}}); err != nil {
		return nil, err
	}
	select {
	case env := <-p.welcome:
		if e := env.GetError(); e != nil {
			return nil, e
		}
		w := env.GetWelcome()
		p.id, p.token = w.GetVisitorId(), w.GetResumeToken()
		if p.kind == kindAgent {
			p.id, p.token = w.GetAgentId(), w.GetSessionToken()
			p.max = int(w.GetState().GetMaxChats())
		}
		return w, nil
	case <-c.done:
		return nil, fmt.Errorf("closed before Welcome: %v", c.err)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// base is the ws://host:port the peer dials: the broker, or in a cluster
// run the node it is at.
func (p *peer) base() string {
	if len(p.s.bases) == 0 {
		return p.s.wsBase
	}
	return p.s.bases[p.at%len(p.s.bases)]
}

// reconnect dials the broker again after it restarted, resuming every
// chat from the last sequence the peer saw, and then sends again what was
// never acknowledged, under the same client message ids (the broker
// stores each once).
func (p *peer) reconnect(ctx context.Context) (*messages.Welcome, error) {
	hello := &messages.Hello{Cursors: map[string]uint64{}}
	p.mu.Lock()
	for id, sd := range p.chats {
		if !sd.closed {
			hello.Cursors[id] = sd.lastSeq
		}
	}
	p.mu.Unlock()
	if p.kind == kindAgent {
		hello.SessionToken = p.token
	} else {
		hello.ResumeToken = p.token
	}
	w, err := p.dial(ctx, hello)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, sd := range p.chats {
		if sd.closed || !sd.streaming {
			continue
		}
		p.s.sent.Add(-(sd.next - sd.acked)) // they are sent again below
		sd.next = sd.acked
		if p.s.mode.Load() == modeClosed {
			p.fillLocked(sd)
		}
	}
	return w, nil
}

// call sends env with a fresh ref and waits for its answer.
func (p *peer) call(ctx context.Context, env *messages.Envelope) (*messages.Envelope, error) {
	ch := make(chan *messages.Envelope, 1)
	p.mu.Lock()
	p.ref++
	env.Ref = p.ref
	p.calls[env.Ref] = ch
	if env.GetRequestChat() != nil {
		p.reqAt = time.Now()
	}
	c := p.c
	err := c.send(env)
	p.mu.Unlock()
	if err != nil {
		return nil, err
	}
	t := time.NewTimer(60 * time.Second)
	defer t.Stop()
	select {
	case got := <-ch:
		if e := got.GetError(); e != nil {
			return got, e
		}
		return got, nil
	case <-c.done:
		return nil, fmt.Errorf("connection closed: %v", c.err)
	case <-t.C:
		return nil, errors.New("no answer within 60 s")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// reply hands a ref'd envelope to its caller; it reports whether one waited.
func (p *peer) reply(env *messages.Envelope) bool {
	p.mu.Lock()
	ch, ok := p.calls[env.GetRef()]
	delete(p.calls, env.GetRef())
	p.mu.Unlock()
	if ok {
		ch <- env
	}
	return ok
}

// on runs on the peer's reading goroutine for every envelope.
func (p *peer) on(env *messages.Envelope) {
	switch b := env.Body.(type) {
	case *messages.Envelope_Welcome:
		p.welcome <- env
	case *messages.Envelope_Ack:
		if b.Ack.GetClientMsgId() != "" { // messages are never sent with call
			p.acked(b.Ack)
			return
		}
		p.reply(env)
	case *messages.Envelope_ChatRefused:
		p.reply(env)
	case *messages.Envelope_Error:
		if env.GetRef() == 0 && (p.id == "" || p.greeting.Load()) && p.kind != kindEcho {
			select {
			case p.welcome <- env:
			default:
			}
			return
		}
		if p.reply(env) {
			return
		}
		p.s.fail("%s %s: server error: %v", p.kindName(), p.id, b.Error)
	case *messages.Envelope_Event:
		p.event(b.Event)
	case *messages.Envelope_Offer:
		if mix := p.s.routing.Load(); mix != nil {
			p.mu.Lock()
			p.routingOffer(mix, b.Offer)
			p.mu.Unlock()
			return
		}
		p.mu.Lock()
		p.ref++
		ref := p.ref
		// The answer lands in this buffered channel and is dropped: an
		// offer may be gone by the time it is accepted (withdrawn,
		// expired), which is not an error.
		p.calls[ref] = make(chan *messages.Envelope, 1)
		err := p.c.send(&messages.Envelope{Ref: ref, Body: &messages.Envelope_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: b.Offer.GetChatId()}}})
		p.mu.Unlock()
		if err != nil {
			p.s.fail("accept: %v", err)
		}
	case *messages.Envelope_AgentState:
		if st := b.AgentState; st.GetActiveChats() > st.GetMaxChats() {
			p.s.led.overCap.Add(1)
		}
	case *messages.Envelope_SendMessage:
		p.echoed(b.SendMessage)
	}
}

func (p *peer) kindName() string {
	return [...]string{"visitor", "agent", "echo"}[p.kind]
}

func (p *peer) sideLocked(chat string) *side {
	sd := p.chats[chat]
	if sd == nil {
		sd = &side{chat: chat, stat: p.s.stat(chat), reqAt: p.reqAt}
		p.chats[chat] = sd
	}
	return sd
}

func (p *peer) event(ev *messages.ChatEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sd := p.sideLocked(ev.GetChatId())
	if sd.lastSeq != 0 {
		switch seq := ev.GetSeq(); {
		case seq <= sd.lastSeq:
			p.s.led.duplicate(fmt.Sprintf("%s %s: event %d of %s after %d (%s)", p.kindName(), p.id, seq, sd.chat, sd.lastSeq, p.s.phaseName()))
			return
		case seq > sd.lastSeq+1:
			p.s.led.ooo.Add(1)
		}
	}
	sd.lastSeq = ev.GetSeq()
	switch k := ev.Kind.(type) {
	case *messages.ChatEvent_Message:
		from := k.Message.GetFrom().GetKind()
		mine := from == messages.ParticipantKind_PARTICIPANT_KIND_VISITOR && p.kind == kindVisitor ||
			from == messages.ParticipantKind_PARTICIPANT_KIND_AGENT && p.kind == kindAgent
		if !mine {
			p.receivedLocked(sd, k.Message.GetText())
		}
	case *messages.ChatEvent_Assigned:
		// By name: a visitor sees the agent's name and a per-chat
		// reference, never the staff id (bench agents' names are unique).
		p.s.led.owned(sd.chat, k.Assigned.GetAgentName())
		agent := k.Assigned.GetAgentId()
		if p.kind == kindAgent && agent != p.id {
			return
		}
		if mix := p.s.routing.Load(); mix != nil && p.kind == kindAgent {
			p.routingAssigned(mix, sd)
		}
		if sd.assigned {
			return
		}
		sd.assigned = true
		if p.kind == kindVisitor {
			p.s.assigned.Add(1)
			p.s.assignHist.Load().Record(time.Since(sd.reqAt))
		} else if n := p.activeLocked(); n > p.max {
			p.s.led.overCap.Add(1)
		}
		if limit := p.s.convLimit.Load(); limit > 0 {
			sd.conv, sd.limit, sd.window, sd.streaming = true, uint64(limit), p.s.convWindow, true
			p.fillLocked(sd)
		}
	case *messages.ChatEvent_Closed:
		sd.closed = true
		if p.kind == kindVisitor {
			p.notifyLocked(sd, "closed")
		} else {
			delete(p.chats, sd.chat)
		}
	}
}

func (p *peer) activeLocked() int {
	n := 0
	for _, sd := range p.chats {
		if sd.assigned && !sd.closed {
			n++
		}
	}
	return n
}

// notifyLocked tells the visitor's goroutine that its chat is "done"
// (every message exchanged) or "closed"; each at most once per chat, so
// the buffered channel never blocks.
func (p *peer) notifyLocked(sd *side, what string) {
	if what == "done" {
		if sd.doneSent {
			return
		}
		sd.doneSent = true
	}
	p.notify <- what
}

// receivedLocked checks one message from the other side.
func (p *peer) receivedLocked(sd *side, text string) {
	ts, n, ok := parseText(text)
	if !ok {
		p.s.fail("unexpected message text %q", text)
		return
	}
	switch {
	case n <= sd.lastN:
		p.s.led.duplicate(fmt.Sprintf("%s %s: message %d of %s after %d (%s)", p.kindName(), p.id, n, sd.chat, sd.lastN, p.s.phaseName()))
		return
	case n > sd.lastN+1:
		p.s.led.ooo.Add(1)
	}
	sd.lastN = n
	sd.got++
	if p.kind == kindVisitor {
		sd.stat.gotV.Add(1)
	} else {
		sd.stat.gotA.Add(1)
	}
	p.s.delivered.Add(1)
	p.s.msgHist.Load().Record(time.Since(p.s.epoch) - ts)
	p.checkDoneLocked(sd)
}

func (p *peer) checkDoneLocked(sd *side) {
	if sd.conv && p.kind == kindVisitor && sd.acked >= sd.limit && sd.got >= sd.limit {
		p.notifyLocked(sd, "done")
	}
}

func (p *peer) acked(ack *messages.Ack) {
	p.s.acked.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	chat := ack.GetChatId()
	sd := p.chats[chat]
	if sd == nil {
		p.s.fail("ack for a chat the client is not in: %s", chat)
		return
	}
	sd.acked++
	if p.kind == kindVisitor {
		sd.stat.ackedV.Add(1)
	} else {
		sd.stat.ackedA.Add(1)
	}
	if p.s.keepAcks && !sd.conv {
		n, _ := strconv.ParseUint(ack.GetClientMsgId(), 10, 64)
		sd.stat.keep(ackRec{visitor: p.kind == kindVisitor, n: n, seq: ack.GetSeq()})
	}
	if p.fresh && p.s.killedAt.Load() != 0 {
		sd.stat.firstAck.CompareAndSwap(0, int64(time.Since(p.s.epoch)))
	}
	if sd.conv {
		p.fillLocked(sd)
		p.checkDoneLocked(sd)
	} else if p.s.mode.Load() == modeClosed {
		p.fillLocked(sd)
	}
}

// echoed takes a message back from the echo server: it is both the
// acknowledgement and the delivery.
func (p *peer) echoed(m *messages.SendMessage) {
	p.s.acked.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	sd := p.chats[m.GetChatId()]
	if sd == nil {
		p.s.fail("echo for an unknown stream %s", m.GetChatId())
		return
	}
	sd.acked++
	p.receivedLocked(sd, m.GetText())
	if p.s.mode.Load() == modeClosed {
		p.fillLocked(sd)
	}
}

// fillLocked sends until the side's window is full.
func (p *peer) fillLocked(sd *side) {
	for sd.streaming && !sd.closed && int(sd.next-sd.acked) < sd.window && (!sd.conv || sd.next < sd.limit) {
		p.sendLocked(sd, time.Since(p.s.epoch))
	}
}

// sendLocked sends the side's next message, stamped with at (the time it
// was due, for paced sends).
func (p *peer) sendLocked(sd *side, at time.Duration) {
	sd.next++
	env := &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{
		ChatId: sd.chat, ClientMsgId: strconv.FormatUint(sd.next, 10), Text: p.s.text(at, sd.next)}}}
	if p.kind != kindEcho {
		p.ref++
		env.Ref = p.ref
	}
	p.s.sent.Add(1)
	if err := p.c.send(env); err != nil && !p.s.crashing.Load() {
		p.s.fail("send: %v", err)
	}
}

// paced sends one message that was due at "due" (open loop), whatever the
// window, unless the side has fallen hopelessly behind. The message is
// stamped with the moment it is actually sent: the pacer wakes about once
// a millisecond (Go's timers are no finer here), and stamping the due time
// would add that granularity to every latency. How late the pacer was is
// recorded apart, in s.lag, and reported; a load generator that falls
// behind shows there.
func (p *peer) paced(sd *side, due time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if sd.closed || sd.next-sd.acked > 100000 {
		return
	}
	now := time.Since(p.s.epoch)
	p.s.lag.Record(now - due)
	p.sendLocked(sd, now)
}

// start turns streaming on for the message-phase sides and, in closed
// loop, fills their windows.
func (p *peer) start(window int) []*side {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*side
	for _, sd := range p.chats {
		if sd.conv || sd.closed || (!sd.assigned && p.kind != kindEcho) {
			continue
		}
		sd.streaming, sd.window = true, window
		if p.s.mode.Load() == modeClosed {
			p.fillLocked(sd)
		}
		out = append(out, sd)
	}
	return out
}

// text builds a message of s.msgBytes: "<ns> <n> xxxx...".
func (s *sim) text(at time.Duration, n uint64) string {
	buf := make([]byte, 0, s.msgBytes)
	buf = strconv.AppendInt(buf, int64(at), 10)
	buf = append(buf, ' ')
	buf = strconv.AppendUint(buf, n, 10)
	buf = append(buf, ' ')
	for len(buf) < s.msgBytes {
		buf = append(buf, 'x')
	}
	return string(buf)
}

func parseText(t string) (at time.Duration, n uint64, ok bool) {
	i := 0
	for i < len(t) && t[i] != ' ' {
		i++
	}
	ns, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil || i == len(t) {
		return 0, 0, false
	}
	j := i + 1
	for j < len(t) && t[j] != ' ' {
		j++
	}
	n, err = strconv.ParseUint(t[i+1:j], 10, 64)
	return time.Duration(ns), n, err == nil
}
