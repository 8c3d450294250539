package persistence

import (
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// TestCannedRepliesByScope: a department's canned replies and an agent's
// own are kept apart (a department whose id starts like another's sees
// only its own), survive a reopen, and go with the department or account
// that owns them, in the same batch.
func TestCannedRepliesByScope(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	wait := func(f func(func(error))) {
		t.Helper()
		ch := make(chan error, 1)
		f(func(err error) { ch <- err })
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	replies := []*messages.CannedReply{
		{Department: "sales", Shortcut: "refund", Text: "Refunded, {visitor.name}."},
		{Department: "sales", Shortcut: "hello", Text: "Hello!"},
		{Department: "sales2", Shortcut: "refund", Text: "Other."},
		{AgentId: "a1", Shortcut: "refund", Text: "Mine."},
	}
	wait(func(d func(error)) { s.PutDepartment(&messages.Department{Id: "sales"}, d) })
	for _, r := range replies {
		wait(func(d func(error)) { s.PutCanned(r, d) })
	}
	count := func(dept, agent string, want int) {
		t.Helper()
		rs, err := s.CannedReplies(dept, agent)
		if err != nil || len(rs) != want {
			t.Fatalf("CannedReplies(%q, %q) = %v, %v; want %d", dept, agent, rs, err, want)
		}
	}
	count("sales", "", 2)
	count("sales2", "", 1)
	count("", "a1", 1)
	count("", "", 4)
	s.Close()

	s = openTest(t, dir)
	defer s.Close()
	count("sales", "", 2)
	wait(func(d func(error)) { s.DeleteCanned(&messages.CannedReply{Department: "sales", Shortcut: "hello"}, d) })
	count("sales", "", 1)
	wait(func(d func(error)) { s.DeleteDepartment("sales", d) })
	count("sales", "", 0)
	count("sales2", "", 1)
	wait(func(d func(error)) { s.DeleteAgent(&messages.Agent{Id: "a1", Login: "a1@x"}, d) })
	count("", "a1", 0)
	count("", "", 1)
}
