package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

func errCode(err error) messages.ErrorCode {
	var e *messages.Error
	if errors.As(err, &e) {
		return e.GetCode()
	}
	return messages.ErrorCode_ERROR_CODE_UNSPECIFIED
}

func putAlice(t *testing.T, addr string, fields map[string]any) {
	t.Helper()
	body := map[string]any{"login": "alice@demo", "display_name": "Alice", "departments": []string{"sales"}, "languages": []string{"en"}, "max_chats": 3, "chat_agent": true}
	for k, v := range fields {
		body[k] = v
	}
	mustAdmin(t, addr, "PUT", "/admin/agents/alice", body)
}

// Suspending an account takes effect at once: its sockets close with 4003,
// its chats go back to routing, its session tokens and its password stop
// working, and lifting the suspension does not bring old sessions back.
func TestSuspensionClosesSocketsAndEndsSessions(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	v, _ := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", ""))
	alice, aw := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	accept(t, alice, awaitOffer(t, alice).GetChatId())

	putAlice(t, addr, map[string]any{"suspended": true})
	_, err := alice.Await(ctxT(t), func(*messages.Envelope) bool { return false })
	if code := gateway.CloseCode(err); code != gateway.CloseSuspended {
		t.Fatalf("alice's socket ended with %v (%v), want %d", code, err, gateway.CloseSuspended)
	}
	awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetRequeued() != nil })
	if _, err := dial(t, addr, "agent", false).Hello(ctxT(t), &messages.Hello{SessionToken: aw.GetSessionToken()}); errCode(err) != messages.ErrorCode_ERROR_CODE_FORBIDDEN {
		t.Fatalf("suspended session token: %v", err)
	}
	if _, err := dial(t, addr, "agent", false).Hello(ctxT(t), &messages.Hello{Login: "alice@demo", Password: "alice-demo-pw"}); errCode(err) != messages.ErrorCode_ERROR_CODE_FORBIDDEN {
		t.Fatalf("suspended password login: %v", err)
	}
	putAlice(t, addr, map[string]any{"suspended": false})
	if _, err := dial(t, addr, "agent", false).Hello(ctxT(t), &messages.Hello{SessionToken: aw.GetSessionToken()}); errCode(err) != messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED {
		t.Fatalf("a session from before the suspension, after it was lifted: %v", err)
	}
	newAgent(t, addr, "alice@demo", "alice-demo-pw", false) // a fresh login works
}

// Logging out ends that session only: its token stops working and its
// sockets close with 4004; another session of the same agent goes on.
func TestLogoutEndsTheSession(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	login := func() string {
		res, err := http.Post("http://"+addr+"/api/login", "application/json", bytes.NewReader([]byte(`{"login":"alice@demo","password":"alice-demo-pw"}`)))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out struct {
			SessionToken string `json:"session_token"`
		}
		json.NewDecoder(res.Body).Decode(&out)
		if out.SessionToken == "" {
			t.Fatalf("login: %d", res.StatusCode)
		}
		return out.SessionToken
	}
	tok, other := login(), login()
	a := dial(t, addr, "agent", false)
	if _, err := a.Hello(ctxT(t), &messages.Hello{SessionToken: tok}); err != nil {
		t.Fatal(err)
	}
	b := dial(t, addr, "agent", false)
	if _, err := b.Hello(ctxT(t), &messages.Hello{SessionToken: other}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/logout", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %v, %v", res, err)
	}
	res.Body.Close()
	_, err = a.Await(ctxT(t), func(*messages.Envelope) bool { return false })
	if code := gateway.CloseCode(err); code != gateway.CloseLoggedOut {
		t.Fatalf("the logged-out socket ended with %v (%v)", code, err)
	}
	if _, err := dial(t, addr, "agent", false).Hello(ctxT(t), &messages.Hello{SessionToken: tok}); errCode(err) != messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED {
		t.Fatalf("a logged-out token: %v", err)
	}
	if _, err := b.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_Ping{Ping: &messages.Ping{}}}); err != nil || b.Closed() != nil {
		t.Fatalf("the other session: %v, %v", err, b.Closed())
	}
}

// Taking an agent out of a department withdraws their pending offer there
// (the chat goes to the next agent); lowering their limit keeps their
// chats and stops new offers until they are under it.
func TestLiveAccountChanges(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	carmen, _ := newAgent(t, addr, "carmen@demo", "carmen-demo-pw", true)
	v, _ := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "support", "en", ""))
	if o := awaitOffer(t, carmen); o.GetChatId() != chat {
		t.Fatalf("carmen offered %s", o.GetChatId())
	}
	mustAdmin(t, addr, "PUT", "/admin/agents/carmen", map[string]any{"login": "carmen@demo", "display_name": "Carmen",
		"departments": []string{"sales"}, "languages": []string{"es", "en"}, "max_chats": 2, "chat_agent": true})
	if _, err := carmen.Await(ctxT(t), func(e *messages.Envelope) bool { return e.GetOfferWithdrawn().GetChatId() == chat }); err != nil {
		t.Fatal(err)
	}
	bob, _ := newAgent(t, addr, "bob@demo", "bob-demo-pw", true)
	if o := awaitOffer(t, bob); o.GetChatId() != chat {
		t.Fatalf("bob offered %s, want %s", o.GetChatId(), chat)
	}

	// Alice, alone in sales, with two chats; her limit goes from 3 to 1.
	carmen.CloseNow()
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	var mine []string
	for i := 0; i < 2; i++ {
		vi, _ := newVisitor(t, addr, false)
		id := mustChatID(t, requestChat(t, vi, "sales", "en", ""))
		if o := awaitOffer(t, alice); o.GetChatId() != id {
			t.Fatalf("alice offered %s, want %s", o.GetChatId(), id)
		}
		accept(t, alice, id)
		mine = append(mine, id)
	}
	putAlice(t, addr, map[string]any{"max_chats": 1})
	if _, err := alice.Await(ctxT(t), func(e *messages.Envelope) bool {
		st := e.GetAgentState()
		return st != nil && st.GetMaxChats() == 1 && st.GetActiveChats() == uint32(len(mine))
	}); err != nil {
		t.Fatalf("alice's state after the lower limit: %v", err)
	}
	vw, _ := newVisitor(t, addr, false)
	waiting := mustChatID(t, requestChat(t, vw, "sales", "en", ""))
	if _, err := alice.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: mine[0]}}}); err != nil {
		t.Fatal(err)
	}
	list, err := alice.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_ListWaiting{ListWaiting: &messages.ListWaiting{Department: "sales"}}})
	if err != nil || len(list.GetWaitingList().GetChats()) != 1 || list.GetWaitingList().GetChats()[0].GetChatId() != waiting {
		t.Fatalf("at her new limit, the new chat must wait: %v, %v", list, err)
	}
	for _, id := range mine[1:] {
		if _, err := alice.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: id}}}); err != nil {
			t.Fatal(err)
		}
	}
	if o := awaitOffer(t, alice); o.GetChatId() != waiting {
		t.Fatalf("under her limit again, alice got %s, want %s", o.GetChatId(), waiting)
	}
}

// Failed logins are slowed, then locked; the lock ends with time, and a
// success clears the count.
func TestFailedLoginsLock(t *testing.T) {
	clock := newFakeClock()
	m := startBroker(t, t.TempDir(), func(c *Config) { c.Clock = clock })
	addr := m.Addr()
	try := func(pw string) error {
		_, err := dial(t, addr, "agent", false).Hello(ctxT(t), &messages.Hello{Login: "Alice@demo", Password: pw})
		return err
	}
	for i := 1; i <= 5; i++ {
		if err := try("wrong-password"); errCode(err) != messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED {
			t.Fatalf("failure %d: %v", i, err)
		}
		clock.Advance(6 * time.Second) // past the 5 s slow-down of the 3rd and 4th
	}
	if err := try("alice-demo-pw"); errCode(err) != messages.ErrorCode_ERROR_CODE_RATE_LIMITED {
		t.Fatalf("the right password while locked: %v, want RATE_LIMITED", err)
	}
	clock.Advance(time.Minute)
	if err := try("alice-demo-pw"); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	// The success cleared the count: one more failure does not lock.
	try("wrong-password")
	if err := try("alice-demo-pw"); err != nil {
		t.Fatalf("one failure after a success: %v", err)
	}
}
