package actors

import (
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

func TestEstimate(t *testing.T) {
	const m = time.Minute
	cases := []struct {
		name                string
		pos, capacity, free uint32
		mean                time.Duration
		want                int64
	}{
		{"nobody available", 1, 0, 0, m, -1},
		{"a free slot awaits it", 2, 3, 2, m, 0},
		{"first after the free slots", 3, 3, 2, m, int64(m/3) / 1e6},
		{"slots free every mean/capacity", 5, 2, 0, 4 * m, int64(10 * m / 1e6)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := estimate(c.pos, c.capacity, c.free, c.mean); got != c.want {
				t.Fatalf("estimate = %d, want %d", got, c.want)
			}
		})
	}
}

func TestRetell(t *testing.T) {
	const s = int64(time.Second / time.Millisecond)
	cases := []struct {
		name    string
		told    uint32
		toldEta int64
		pos     uint32
		eta     int64
		want    bool
	}{
		{"first time", 0, -1, 1, 0, true},
		{"nothing moved", 2, 60 * s, 2, 60 * s, false},
		{"position moved", 2, 60 * s, 1, 60 * s, true},
		{"estimate moved a little", 2, 60 * s, 2, 50 * s, false},
		{"estimate moved by etaResend", 2, 60 * s, 2, 45 * s, true},
		{"estimate appeared", 2, -1, 2, 0, true},
		{"estimate gone", 2, 0, 2, -1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := retell(c.told, c.toldEta, c.pos, c.eta); got != c.want {
				t.Fatalf("retell = %v, want %v", got, c.want)
			}
		})
	}
}

func TestCapacityOf(t *testing.T) {
	roster := map[string]*candidate{
		"a": cand("a", 1, 3, 0, "en"),
		"b": cand("b", 4, 3, 0, "en"), // over its limit: no free slot
		"c": {id: "c", status: messages.AgentStatus_AGENT_STATUS_AWAY, connected: true, max: 5},
		"d": {id: "d", status: statusAvailable, max: 5}, // not connected
	}
	if capacity, free := capacityOf(roster); capacity != 6 || free != 2 {
		t.Fatalf("capacity %d free %d, want 6 and 2", capacity, free)
	}
}

func TestEstimatorMean(t *testing.T) {
	e := newEstimator()
	if e.mean() != DefaultHandlingTime {
		t.Fatalf("mean before any chat %v, want %v", e.mean(), DefaultHandlingTime)
	}
	t0 := time.Unix(1000, 0)
	for i := 0; i < handledKeep+1; i++ {
		id := string(rune('a' + i))
		e.update(&messages.ChatSummary{ChatId: id, State: stateActive}, false, t0)
		// The first chat takes 100 minutes; each other one, 1.
		took := time.Minute
		if i == 0 {
			took = 100 * time.Minute
		}
		if !e.update(&messages.ChatSummary{ChatId: id, State: stateClosed}, true, t0.Add(took)) {
			t.Fatalf("closing %s added no handling time", id)
		}
		if i == 0 && e.mean() != 100*time.Minute {
			t.Fatalf("mean of one %v", e.mean())
		}
	}
	if e.mean() != time.Minute {
		t.Fatalf("mean %v, want 1m once the first chat is past the last %d", e.mean(), handledKeep)
	}
}

func TestEstimatorUpdate(t *testing.T) {
	e := newEstimator()
	t0 := time.Unix(1000, 0)
	cases := []struct {
		name   string
		chat   *messages.ChatSummary
		ended  bool
		added  bool
		active int
	}{
		{"handled", &messages.ChatSummary{ChatId: "a", State: stateActive, CreatedAtMs: 2}, false, false, 1},
		{"another", &messages.ChatSummary{ChatId: "b", State: stateActive, CreatedAtMs: 1}, false, false, 2},
		{"ends unknown", &messages.ChatSummary{ChatId: "x", State: stateClosed}, true, false, 2},
		{"leaves not closed (transferred)", &messages.ChatSummary{ChatId: "b", State: stateQueued}, true, false, 1},
		{"closes", &messages.ChatSummary{ChatId: "a", State: stateClosed}, true, true, 0},
	}
	for i, c := range cases {
		if c.name == "another" {
			if got := e.chats(); len(got) != 1 {
				t.Fatalf("chats %v", got)
			}
		}
		if got := e.update(c.chat, c.ended, t0.Add(time.Duration(i)*time.Minute)); got != c.added || len(e.active) != c.active {
			t.Fatalf("%s: added %v with %d active, want %v with %d", c.name, got, len(e.active), c.added, c.active)
		}
		if c.name == "another" {
			if got := e.chats(); len(got) != 2 || got[0].GetChatId() != "b" {
				t.Fatalf("chats not oldest first: %v", got)
			}
		}
	}
	if len(e.handled) != 1 || e.handled[0] != 4*time.Minute {
		t.Fatalf("handled %v, want [4m] (since first seen)", e.handled)
	}
}
