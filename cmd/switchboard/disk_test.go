package main

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// auditOf reads the audit entries of kind around the fake clock's now.
func auditOf(m *Main, clock *fakeClock, kind string) []*messages.AuditEntry {
	now := clock.Now()
	got, _ := m.broker.AuditLog(now.Add(-48*time.Hour), now.Add(time.Hour), func(e *messages.AuditEntry) bool { return e.GetKind() == kind }, 1000)
	return got
}

// refusedAdminCall calls the admin API without a credential.
func refusedAdminCall(t *testing.T, addr, method, path string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader("{}"))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode/100 != 4 {
		t.Fatalf("%s %s without a credential: %d", method, path, res.StatusCode)
	}
}

// Refused calls cost an attacker nothing, so their audit entries are
// bounded: fields are cut to a fixed size, and one address writes at most
// AuditPerMinute entries of a kind a minute; the rest are summed up in one
// audit.suppressed entry when the minute ends.
func TestAuditEntriesBoundedAndRateLimited(t *testing.T) {
	clock := newFakeClock()
	m := startBroker(t, t.TempDir(), func(c *Config) { c.Clock, c.Gateway.AuditPerMinute = clock, 3 })
	long := "/admin/departments/" + strings.Repeat("x", 4000)
	for i := 0; i < 10; i++ {
		refusedAdminCall(t, m.Addr(), "PUT", long)
	}
	eventually(t, "three admin.refused entries", func() bool { return len(auditOf(m, clock, "admin.refused")) == 3 })
	for _, e := range auditOf(m, clock, "admin.refused") {
		if len(e.GetSubject()) > actors.AuditFieldMax || len(e.GetDetail()) > actors.AuditDetailMax {
			t.Fatalf("an entry of %d+%d bytes", len(e.GetSubject()), len(e.GetDetail()))
		}
	}
	clock.Advance(time.Minute)
	eventually(t, "the summary of the suppressed entries", func() bool {
		s := auditOf(m, clock, "audit.suppressed")
		return len(s) == 1 && strings.Contains(s[0].GetDetail(), "7 more admin.refused")
	})
	refusedAdminCall(t, m.Addr(), "PUT", long) // a new minute: written again
	eventually(t, "an entry in the next minute", func() bool { return len(auditOf(m, clock, "admin.refused")) == 4 })
	if n := len(auditOf(m, clock, "admin.refused")); n != 4 {
		t.Fatalf("%d admin.refused entries, want 4", n)
	}
	// What succeeds is never held back: ten changes, ten entries.
	for i := 0; i < 10; i++ {
		mustAdmin(t, m.Addr(), "PUT", fmt.Sprintf("/admin/languages/x%c", 'a'+i), map[string]any{"name": "X"})
	}
	eventually(t, "an entry for every change", func() bool { return len(auditOf(m, clock, "admin.language.put")) == 10 })
}

// Audit entries older than AuditRetention are deleted by the hourly pass.
func TestAuditRetention(t *testing.T) {
	clock := newFakeClock()
	m := startBroker(t, t.TempDir(), func(c *Config) { c.Clock, c.AuditRetention = clock, 24*time.Hour })
	refusedAdminCall(t, m.Addr(), "GET", "/admin/directory")
	eventually(t, "the first entry", func() bool { return len(auditOf(m, clock, "admin.refused")) == 1 })
	clock.Advance(23 * time.Hour)
	refusedAdminCall(t, m.Addr(), "GET", "/admin/directory")
	eventually(t, "the second entry", func() bool { return len(auditOf(m, clock, "admin.refused")) == 2 })
	clock.Advance(2 * time.Hour)
	eventually(t, "the entry past retention to go", func() bool { return len(auditOf(m, clock, "admin.refused")) == 1 })
	if e := auditOf(m, clock, "admin.refused"); len(e) != 1 || e[0].GetAtMs() < clock.Now().Add(-3*time.Hour).UnixMilli() {
		t.Fatalf("after retention: %v, want the newer entry only", e)
	}
}

func isUnavailable(err error) bool {
	var e *messages.Error
	return errors.As(err, &e) && e.GetCode() == messages.ErrorCode_ERROR_CODE_UNAVAILABLE && e.GetTemporary() &&
		strings.Contains(e.GetMessage(), "disk")
}

// diskBroker starts a broker whose data disk has free's value free (10
// GiB at first), checked every 10 ms against a threshold of 1 GiB.
func diskBroker(t *testing.T) (*Main, *atomic.Uint64) {
	free := new(atomic.Uint64)
	free.Store(10 << 30)
	m := startBroker(t, t.TempDir(), func(c *Config) {
		c.MinFreeBytes, c.DiskCheckEvery = 1<<30, 10*time.Millisecond
		c.FreeSpace = func(string) (uint64, error) { return free.Load(), nil }
	})
	return m, free
}

// While free disk space is under the threshold, new chats and messages are
// refused at once with a temporary UNAVAILABLE error that says why; once
// space is back, they work again.
func TestLowDiskRefusesWritesFast(t *testing.T) {
	m, free := diskBroker(t)
	v, _ := newVisitor(t, m.Addr(), false)
	chat := mustChatID(t, requestChat(t, v, "support", "en", "hello"))
	free.Store(100 << 20)
	eventually(t, "messages to be refused", func() bool {
		_, err := v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, Text: "more"}}})
		return isUnavailable(err)
	})
	v2, _ := newVisitor(t, m.Addr(), false)
	_, err := v2.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{Department: "support", Language: "en"}}})
	if !isUnavailable(err) {
		t.Fatalf("a new chat on a full disk: %v, want a temporary UNAVAILABLE about the disk", err)
	}
	// What security needs still goes through, from the reserve: a logout
	// (a revoked session) and a secret rotation.
	tok := loginToken(t, m.Addr(), "alice@demo", "alice-demo-pw")
	if code, body := staffHTTP(t, m.Addr(), tok, "POST", "/api/logout", ""); code != http.StatusNoContent {
		t.Fatalf("a logout on a full disk: %d %s", code, body)
	}
	if code := admin(t, m.Addr(), "POST", "/admin/secrets/rotate", map[string]bool{"admin_token": true}, nil); code != http.StatusOK {
		t.Fatalf("a secret rotation on a full disk: %d", code)
	}
	free.Store(10 << 30)
	eventually(t, "writes to be taken again", func() bool {
		_, err := v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, Text: "back"}}})
		return err == nil
	})
}

// A visitor writes at most MaxVisitorBytes in one chat (each message
// counting MessageOverhead more); the message over it gets TOO_LARGE and
// is not stored.
func TestVisitorTranscriptQuota(t *testing.T) {
	m := startBroker(t, t.TempDir())
	v, _ := newVisitor(t, m.Addr(), false)
	chat := mustChatID(t, requestChat(t, v, "support", "en", "hello"))
	big := strings.Repeat("x", actors.MaxMessageBytes)
	var err error
	for i := 0; i < 200 && err == nil; i++ {
		_, err = v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, Text: big}}})
	}
	var e *messages.Error
	if !errors.As(err, &e) || e.GetCode() != messages.ErrorCode_ERROR_CODE_TOO_LARGE {
		t.Fatalf("200 messages of 8 KiB: %v, want TOO_LARGE", err)
	}
	rec, _ := m.broker.ChatRecord(chat)
	stored := 0
	for _, ev := range rec.GetTranscript() {
		if msg := ev.GetMessage(); msg != nil {
			stored += len(msg.GetText()) + actors.MessageOverhead
		}
	}
	if stored > actors.MaxVisitorBytes || stored+len(big)+actors.MessageOverhead <= actors.MaxVisitorBytes {
		t.Fatalf("%d bytes stored when refused; the quota is %d", stored, actors.MaxVisitorBytes)
	}
}
