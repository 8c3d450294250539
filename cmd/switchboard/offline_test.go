package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// Offline messages (issue 13, part 3): a visitor refused because nobody
// is available leaves a message; the department's staff list it and
// answer it by email.

// offlineList is GET /api/offline-messages as a demo staff member.
func offlineList(t testing.TB, addr, login, pw, query string) (int, []*messages.OfflineMessage) {
	t.Helper()
	var raw json.RawMessage
	code := staffCall(t, addr, login, pw, "GET", "/api/offline-messages"+query, nil, &raw)
	list := &messages.OfflineMessageList{}
	if code == 200 {
		if err := protoIn.Unmarshal(raw, list); err != nil {
			t.Fatal(err)
		}
	}
	return code, list.GetMessages()
}

func TestOfflineMessageLeftListedAnswered(t *testing.T) {
	ms := startMailServer(t)
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/email", ms.settings())

	// Off: nobody available means waiting, as before, and no form.
	vis, _ := newVisitor(t, addr, false)
	leave := func(x *messages.LeaveOfflineMessage) error {
		_, err := vis.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_LeaveOfflineMessage{LeaveOfflineMessage: x}})
		return err
	}
	good := &messages.LeaveOfflineMessage{Department: "support", Name: "Ann", Email: "ann@example.net", Text: "Where is order #123?", Language: "en"}
	if e := asErr(leave(good)); e.GetField() != "department" {
		t.Fatalf("a department without offline messages: %v", e)
	}
	mustAdmin(t, addr, "PATCH", "/admin/departments/support", map[string]any{"offline_messages": true})

	// Nobody in support is available: the request is refused, with the form.
	env := requestChat(t, vis, "support", "en", "hello?")
	r := env.GetChatRefused()
	if r.GetReason() != messages.RefusalReason_REFUSAL_REASON_NOBODY_AVAILABLE || !r.GetOfflineMessages() {
		t.Fatalf("request with nobody available: %v, want NOBODY_AVAILABLE with offline_messages", env)
	}
	leaveBadInput(t, leave)
	if err := leave(good); err != nil {
		t.Fatalf("leave a message: %v", err)
	}

	id := onlyBobSees(t, addr, good)

	// Bob answers by email: the mail goes out, the message is answered.
	var out map[string]string
	if code := staffCall(t, addr, "bob@demo", "bob-demo-pw", "POST", "/api/offline-messages/"+id+"/reply",
		map[string]string{"text": "It left our warehouse this morning."}, &out); code != 200 || out["mail_id"] == "" {
		t.Fatalf("answer: %d %v", code, out)
	}
	eventually(t, "the answer mail", func() bool { return len(ms.mails()) == 1 })
	checkAnswerMail(t, ms.mails()[0])
	if _, list := offlineList(t, addr, "bob@demo", "bob-demo-pw", "?answered=false"); len(list) != 0 {
		t.Fatalf("still unanswered: %v", list)
	}
	_, list := offlineList(t, addr, "bob@demo", "bob-demo-pw", "?answered=true")
	if len(list) != 1 || list[0].GetAnsweredBy() != "bob" || list[0].GetMailId() != out["mail_id"] || list[0].GetAnsweredHow() != "email" {
		t.Fatalf("answered list: %v", list)
	}
	// Once only.
	if code := staffCall(t, addr, "bob@demo", "bob-demo-pw", "POST", "/api/offline-messages/"+id+"/reply", map[string]string{"text": "again"}, nil); code != http.StatusConflict {
		t.Fatalf("second answer: %d", code)
	}
	// A closed department that takes offline messages offers the form too.
	mustAdmin(t, addr, "PATCH", "/admin/departments/support", map[string]any{"chat_enabled": false})
	if r := requestChat(t, vis, "support", "en", "hello?").GetChatRefused(); r.GetReason() != messages.RefusalReason_REFUSAL_REASON_DEPARTMENT_CLOSED || !r.GetOfflineMessages() {
		t.Fatalf("closed department: %v", r)
	}
	eventually(t, "the audit entries", func() bool {
		k := auditKinds(t, addr, ms.pw)
		return k["offline.left"] == 1 && k["offline.answer"] == 1 && k["mail.sent"] == 1
	})
}

// checkAnswerMail: the answer goes to the visitor with the agent's text
// and the visitor's message quoted, under the default subject.
func checkAnswerMail(t *testing.T, mail *receivedMail) {
	t.Helper()
	if mail.To != "ann@example.net" || !strings.Contains(mail.Text, "It left our warehouse this morning.") ||
		!strings.Contains(mail.Text, "Where is order #123?") || mail.subject() != "Re: your message to Support" {
		t.Fatalf("answer mail to %q, subject %q:\n%s", mail.To, mail.subject(), mail.Text)
	}
}

// leaveBadInput: bad input is a typed error about the field, and nothing
// is stored.
func leaveBadInput(t *testing.T, leave func(*messages.LeaveOfflineMessage) error) {
	t.Helper()
	for field, bad := range map[string]*messages.LeaveOfflineMessage{
		"email": {Department: "support", Name: "Ann", Email: "ann at example", Text: "x"},
		"name":  {Department: "support", Email: "ann@example.net", Text: "x"},
		"text":  {Department: "support", Name: "Ann", Email: "ann@example.net"},
	} {
		if e := asErr(leave(bad)); e.GetCode() != messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT || e.GetField() != field {
			t.Errorf("bad %s: %v", field, e)
		}
	}
}

// onlyBobSees: Bob (support) sees the message; Alice (sales only) does
// not, may not ask for support's, and cannot answer it. It returns the
// message's id.
func onlyBobSees(t *testing.T, addr string, good *messages.LeaveOfflineMessage) string {
	t.Helper()
	code, list := offlineList(t, addr, "bob@demo", "bob-demo-pw", "?answered=false")
	if code != 200 || len(list) != 1 || list[0].GetText() != good.GetText() || list[0].GetEmail() != "ann@example.net" || list[0].GetAnswered() {
		t.Fatalf("bob's list: %d %v", code, list)
	}
	id := list[0].GetId()
	if code, list := offlineList(t, addr, "alice@demo", "alice-demo-pw", ""); code != 200 || len(list) != 0 {
		t.Fatalf("alice's list: %d %v", code, list)
	}
	if code, _ := offlineList(t, addr, "alice@demo", "alice-demo-pw", "?department=support"); code != http.StatusForbidden {
		t.Fatalf("alice asking for support's: %d", code)
	}
	if code := staffCall(t, addr, "alice@demo", "alice-demo-pw", "POST", "/api/offline-messages/"+id+"/reply", map[string]string{"text": "hi"}, nil); code != http.StatusNotFound {
		t.Fatalf("alice answering support's message: %d", code)
	}

	return id
}

// The visitor who left a message comes back when someone is available:
// once an agent takes their chat in that department, the message counts
// as answered by that chat.
func TestOfflineMessageAnsweredAsChat(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	mustAdmin(t, addr, "PATCH", "/admin/departments/support", map[string]any{"offline_messages": true})
	vis, _ := newVisitor(t, addr, false)
	if r := requestChat(t, vis, "support", "en", "hello?").GetChatRefused(); !r.GetOfflineMessages() {
		t.Fatalf("refusal %v", r)
	}
	if _, err := vis.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_LeaveOfflineMessage{LeaveOfflineMessage: &messages.LeaveOfflineMessage{
		Department: "support", Name: "Ann", Email: "ann@example.net", Text: "call me back"}}}); err != nil {
		t.Fatal(err)
	}
	// Another visitor's chat answers nothing of Ann's.
	bob, _ := newAgent(t, addr, "bob@demo", "bob-demo-pw", true)
	other, _ := newVisitor(t, addr, false)
	acceptOffered(t, bob, mustChatID(t, requestChat(t, other, "support", "en", "me too")))
	chat := mustChatID(t, requestChat(t, vis, "support", "en", "I am back"))
	if _, list := offlineList(t, addr, "bob@demo", "bob-demo-pw", "?answered=false"); len(list) != 1 {
		t.Fatalf("before bob takes Ann's chat: %v", list)
	}
	acceptOffered(t, bob, chat)
	var list []*messages.OfflineMessage
	eventually(t, "the message answered by the chat", func() bool {
		_, list = offlineList(t, addr, "bob@demo", "bob-demo-pw", "?answered=true")
		return len(list) == 1
	})
	if x := list[0]; x.GetAnsweredHow() != "chat" || x.GetChatId() != chat || x.GetAnsweredBy() != "bob" {
		t.Fatalf("answered %v", x)
	}
}

// acceptOffered accepts chat once its offer reached c: a request is
// answered when the chat is stored, before its queue offers it.
func acceptOffered(t testing.TB, c *gateway.Client, chat string) {
	t.Helper()
	if _, err := c.Await(ctxT(t), func(e *messages.Envelope) bool { return e.GetOffer().GetChatId() == chat }); err != nil {
		t.Fatalf("no offer of %s: %v", chat, err)
	}
	accept(t, c, chat)
}
