package actors

import (
	"testing"
	"time"
)

func TestViewThrottle(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type step struct {
		do   string // "change", "flush", "watch", "unwatch"
		ms   int
		push bool
		wait time.Duration
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"nobody watching: nothing", []step{{"unwatch", 0, false, 0}, {"change", 0, false, 0}}},
		{"a new watcher gets a view at once", []step{{"watch", 0, false, 0}, {"change", 10, true, 0}}},
		{"changes within viewEvery wait for the timer", []step{
			{"watch", 0, false, 0}, {"change", 0, true, 0},
			{"change", 100, false, viewEvery - 100*time.Millisecond},
			{"change", 200, false, 0}, // armed already
			{"flush", 250, true, 0},
		}},
		{"a timer with nothing new pushes nothing", []step{
			{"watch", 0, false, 0}, {"change", 0, true, 0},
			{"change", 100, false, viewEvery - 100*time.Millisecond},
			{"flush", 250, true, 0},
			{"flush", 600, false, 0},
		}},
		{"after viewEvery a change goes at once", []step{
			{"watch", 0, false, 0}, {"change", 0, true, 0}, {"change", 300, true, 0},
		}},
		{"a watcher who joins resets the throttle", []step{
			{"watch", 0, false, 0}, {"change", 0, true, 0}, {"watch", 10, false, 0}, {"change", 20, true, 0},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newViewThrottle()
			for i, s := range c.steps {
				var push bool
				var wait time.Duration
				switch s.do {
				case "watch":
					v.watch("a"+string(rune('0'+i)), true)
				case "unwatch":
					v.watch("a", false)
				case "change":
					push, wait = v.changed(at(s.ms))
				case "flush":
					push = v.flush()
				}
				if push {
					v.pushed(at(s.ms))
				}
				if push != s.push || wait != s.wait {
					t.Fatalf("step %d (%s at %d ms): push %v wait %v, want %v %v", i, s.do, s.ms, push, wait, s.push, s.wait)
				}
			}
		})
	}
}
