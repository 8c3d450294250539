package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// TestFirstChat walks the whole story over real websockets and Pebble: a
// visitor (JSON frames) asks, waits in the queue, an agent (binary frames)
// accepts, they talk, the agent closes, and the record is served over HTTP.
func TestFirstChat(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()

	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	v, chat := firstChatQueued(t, addr)
	a := firstChatAccepted(t, addr, v, chat)
	firstChatTalk(t, a, v, chat)
	firstChatClosed(t, a, v, chat)
	firstChatRecord(t, addr, chat)
}

// firstChatQueued: a visitor asks and waits first in the line.
func firstChatQueued(t *testing.T, addr string) (*gateway.Client, string) {
	t.Helper()
	v, vw := newVisitor(t, addr, true)
	if vw.GetVisitorId() == "" || vw.GetResumeToken() == "" {
		t.Fatalf("welcome without visitor id or resume token: %v", vw)
	}
	chat := mustChatID(t, requestChat(t, v, "sales", "en", "Hi, where is my order?"))
	q, err := v.Await(ctxT(t), func(e *messages.Envelope) bool { return e.GetQueueUpdate() != nil })
	if err != nil || q.GetQueueUpdate().GetPosition() != 1 || q.GetQueueUpdate().GetChatId() != chat {
		t.Fatalf("queue update = %v, %v", q, err)
	}
	return v, chat
}

// firstChatAccepted: Alice is offered the chat and accepts; the visitor
// is told, and Alice sees the whole transcript: created, the first
// message, assigned.
func firstChatAccepted(t *testing.T, addr string, v *gateway.Client, chat string) *gateway.Client {
	t.Helper()
	a, aw := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	if aw.GetDisplayName() != "Alice" || aw.GetSessionToken() == "" {
		t.Fatalf("agent welcome = %v", aw)
	}
	o := awaitOffer(t, a)
	if o.GetChatId() != chat || o.GetDepartment() != "sales" || o.GetLanguage() != "en" {
		t.Fatalf("offer = %v", o)
	}
	accept(t, a, chat)

	as := awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetAssigned() != nil })
	if as.GetAssigned().GetAgentName() != "Alice" {
		t.Fatalf("visitor told assigned to %q", as.GetAssigned().GetAgentName())
	}
	first := awaitEvent(t, a, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage() != nil })
	if first.GetSeq() != 2 || first.GetMessage().GetText() != "Hi, where is my order?" {
		t.Fatalf("agent's first message event = %v", first)
	}
	return a
}

// firstChatTalk: one message each way, numbered in order, and the visitor
// gets both.
func firstChatTalk(t *testing.T, a, v *gateway.Client, chat string) {
	t.Helper()
	s1 := send(t, a, chat, "a1", "Let me check.")
	s2 := send(t, v, chat, "v1", "Thanks!")
	if s2 != s1+1 {
		t.Fatalf("sequences %d then %d", s1, s2)
	}
	for _, c := range []struct {
		name string
		seq  uint64
	}{{"Let me check.", s1}, {"Thanks!", s2}} {
		ev := awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage() != nil && ev.GetSeq() >= s1 })
		if ev.GetSeq() != c.seq || ev.GetMessage().GetText() != c.name {
			t.Fatalf("visitor got %v, want seq %d %q", ev, c.seq, c.name)
		}
	}
}

// firstChatClosed: Alice closes; the visitor is told who closed it and
// Alice's slot is free again.
func firstChatClosed(t *testing.T, a, v *gateway.Client, chat string) {
	t.Helper()
	if _, err := a.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}}); err != nil {
		t.Fatal(err)
	}
	closed := awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetClosed() != nil })
	if closed.GetClosed().GetBy().GetDisplayName() != "Alice" {
		t.Fatalf("closed event = %v", closed)
	}
	st, err := a.Await(ctxT(t), func(e *messages.Envelope) bool {
		return e.GetAgentState() != nil && e.GetAgentState().GetActiveChats() == 0
	})
	if err != nil {
		t.Fatalf("agent state after close: %v %v", st, err)
	}
}

// firstChatRecord: the record over HTTP, as the agent who took part sees
// it; Bob (support only) and an anonymous caller may not read it.
func firstChatRecord(t *testing.T, addr, chat string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/chats/"+chat, nil)
	req.SetBasicAuth("alice@demo", "alice-demo-pw")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("record: %v %v", res, err)
	}
	var rec struct {
		State        string            `json:"state"`
		StartedAtMs  string            `json:"started_at_ms"`
		AssignedAtMs string            `json:"assigned_at_ms"`
		EndedAtMs    string            `json:"ended_at_ms"`
		Participants []json.RawMessage `json:"participants"`
		Transcript   []json.RawMessage `json:"transcript"`
	}
	json.NewDecoder(res.Body).Decode(&rec)
	res.Body.Close()
	if rec.State != "CHAT_STATE_CLOSED" || rec.StartedAtMs == "" || rec.AssignedAtMs == "" || rec.EndedAtMs == "" ||
		len(rec.Participants) != 2 || len(rec.Transcript) != 6 {
		t.Fatalf("record = %+v", rec)
	}

	// Bob is in support only: the sales chat is not his to read.
	req, _ = http.NewRequest("GET", "http://"+addr+"/api/chats/"+chat, nil)
	req.SetBasicAuth("bob@demo", "bob-demo-pw")
	res, _ = http.DefaultClient.Do(req)
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("bob reading a sales chat: %d", res.StatusCode)
	}
	req, _ = http.NewRequest("GET", "http://"+addr+"/api/chats/"+chat, nil)
	res, _ = http.DefaultClient.Do(req)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous record read: %d", res.StatusCode)
	}
}

func refusal(t *testing.T, env *messages.Envelope) messages.RefusalReason {
	t.Helper()
	if env.GetChatRefused() == nil {
		t.Fatalf("want ChatRefused, got %v", env)
	}
	return env.GetChatRefused().GetReason()
}

func TestRefusals(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	v, _ := newVisitor(t, addr, false)

	if r := refusal(t, requestChat(t, v, "billing", "en", "")); r != messages.RefusalReason_REFUSAL_REASON_UNKNOWN_DEPARTMENT {
		t.Fatalf("unknown department: %v", r)
	}
	if r := refusal(t, requestChat(t, v, "sales", "sv", "")); r != messages.RefusalReason_REFUSAL_REASON_LANGUAGE_NOT_OFFERED {
		t.Fatalf("unknown language: %v", r)
	}
	mustAdmin(t, addr, "PUT", "/admin/languages/es", map[string]any{"name": "Español", "chat_enabled": false})
	if r := refusal(t, requestChat(t, v, "support", "es", "")); r != messages.RefusalReason_REFUSAL_REASON_LANGUAGE_NOT_OFFERED {
		t.Fatalf("disabled language: %v", r)
	}
	mustAdmin(t, addr, "PUT", "/admin/departments/support", map[string]any{"name": "Support", "chat_enabled": false})
	if r := refusal(t, requestChat(t, v, "support", "en", "")); r != messages.RefusalReason_REFUSAL_REASON_DEPARTMENT_CLOSED {
		t.Fatalf("closed department: %v", r)
	}
	mustAdmin(t, addr, "PUT", "/admin/departments/sales", map[string]any{"name": "Sales", "chat_enabled": true, "queue_limit": 1})
	mustChatID(t, requestChat(t, v, "sales", "en", ""))
	if r := refusal(t, requestChat(t, v, "sales", "en", "")); r != messages.RefusalReason_REFUSAL_REASON_ALREADY_IN_CHAT {
		t.Fatalf("second chat: %v", r)
	}
	v2, _ := newVisitor(t, addr, false)
	if r := refusal(t, requestChat(t, v2, "sales", "en", "")); r != messages.RefusalReason_REFUSAL_REASON_QUEUE_FULL {
		t.Fatalf("full queue: %v", r)
	}
}

// TestDeclineAndTimeoutKeepTheHead: a declined or expired offer goes to the
// next eligible agent, and the chat keeps its place at the head.
func TestDeclineAndTimeoutKeepTheHead(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/departments/sales", map[string]any{"name": "Sales", "chat_enabled": true, "offer_timeout_ms": 300})

	v1, _ := newVisitor(t, addr, false)
	c1 := mustChatID(t, requestChat(t, v1, "sales", "en", "first"))
	v2, _ := newVisitor(t, addr, false)
	c2 := mustChatID(t, requestChat(t, v2, "sales", "en", "second"))

	// Carmen (limit 2) is offered both, head first.
	carmen, _ := newAgent(t, addr, "carmen@demo", "carmen-demo-pw", true)
	o1, o2 := awaitOffer(t, carmen), awaitOffer(t, carmen)
	if o1.GetChatId() != c1 || o2.GetChatId() != c2 {
		t.Fatalf("offers %s, %s; want %s, %s", o1.GetChatId(), o2.GetChatId(), c1, c2)
	}
	// She declines the head; Alice, available now, gets it.
	if _, err := carmen.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_DeclineOffer{DeclineOffer: &messages.DeclineOffer{ChatId: c1}}}); err != nil {
		t.Fatal(err)
	}
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	if o := awaitOffer(t, alice); o.GetChatId() != c1 {
		t.Fatalf("alice offered %s, want the head %s", o.GetChatId(), c1)
	}
	// Carmen lets c2 expire; it is withdrawn from her and goes to Alice.
	w, err := carmen.Await(ctxT(t), func(e *messages.Envelope) bool { return e.GetOfferWithdrawn() != nil })
	if err != nil || w.GetOfferWithdrawn().GetChatId() != c2 {
		t.Fatalf("withdrawn = %v, %v", w, err)
	}
	// Alice lets c1 expire too: c1 must still be ahead of c2 in the queue.
	v1pos, err := v1.Await(ctxT(t), func(e *messages.Envelope) bool { return e.GetQueueUpdate() != nil })
	if err != nil || v1pos.GetQueueUpdate().GetPosition() != 1 {
		t.Fatalf("head's position = %v, %v", v1pos, err)
	}
	accept(t, alice, awaitOffer(t, alice).GetChatId())
}

// TestManualPickupExactlyOneWins: two agents pick the same waiting chat at
// once; exactly one gets it, the other is told.
func TestManualPickupExactlyOneWins(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/departments/sales", map[string]any{"name": "Sales", "chat_enabled": true, "policy": "ROUTING_POLICY_MANUAL"})
	for round := 0; round < 5; round++ {
		v, _ := newVisitor(t, addr, false)
		chat := mustChatID(t, requestChat(t, v, "sales", "en", "pick me"))
		alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
		carmen, _ := newAgent(t, addr, "carmen@demo", "carmen-demo-pw", true)

		list, err := alice.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_ListWaiting{ListWaiting: &messages.ListWaiting{Department: "sales"}}})
		if err != nil || len(list.GetWaitingList().GetChats()) != 1 || list.GetWaitingList().GetChats()[0].GetChatId() != chat {
			t.Fatalf("waiting list = %v, %v", list, err)
		}
		pick := &messages.Envelope{Body: &messages.Envelope_PickChat{PickChat: &messages.PickChat{Department: "sales", ChatId: chat}}}
		r1, _ := alice.Send(ctxT(t), pick)
		pick2 := &messages.Envelope{Body: &messages.Envelope_PickChat{PickChat: &messages.PickChat{Department: "sales", ChatId: chat}}}
		r2, _ := carmen.Send(ctxT(t), pick2)
		a1, err1 := alice.Await(ctxT(t), func(e *messages.Envelope) bool { return e.GetRef() == r1 })
		a2, err2 := carmen.Await(ctxT(t), func(e *messages.Envelope) bool { return e.GetRef() == r2 })
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		wins := 0
		for _, a := range []*messages.Envelope{a1, a2} {
			switch {
			case a.GetAck() != nil:
				wins++
			case a.GetError().GetCode() != messages.ErrorCode_ERROR_CODE_CONFLICT:
				t.Fatalf("loser got %v", a)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d winners (%v / %v)", round, wins, a1, a2)
		}
		// Tidy up: the visitor closes, agents go.
		v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}})
		alice.Close()
		carmen.Close()
	}
}

// TestResumeAndDedupe: a visitor who drops gets exactly what they missed
// when they come back with their token and cursor, and a message resent
// with the same client id is stored once.
func TestResumeAndDedupe(t *testing.T) {
	// A tiny outbound queue: a replay longer than it must still arrive
	// whole (it takes one place in the queue), not close the socket as slow.
	m := startBroker(t, t.TempDir(), func(c *Config) { c.Gateway.OutboundQueue = 16 })
	addr := m.Addr()
	v, vw := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", ""))
	a, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	accept(t, a, awaitOffer(t, a).GetChatId())
	seq := send(t, v, chat, "m1", "one")
	if again := send(t, v, chat, "m1", "one"); again != seq {
		t.Fatalf("resend stored as %d, first as %d", again, seq)
	}
	awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetSeq() == seq })
	v.CloseNow()

	var missed []uint64
	for i := 0; i < 40; i++ {
		missed = append(missed, send(t, a, chat, "", "while you were away"))
	}
	v2 := dial(t, addr, "visitor", false)
	w, err := v2.Hello(ctxT(t), &messages.Hello{ResumeToken: vw.GetResumeToken(), Cursors: map[string]uint64{chat: seq}})
	if err != nil || w.GetVisitorId() != vw.GetVisitorId() || len(w.GetChats()) != 1 {
		t.Fatalf("resume welcome = %v, %v", w, err)
	}
	for _, want := range missed {
		ev := awaitEvent(t, v2, chat, func(*messages.ChatEvent) bool { return true })
		if ev.GetSeq() != want {
			t.Fatalf("after resume got seq %d, want %d", ev.GetSeq(), want)
		}
	}
	// Live again: the next message arrives once, right after.
	next := send(t, a, chat, "", "welcome back")
	if ev := awaitEvent(t, v2, chat, func(*messages.ChatEvent) bool { return true }); ev.GetSeq() != next {
		t.Fatalf("live after resume got %d, want %d", ev.GetSeq(), next)
	}
	// A forged token is refused.
	v3 := dial(t, addr, "visitor", false)
	if _, err := v3.Hello(ctxT(t), &messages.Hello{ResumeToken: vw.GetResumeToken() + "x"}); err == nil {
		t.Fatal("forged resume token accepted")
	}
	// The transcript holds the resent message once.
	rec, _ := m.broker.ChatRecord(chat)
	n := 0
	for _, ev := range rec.GetTranscript() {
		if ev.GetMessage().GetClientMsgId() == "m1" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("message m1 stored %d times", n)
	}
}

// A chat keeps only its recent tail in memory: a resume from further back
// is served from the store, complete and in order, and client message ids
// within the dedupe window still dedupe after the tail has moved on.
func TestLongChatReplaysFromStore(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	v, vw := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", ""))
	a, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	accept(t, a, awaitOffer(t, a).GetChatId())
	const n = 700 // well past the in-memory tail of 256
	var seqs []uint64
	for i := 0; i < n; i++ {
		seqs = append(seqs, send(t, a, chat, fmt.Sprintf("a%d", i), fmt.Sprintf("line %d", i)))
	}
	if again := send(t, a, chat, "a300", "line 300"); again != seqs[300] {
		t.Fatalf("resend of an id past the tail stored as %d, first as %d", again, seqs[300])
	}
	v.CloseNow()
	for _, from := range []uint64{0, 5, seqs[n-10]} {
		v2 := dial(t, addr, "visitor", false)
		if _, err := v2.Hello(ctxT(t), &messages.Hello{ResumeToken: vw.GetResumeToken(), Cursors: map[string]uint64{chat: from}}); err != nil {
			t.Fatal(err)
		}
		for want := from + 1; want <= seqs[n-1]; want++ {
			ev := awaitEvent(t, v2, chat, func(*messages.ChatEvent) bool { return true })
			if ev.GetSeq() != want {
				t.Fatalf("resume after %d: got seq %d, want %d", from, ev.GetSeq(), want)
			}
		}
		v2.CloseNow()
	}
}

// The dedupe window is per sender: an agent's message still dedupes after
// the visitor sent more than the window's worth meanwhile (as happens when
// an agent's acknowledgements are slow and the broker restarts).
func TestDedupeWindowIsPerSender(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	v, _ := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", ""))
	a, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	accept(t, a, awaitOffer(t, a).GetChatId())
	first := send(t, a, chat, "agent-7", "one of alice's")
	for i := 0; i < 1100; i++ {
		send(t, v, chat, fmt.Sprintf("v%d", i), "the visitor talks a lot")
	}
	if again := send(t, a, chat, "agent-7", "one of alice's"); again != first {
		t.Fatalf("alice's resend was stored again as %d (first %d)", again, first)
	}
}
