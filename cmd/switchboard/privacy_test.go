package main

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// visitorScan collects every frame a visitor's socket receives and checks
// each: no staff id anywhere in it, and chat events numbered 1, 2, 3...
// with no gap (internal events leave no trace).
type visitorScan struct {
	t      *testing.T
	staff  []string
	events []*messages.ChatEvent
	frames int
}

func (s *visitorScan) see(env *messages.Envelope) {
	s.t.Helper()
	s.frames++
	js := protojson.Format(env)
	for _, id := range s.staff {
		if strings.Contains(js, `"`+id+`"`) {
			s.t.Fatalf("a visitor frame carries staff id %q: %s", id, js)
		}
	}
	if ev := env.GetEvent(); ev != nil {
		if want := uint64(len(s.events) + 1); ev.GetSeq() != want || ev.GetInternal() || ev.GetVisitorSeq() != 0 {
			s.t.Fatalf("visitor event %s, want seq %d, not internal, no visitor_seq", js, want)
		}
		s.events = append(s.events, ev)
	}
}

// until receives and scans frames until one matches.
func (s *visitorScan) until(c *gateway.Client, what string, match func(*messages.Envelope) bool) *messages.Envelope {
	s.t.Helper()
	for {
		env, err := c.Recv(ctxT(s.t))
		if err != nil {
			s.t.Fatalf("waiting for %s: %v", what, err)
		}
		s.see(env)
		if match(env) {
			return env
		}
	}
}

// TestVisitorSeesNoStaffIDsNorGaps: a chat with an invitation, a visible
// guest, an invisible supervisor who whispers, a take-over, a transfer and
// typing. Every frame the visitor gets (welcome, summaries, events, acks,
// typing notices, and a replay from the start) carries display names and
// per-chat references, never a staff id, and the visitor's numbering has
// no gap where the internal events are; the visitor's acks and cursors use
// it and a resume from the middle is exact.
func TestVisitorSeesNoStaffIDsNorGaps(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	carmen, _ := newAgent(t, addr, "carmen@demo", "carmen-demo-pw", false)
	dana, _ := newAgent(t, addr, "dana@demo", "dana-demo-pw", false)
	bob, _ := newAgent(t, addr, "bob@demo", "bob-demo-pw", true)
	scan := &visitorScan{t: t, staff: []string{"alice", "bob", "carmen", "dana"}}

	sv, vw, aliceRef := scannedChatWithAlice(t, addr, alice, scan)
	sv.send("v1", "first")
	guestJoinsAndLeaves(sv, alice, carmen)
	supervisorWhispersAndTakesOver(sv, alice, dana, aliceRef)
	transferredToBob(sv, dana, bob)
	sv.send("v3", "third")
	if n := len(scan.events); n < 10 {
		t.Fatalf("the visitor saw only %d events", n)
	}
	checkVisitorReplays(t, addr, vw, sv)
	t.Logf("%d frames, %d events scanned", scan.frames, len(scan.events))
}

// scannedVisitor is a visitor's socket whose every frame is scanned, and
// its chat.
type scannedVisitor struct {
	t    *testing.T
	v    *gateway.Client
	scan *visitorScan
	chat string
}

// scannedChatWithAlice: a visitor asks and alice accepts. It returns the
// visitor, its welcome and the reference the visitor knows alice by.
func scannedChatWithAlice(t *testing.T, addr string, alice *gateway.Client, scan *visitorScan) (*scannedVisitor, *messages.Welcome, string) {
	t.Helper()
	v := dial(t, addr, "visitor", true)
	if _, err := v.Send(ctxT(t), &messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{}}}); err != nil {
		t.Fatal(err)
	}
	vw := scan.until(v, "welcome", func(e *messages.Envelope) bool { return e.GetWelcome() != nil }).GetWelcome()
	ref, _ := v.Send(ctxT(t), &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{
		Department: "sales", Language: "en", Name: "Ann", FirstMessage: "hello"}}})
	chat := scan.until(v, "the chat", func(e *messages.Envelope) bool { return e.GetRef() == ref }).GetAck().GetChatId()
	accept(t, alice, awaitOffer(t, alice).GetChatId())
	assigned := scan.until(v, "assigned", func(e *messages.Envelope) bool { return e.GetEvent().GetAssigned() != nil }).GetEvent()
	aliceRef := assigned.GetAssigned().GetAgentId()
	if aliceRef == "" || assigned.GetAssigned().GetAgentName() != "Alice" {
		t.Fatalf("assigned as the visitor sees it: %v", assigned)
	}
	return &scannedVisitor{t: t, v: v, scan: scan, chat: chat}, vw, aliceRef
}

// send sends the visitor's own message: its ack carries the visitor's seq.
func (sv *scannedVisitor) send(cid, text string) {
	t := sv.t
	t.Helper()
	ref, _ := sv.v.Send(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: sv.chat, ClientMsgId: cid, Text: text}}})
	var ack *messages.Ack
	var ev *messages.ChatEvent
	sv.scan.until(sv.v, "ack and event of "+cid, func(e *messages.Envelope) bool {
		if e.GetRef() == ref {
			ack = e.GetAck()
		}
		if e.GetEvent().GetMessage().GetClientMsgId() == cid {
			ev = e.GetEvent()
		}
		return ack != nil && ev != nil
	})
	if ack.GetSeq() != ev.GetSeq() || ack.GetVisitorSeq() != 0 {
		t.Fatalf("ack %v for event %v", ack, ev)
	}
}

// seen scans until an event matches.
func (sv *scannedVisitor) seen(what string, match func(*messages.ChatEvent) bool) *messages.ChatEvent {
	sv.t.Helper()
	return sv.scan.until(sv.v, what, func(e *messages.Envelope) bool { return e.GetEvent() != nil && match(e.GetEvent()) }).GetEvent()
}

// guestJoinsAndLeaves: an invitation (internal), a visible guest who
// writes and leaves.
func guestJoinsAndLeaves(sv *scannedVisitor, alice, carmen *gateway.Client) {
	t, chat := sv.t, sv.chat
	t.Helper()
	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_InviteAgent{InviteAgent: &messages.InviteAgent{ChatId: chat, AgentId: "carmen"}}})
	mustCall(t, carmen, &messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat}}})
	send(t, carmen, chat, "c1", "Carmen here")
	sv.seen("carmen's message", func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "Carmen here" })
	mustCall(t, carmen, &messages.Envelope{Body: &messages.Envelope_LeaveChat{LeaveChat: &messages.LeaveChat{ChatId: chat}}})
	sv.seen("carmen leaving", func(ev *messages.ChatEvent) bool {
		return ev.GetMember().GetAction() == messages.MemberAction_MEMBER_ACTION_LEFT
	})
}

// supervisorWhispersAndTakesOver: an invisible supervisor who whispers,
// typing, then takes over; the visitor knows alice only by aliceRef.
func supervisorWhispersAndTakesOver(sv *scannedVisitor, alice, dana *gateway.Client, aliceRef string) {
	t, chat := sv.t, sv.chat
	t.Helper()
	mustCall(t, dana, &messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat, Invisible: true}}})
	mustCall(t, dana, &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, ClientMsgId: "w1", Text: "psst", Whisper: true}}})
	sv.send("v2", "second")
	if _, err := alice.Send(ctxT(t), &messages.Envelope{Body: &messages.Envelope_Typing{Typing: &messages.Typing{ChatId: chat, Typing: true}}}); err != nil {
		t.Fatal(err)
	}
	typing := sv.scan.until(sv.v, "typing", func(e *messages.Envelope) bool { return e.GetTypingNotice() != nil }).GetTypingNotice()
	if typing.GetFrom().GetId() != aliceRef || typing.GetFrom().GetDisplayName() != "Alice" {
		t.Fatalf("typing notice %v, want Alice as %s", typing, aliceRef)
	}
	mustCall(t, dana, &messages.Envelope{Body: &messages.Envelope_TakeOver{TakeOver: &messages.TakeOver{ChatId: chat}}})
	took := sv.seen("the take-over", func(ev *messages.ChatEvent) bool { return ev.GetAssigned().GetAgentName() == "Dana" })
	if took.GetAssigned().GetPreviousAgentId() != aliceRef {
		t.Fatalf("take-over %v: previous agent is not alice's reference %s", took, aliceRef)
	}
}

// transferredToBob: a transfer to a colleague, who takes it; the
// visitor's summary counts in the visitor's numbering and shows no
// watcher.
func transferredToBob(sv *scannedVisitor, dana, bob *gateway.Client) {
	t, chat, scan := sv.t, sv.chat, sv.scan
	t.Helper()
	mustCall(t, dana, &messages.Envelope{Body: &messages.Envelope_TransferChat{TransferChat: &messages.TransferChat{ChatId: chat, ToAgent: "bob"}}})
	sv.seen("the transfer", func(ev *messages.ChatEvent) bool { return ev.GetTransferred().GetToAgentName() == "Bob" })
	accept(t, bob, awaitOffer(t, bob).GetChatId())
	sv.seen("bob", func(ev *messages.ChatEvent) bool { return ev.GetAssigned().GetAgentName() == "Bob" })
	sum := scan.until(sv.v, "bob's summary", func(e *messages.Envelope) bool { return e.GetChat().GetAgentName() == "Bob" }).GetChat()
	if sum.GetLastSeq() > uint64(len(scan.events)) || sum.GetVisitorLastSeq() != 0 || len(sum.GetWatchers()) > 0 {
		t.Fatalf("the visitor's summary %v (events seen %d)", sum, len(scan.events))
	}
	send(t, bob, chat, "b1", "Bob now")
	sv.seen("bob's message", func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "Bob now" })
}

// checkVisitorReplays: again, from a new socket, a whole replay, then a
// resume from the middle; the same events, the same numbers.
func checkVisitorReplays(t *testing.T, addr string, vw *messages.Welcome, sv *scannedVisitor) {
	t.Helper()
	scan, chat := sv.scan, sv.chat
	replay := func(cursor uint64) []*messages.ChatEvent {
		t.Helper()
		c := dial(t, addr, "visitor", true)
		rs := &visitorScan{t: t, staff: scan.staff}
		rs.events = make([]*messages.ChatEvent, cursor) // numbering continues after the cursor
		ref, _ := c.Send(ctxT(t), &messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{
			ResumeToken: vw.GetResumeToken(), Cursors: map[string]uint64{chat: cursor}}}})
		rs.until(c, "welcome", func(e *messages.Envelope) bool { return e.GetWelcome() != nil || e.GetRef() == ref })
		rs.until(c, "the replay", func(e *messages.Envelope) bool { return e.GetEvent().GetSeq() == uint64(len(scan.events)) })
		return rs.events[cursor:]
	}
	for _, cursor := range []uint64{0, 4} {
		got := replay(cursor)
		for i, ev := range got {
			if want := scan.events[int(cursor)+i]; protojson.Format(ev) != protojson.Format(want) {
				t.Fatalf("replay after %d: %v, live %v", cursor, ev, want)
			}
		}
	}
}
