package actors

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

func summary(id string) *messages.ChatSummary { return &messages.ChatSummary{ChatId: id} }

// order is the line's chat ids, in order, joined by spaces.
func order(l *line) string {
	var ids []string
	for _, w := range l.waiting {
		ids = append(ids, w.chat.GetChatId())
	}
	return strings.Join(ids, " ")
}

func TestLineInsertOrder(t *testing.T) {
	type put struct {
		id     string
		ticket uint64
		head   bool
	}
	cases := []struct {
		name string
		puts []put
		want string
	}{
		{"by ticket", []put{{"c", 3, false}, {"a", 1, false}, {"b", 2, false}}, "a b c"},
		{"transfers first", []put{{"a", 1, false}, {"t", 9, true}, {"b", 2, false}}, "t a b"},
		{"transfers by ticket among themselves", []put{{"t2", 8, true}, {"a", 1, false}, {"t1", 5, true}}, "t1 t2 a"},
		{"equal tickets keep arrival order", []put{{"a", 1, false}, {"b", 1, false}}, "a b"},
		{"a chat in line stays where it is", []put{{"a", 1, false}, {"b", 2, false}, {"a", 9, true}}, "a b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLine()
			for _, p := range c.puts {
				l.insert(summary(p.id), p.ticket, p.head, "")
			}
			if got := order(&l); got != c.want {
				t.Fatalf("line %q, want %q", got, c.want)
			}
		})
	}
}

func TestLineAdmit(t *testing.T) {
	now := time.Unix(1000, 0)
	type try struct {
		chat, addr string
		ok         bool
	}
	cases := []struct {
		name       string
		limit, per int
		tries      []try
	}{
		{"up to the limit", 2, 0, []try{{"a", "", true}, {"b", "", true}, {"c", "", false}}},
		{"one address's share", 10, 2, []try{{"a", "x", true}, {"b", "x", true}, {"c", "x", false}, {"d", "y", true}, {"e", "", true}}},
		{"no share limit", 10, -1, []try{{"a", "x", true}, {"b", "x", true}, {"c", "x", true}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLine()
			for _, tr := range c.tries {
				if _, ok := l.admit(tr.chat, tr.addr, c.limit, c.per, now); ok != tr.ok {
					t.Fatalf("admit %s from %q: %v, want %v", tr.chat, tr.addr, ok, tr.ok)
				}
			}
		})
	}
}

func TestLineTicketsIncrease(t *testing.T) {
	l := newLine()
	now := time.Unix(1000, 0)
	t1, _ := l.admit("a", "", 10, 0, now)
	t2, _ := l.admit("b", "", 10, 0, now) // same instant
	t3, _ := l.admit("c", "", 10, 0, now.Add(-time.Second))
	if t1 != uint64(now.UnixNano()) || t2 != t1+1 || t3 != t2+1 {
		t.Fatalf("tickets %d %d %d: want wall time, then bumped", t1, t2, t3)
	}
	l.insert(summary("r"), t3+100, false, "") // restored with a later ticket
	if t4, _ := l.admit("d", "", 10, 0, now); t4 != t3+101 {
		t.Fatalf("ticket after a restored one %d, want %d", t4, t3+101)
	}
}

func TestLineSharesGivenBack(t *testing.T) {
	l := newLine()
	now := time.Unix(1000, 0)
	l.admit("a", "x", 10, 1, now)
	if _, ok := l.admit("b", "x", 10, 1, now); ok {
		t.Fatal("second chat from x admitted over its share")
	}
	// Admitted, then withdrawn before it was created: the place is free.
	if w := l.withdraw("a"); w != nil {
		t.Fatal("withdraw of an admitted chat returned a waiting one")
	}
	tk, ok := l.admit("b", "x", 10, 1, now)
	if !ok {
		t.Fatal("place not given back on withdraw")
	}
	// Created, in line, then taken: the place is free again.
	l.enqueue(summary("b"), tk, false, "")
	if len(l.admitting) != 0 || order(&l) != "b" {
		t.Fatalf("after enqueue: admitting %v, line %q", l.admitting, order(&l))
	}
	w := l.withdraw("b")
	if w == nil {
		t.Fatal("withdraw of a waiting chat returned nothing")
	}
	l.remove(w)
	if len(l.perAddr) != 0 || len(l.addrOf) != 0 || order(&l) != "" {
		t.Fatalf("after remove: perAddr %v addrOf %v line %q", l.perAddr, l.addrOf, order(&l))
	}
}

func TestLineList(t *testing.T) {
	l := newLine()
	l.insert(summary("b"), 2, false, "")
	l.insert(summary("a"), 1, false, "")
	got := l.list("sales")
	if len(got) != 2 || got[0].GetChatId() != "a" || got[0].GetPosition() != 1 || got[1].GetPosition() != 2 ||
		got[1].GetDepartment() != "sales" || got[1].GetState() != stateQueued {
		t.Fatalf("list %v", got)
	}
}

func TestHowFor(t *testing.T) {
	if howFor(&waiting{head: true}) != messages.AssignHow_ASSIGN_HOW_TRANSFERRED || howFor(&waiting{}) != messages.AssignHow_ASSIGN_HOW_ROUTED {
		t.Fatal("a transfer is assigned as transferred, any other as routed")
	}
}
