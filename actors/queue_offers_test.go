package actors

import (
	"testing"
	"time"
)

func TestDeclineCooldown(t *testing.T) {
	t0 := time.Unix(1000, 0)
	w := &waiting{declined: map[string]time.Time{"a": t0}}
	cases := []struct {
		name  string
		agent string
		at    time.Duration
		want  bool
	}{
		{"just declined", "a", 0, true},
		{"still cooling", "a", declineCooldown - time.Millisecond, true},
		{"cooled down", "a", declineCooldown, false},
		{"never declined", "b", 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := w.cooling(c.agent, t0.Add(c.at)); got != c.want {
				t.Fatalf("cooling = %v, want %v", got, c.want)
			}
		})
	}
	if got := w.cooledAt("a"); !got.Equal(t0.Add(declineCooldown)) {
		t.Fatalf("cooledAt %v", got)
	}
}
