package main

import (
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// journalEntries counts the routing journal's entries handled in [from, to)
// (a zero to: no end).
func journalEntries(t *testing.T, m *Main, from, to time.Time) int {
	t.Helper()
	n := 0
	if err := m.store.EachRoutingInput(from, to, func(uint64, *messages.RoutingInput) bool { n++; return true }); err != nil {
		t.Fatal(err)
	}
	return n
}

// The routing journal's entries older than RoutingRetention are deleted by
// the hourly pass; newer ones stay.
func TestRoutingJournalRetention(t *testing.T) {
	clock := newFakeClock()
	m := startBroker(t, t.TempDir(), func(c *Config) { c.Clock, c.RoutingRetention = clock, 24*time.Hour })
	v, _ := newVisitor(t, m.Addr(), false)
	mustChatID(t, requestChat(t, v, "sales", "en", ""))
	first := clock.Now()
	eventually(t, "the first chat's journal entries", func() bool { return journalEntries(t, m, first, time.Time{}) > 0 })
	clock.Advance(23 * time.Hour)
	second := clock.Now()
	v2, _ := newVisitor(t, m.Addr(), false)
	mustChatID(t, requestChat(t, v2, "support", "en", ""))
	eventually(t, "the second chat's journal entries", func() bool { return journalEntries(t, m, second, time.Time{}) > 0 })
	kept := journalEntries(t, m, second, time.Time{})
	clock.Advance(2 * time.Hour)
	eventually(t, "the entries past retention to go", func() bool { return journalEntries(t, m, time.Time{}, second) == 0 })
	if n := journalEntries(t, m, second, time.Time{}); n < kept {
		t.Fatalf("%d entries from the second chat on after retention, want the %d there were", n, kept)
	}
}

// A negative RoutingRetention keeps the journal for ever.
func TestRoutingJournalKeptForEver(t *testing.T) {
	clock := newFakeClock()
	m := startBroker(t, t.TempDir(), func(c *Config) { c.Clock, c.RoutingRetention = clock, -1 })
	v, _ := newVisitor(t, m.Addr(), false)
	mustChatID(t, requestChat(t, v, "sales", "en", ""))
	eventually(t, "the chat's journal entries", func() bool { return journalEntries(t, m, time.Time{}, time.Time{}) > 0 })
	n := journalEntries(t, m, time.Time{}, time.Time{})
	clock.Advance(400 * 24 * time.Hour) // the fake clock runs the hourly pass before it returns
	if got := journalEntries(t, m, time.Time{}, time.Time{}); got < n {
		t.Fatalf("%d journal entries after 400 days, want the %d there were", got, n)
	}
}
