package actors

import (
	"math/rand/v2"
	"testing"
)

// The mailbox's queue keeps order through its resets and compactions.
func TestFifoOrder(t *testing.T) {
	var q fifo
	var want []int
	r := rand.New(rand.NewPCG(1, 2))
	next := 0
	for step := 0; step < 100000; step++ {
		if r.IntN(3) > 0 || len(want) == 0 && r.IntN(2) == 0 {
			q.push(next)
			want = append(want, next)
			next++
			continue
		}
		got := q.pop()
		if len(want) == 0 {
			if got != nil {
				t.Fatalf("step %d: pop of an empty queue gave %v", step, got)
			}
			continue
		}
		if got != want[0] {
			t.Fatalf("step %d: pop gave %v, want %d", step, got, want[0])
		}
		want = want[1:]
		if q.len() != len(want) {
			t.Fatalf("step %d: len %d, want %d", step, q.len(), len(want))
		}
	}
}
