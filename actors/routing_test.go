package actors

import (
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

func cand(id string, load, max uint32, last int64, langs ...string) *candidate {
	return &candidate{id: id, status: statusAvailable, connected: true, languages: langs, max: max, load: load, lastAssigned: last}
}

func none(string) bool { return false }

func TestPickLeastLoaded(t *testing.T) {
	cases := []struct {
		name  string
		cands []*candidate
		lang  string
		want  string
	}{
		{"fewest relative to limit", []*candidate{cand("a", 1, 2, 0, "en"), cand("b", 1, 4, 0, "en")}, "en", "b"},
		{"tie goes to idle longest", []*candidate{cand("a", 0, 2, 50, "en"), cand("b", 0, 2, 10, "en")}, "en", "b"},
		{"tie on idle goes to smaller id", []*candidate{cand("b", 0, 2, 0, "en"), cand("a", 0, 2, 0, "en")}, "en", "a"},
		{"language must match", []*candidate{cand("a", 0, 2, 0, "en"), cand("b", 1, 2, 0, "es")}, "es", "b"},
		{"full agents are skipped", []*candidate{cand("a", 2, 2, 0, "en")}, "en", ""},
		{"nobody speaks it", []*candidate{cand("a", 0, 2, 0, "en")}, "sv", ""},
		{"away is not eligible", []*candidate{{id: "a", status: messages.AgentStatus_AGENT_STATUS_AWAY, connected: true, languages: []string{"en"}, max: 2}}, "en", ""},
		{"disconnected is not eligible", []*candidate{{id: "a", status: statusAvailable, languages: []string{"en"}, max: 2}}, "en", ""},
		{"busy hold is not eligible", []*candidate{{id: "a", status: statusAvailable, connected: true, hold: true, languages: []string{"en"}, max: 2}}, "en", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := pickLeastLoaded(c.cands, c.lang, none)
			if id := idOf(got); id != c.want {
				t.Fatalf("picked %q, want %q", id, c.want)
			}
		})
	}
}

func TestPickLeastLoadedExcludes(t *testing.T) {
	cands := []*candidate{cand("a", 0, 2, 0, "en"), cand("b", 1, 2, 0, "en")}
	got := pickLeastLoaded(cands, "en", func(id string) bool { return id == "a" })
	if idOf(got) != "b" {
		t.Fatalf("picked %q, want b", idOf(got))
	}
}

func TestPickRoundRobin(t *testing.T) {
	cands := []*candidate{cand("a", 0, 2, 0, "en"), cand("b", 1, 2, 0, "en"), cand("c", 0, 2, 0, "en")}
	var order []string
	last := ""
	for i := 0; i < 4; i++ {
		c := pickRoundRobin(cands, "en", last, none)
		last = idOf(c)
		order = append(order, last)
	}
	if got := order[0] + order[1] + order[2] + order[3]; got != "abca" {
		t.Fatalf("round robin order %v, want a b c a", order)
	}
	cands[1].load = 2 // b is full
	if c := pickRoundRobin(cands, "en", "a", none); idOf(c) != "c" {
		t.Fatalf("after a with b full picked %q, want c", idOf(c))
	}
	one := []*candidate{cand("a", 0, 2, 0, "en")}
	if c := pickRoundRobin(one, "en", "a", none); idOf(c) != "a" {
		t.Fatalf("single agent: picked %q", idOf(c))
	}
	// The last one picked is picked again when nobody else can take the
	// chat (it waited with a free agent before).
	cands[2].load = 2 // b and c are full
	if c := pickRoundRobin(cands, "en", "a", none); idOf(c) != "a" {
		t.Fatalf("after a with b and c full picked %q, want a again", idOf(c))
	}
}

func idOf(c *candidate) string {
	if c == nil {
		return ""
	}
	return c.id
}

func TestClipKeepsCharacters(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{{"short", 10, "short"}, {"abcdefghij", 6, "abc…"}, {"ééééé", 6, "é…"}, {"ééééé", 7, "éé…"}} {
		if got := clip(c.in, c.max); got != c.want || len(got) > c.max {
			t.Errorf("clip(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}
