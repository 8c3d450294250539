package actors

import (
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

func TestCheckCanned(t *testing.T) {
	for _, c := range []struct {
		r     *messages.CannedReply
		field string // "" when it passes
	}{
		{&messages.CannedReply{Department: "sales", Shortcut: "refund", Text: "Hello {visitor.name}, {agent.name} of {department.name}."}, ""},
		{&messages.CannedReply{AgentId: "a1", Shortcut: "bye-now_2", Text: "Bye {visitor.name}! {not a placeholder} {} {{x"}, ""},
		{&messages.CannedReply{Shortcut: "refund", Text: "x"}, "department"},
		{&messages.CannedReply{Department: "sales", AgentId: "a1", Shortcut: "refund", Text: "x"}, "department"},
		{&messages.CannedReply{Department: "sales", Shortcut: "#refund", Text: "x"}, "shortcut"},
		{&messages.CannedReply{Department: "sales", Shortcut: "Refund", Text: "x"}, "shortcut"},
		{&messages.CannedReply{Department: "sales", Shortcut: "re.fund", Text: "x"}, "shortcut"},
		{&messages.CannedReply{Department: "sales", Shortcut: "abcdefghijklmnopqrstuvwxyz0123456", Text: "x"}, "shortcut"},
		{&messages.CannedReply{Department: "sales", Shortcut: "refund", Text: "  "}, "text"},
		{&messages.CannedReply{Department: "sales", Shortcut: "refund", Text: "Hi {visitor.nmae}"}, "text"},
		{&messages.CannedReply{Department: "sales", Shortcut: "refund", Text: "Hi {Visitor.Name}"}, "text"},
		{&messages.CannedReply{Department: "sales", Shortcut: "refund", Text: "bell\a"}, "text"},
		{&messages.CannedReply{Department: "sales", Shortcut: "refund", Text: string(make([]byte, MaxCannedBytes+1))}, "text"},
	} {
		e := CheckCanned(c.r)
		if got := e.GetField(); got != c.field || (c.field != "") != (e != nil) {
			t.Errorf("CheckCanned(%v) = %v, want field %q", c.r, e, c.field)
		}
	}
}

func TestExpandCanned(t *testing.T) {
	got := ExpandCanned("Hi {visitor.name}, {agent.name} from {department.name}; {visitor.name} again. {other}",
		CannedVars{Visitor: "{agent.name}", Agent: "Alice", Department: "Sales"})
	if want := "Hi {agent.name}, Alice from Sales; {agent.name} again. {other}"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestFoldTag(t *testing.T) {
	var tags []string
	for _, ev := range []*messages.ChatTagged{{Tag: "a"}, {Tag: "b"}, {Tag: "a"}, {Tag: "a", Removed: true}, {Tag: "c", Removed: true}, {Tag: "a"}} {
		// Summaries are shared: the input is never changed in place.
		held, copied := tags, append([]string(nil), tags...)
		tags = foldTag(tags, ev)
		if len(held) != len(copied) || len(held) > 0 && held[0] != copied[0] {
			t.Fatal("foldTag changed its input")
		}
	}
	if got := len(tags); got != 2 || tags[0] != "b" || tags[1] != "a" {
		t.Fatalf("tags = %q", tags)
	}
}
