package actors

import (
	"math/rand/v2"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
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

// A message posted before the mailbox has its handlers (a sender found
// the process as Proto.Actor registered it) is kept, not run on a nil
// dispatcher: it runs after Started, which the handlers' arrival brings.
func TestMailboxPostBeforeHandlers(t *testing.T) {
	m := newMailbox(nil)
	m.PostUserMessage("early")
	inv := &recordingInvoker{}
	m.RegisterHandlers(inv, inlineDispatcher{})
	m.PostSystemMessage(&actor.Started{})
	m.PostUserMessage("late")
	if len(inv.got) != 3 || inv.got[0] != "started" || inv.got[1] != "early" || inv.got[2] != "late" {
		t.Fatalf("ran %v, want started, early, late", inv.got)
	}
}

// recordingInvoker records what a mailbox runs.
type recordingInvoker struct{ got []string }

func (r *recordingInvoker) InvokeSystemMessage(m interface{}) {
	if _, ok := m.(*actor.Started); ok {
		r.got = append(r.got, "started")
	}
}
func (r *recordingInvoker) InvokeUserMessage(m interface{}) { r.got = append(r.got, m.(string)) }
func (r *recordingInvoker) EscalateFailure(reason interface{}, m interface{}) {
	panic(reason)
}

// inlineDispatcher runs a mailbox on the caller's goroutine.
type inlineDispatcher struct{}

func (inlineDispatcher) Schedule(fn func()) { fn() }
func (inlineDispatcher) Throughput() int    { return 300 }

// A retired mailbox returns what it never ran and forwards every later
// user message, a batch whole (not its messages and then the batch again).
func TestMailboxHandOn(t *testing.T) {
	m := newMailbox([]interface{}{"carried"})
	m.PostUserMessage("queued")
	var fwd []interface{}
	left := m.handOn(func(msg interface{}) { fwd = append(fwd, msg) })
	if len(left) != 2 || left[0] != "carried" || left[1] != "queued" {
		t.Fatalf("handed on %v, want carried, queued", left)
	}
	m.PostUserMessage("late")
	batch := testBatch{"x", "y"}
	m.PostUserMessage(batch)
	m.PostSystemMessage(&actor.Started{})
	if len(fwd) != 2 || fwd[0] != "late" {
		t.Fatalf("forwarded %v, want late and the batch", fwd)
	}
	if _, whole := fwd[1].(testBatch); !whole {
		t.Fatalf("forwarded %v, want late and the batch", fwd)
	}
	if n := m.UserMessageCount(); n != 0 {
		t.Errorf("%d user messages queued after the hand-on", n)
	}
}

// testBatch is an actor.MessageBatch.
type testBatch []interface{}

func (b testBatch) GetMessages() []interface{} { return b }
