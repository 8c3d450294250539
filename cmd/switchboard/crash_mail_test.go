package main

import (
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// TestKill9KeepsOutboxAndOfflineMessages: an agent's email, acknowledged
// while the SMTP server refuses, and an offline message, acknowledged,
// survive a SIGKILL of the broker child; after the restart on the same
// folder the server accepts and the mail arrives exactly once.
func TestKill9KeepsOutboxAndOfflineMessages(t *testing.T) {
	ms := startMailServer(t)
	ms.refuse.Store(true)
	dir := t.TempDir()
	ch := startChild(t, dir)
	mustAdmin(t, ch.addr, "PUT", "/admin/email", ms.settings())
	mustAdmin(t, ch.addr, "PATCH", "/admin/departments/support", map[string]any{"offline_messages": true})
	vis, _ := newVisitor(t, ch.addr, false)
	if _, err := vis.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_LeaveOfflineMessage{LeaveOfflineMessage: &messages.LeaveOfflineMessage{
		Department: "support", Name: "Ann", Email: "ann@example.net", Text: "kept across a crash"}}}); err != nil {
		t.Fatal(err)
	}
	_, alice, chat := chatWith(t, ch.addr, "alice@demo", "alice-demo-pw", "sales", "Ann", "ann@example.net")
	if _, err := alice.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_EmailFromChat{EmailFromChat: &messages.EmailFromChat{
		ChatId: chat, To: "ann@example.net", Subject: "Before the crash", Text: "sent once"}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a refused try", func() bool { return ms.tries.Load() >= 1 })
	ch.kill()

	ms.refuse.Store(false)
	ch = startChild(t, dir)
	eventually(t, "the mail after the restart", func() bool { return len(ms.mails()) == 1 })
	eventually(t, "the emailed event", func() bool { return len(emailedEvents(t, ch.addr, chat)) == 1 })
	if got := ms.mails()[0]; got.subject() != "Before the crash" || len(ms.mails()) != 1 {
		t.Fatalf("%d mails, the first %q", len(ms.mails()), got.subject())
	}
	if code, list := offlineList(t, ch.addr, "bob@demo", "bob-demo-pw", "?answered=false"); code != 200 || len(list) != 1 || list[0].GetText() != "kept across a crash" {
		t.Fatalf("offline messages after the crash: %d %v", code, list)
	}
}
