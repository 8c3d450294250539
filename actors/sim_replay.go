package actors

import (
	"fmt"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// Replay check (switchboard simulate -check): each department's journal
// entries are fed, in order, through the same queue code on a simHost
// whose clock is the entry's and which schedules nothing (the recorded
// expiries and retries are entries of their own). A settings entry of a
// restart starts a fresh queue. The decisions made must be the recorded
// ones: the same kinds, chats and agents, in the same order, at the same
// times.

// Replayer checks journal entries one by one (Feed); ReplayCheck runs
// one over a whole journal.
type Replayer struct {
	queues map[string]*replayQueue
	// Inputs and Decisions count the entries fed and the decisions
	// reproduced. Skipped counts the entries (and SkippedDecisions their
	// decisions) of a department before its queue's first start in the
	// journal: retention deleted what built its state, so they cannot be
	// replayed.
	Inputs, Decisions         int
	Skipped, SkippedDecisions int
}

type replayQueue struct {
	q *queue
	h *simHost
}

// ReplayDiff is the first entry whose decisions differ.
type ReplayDiff struct {
	N          uint64 // the entry's number in the journal
	Department string
	AtNs       int64
	Input      string // the input's kind (admit, report, reply, ...)
	// Recorded and Replayed are the decisions, each "KIND chat agent".
	Recorded, Replayed []string
}

func (d *ReplayDiff) Error() string {
	return fmt.Sprintf("journal entry %d (%s in department %q at %s): recorded [%s], replayed [%s]", d.N, d.Input, d.Department,
		time.Unix(0, d.AtNs).UTC().Format(time.RFC3339Nano), strings.Join(d.Recorded, "; "), strings.Join(d.Replayed, "; "))
}

// ReplayResult is a check's outcome: Diff nil when every decision was
// reproduced (Replayer's counts).
type ReplayResult struct {
	Inputs, Decisions, Skipped, SkippedDecisions int
	Diff                                         *ReplayDiff
}

// NewReplayer is a Replayer with no queue yet.
func NewReplayer() *Replayer { return &Replayer{queues: map[string]*replayQueue{}} }

// Feed replays one entry (which the queue may change: an admission gets
// its ticket) and returns how its decisions differ from the recorded
// ones, or nil.
func (r *Replayer) Feed(n uint64, in *messages.RoutingInput) *ReplayDiff {
	r.Inputs++
	rq, msg := r.queues[in.GetDepartment()], inputMessage(in)
	if rq == nil && !in.GetSettings().GetStarted() {
		r.Skipped++
		r.SkippedDecisions += len(in.GetDecisions())
		return nil
	}
	if s := in.GetSettings(); s != nil {
		if s.GetStarted() {
			h := &simHost{}
			rq = &replayQueue{q: newSimQueue(in.GetDepartment(), h), h: h}
			r.queues[in.GetDepartment()] = rq
			msg = &actor.Started{}
		} else {
			msg = &messages.DirectoryChanged{}
		}
		rq.h.dept, rq.h.lpa = s.GetDepartment(), int(s.GetLinePerAddress())
	}
	var got []*messages.RoutingDecision
	if msg != nil {
		rq.h.now = time.Unix(0, in.GetAtNs())
		rq.h.col.last = nil
		rq.q.handle(msg)
		got = rq.h.col.last.GetDecisions()
	}
	want := in.GetDecisions()
	if !sameDecisions(want, got) {
		return &ReplayDiff{N: n, Department: in.GetDepartment(), AtNs: in.GetAtNs(), Input: InputKind(in),
			Recorded: decisionWords(want), Replayed: decisionWords(got)}
	}
	r.Decisions += len(want)
	return nil
}

// ReplayCheck replays a journal (each calls fn with its entries in order
// until fn returns false) and stops at the first difference.
func ReplayCheck(each func(fn func(n uint64, in *messages.RoutingInput) bool) error) (ReplayResult, error) {
	r := NewReplayer()
	var diff *ReplayDiff
	err := each(func(n uint64, in *messages.RoutingInput) bool {
		diff = r.Feed(n, in)
		return diff == nil
	})
	return ReplayResult{Inputs: r.Inputs, Decisions: r.Decisions, Skipped: r.Skipped, SkippedDecisions: r.SkippedDecisions, Diff: diff}, err
}

func sameDecisions(a, b []*messages.RoutingDecision) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].GetKind() != b[i].GetKind() || a[i].GetChatId() != b[i].GetChatId() || a[i].GetAgentId() != b[i].GetAgentId() {
			return false
		}
	}
	return true
}

func decisionWords(ds []*messages.RoutingDecision) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		w := DecisionKindName(d.GetKind()) + " " + d.GetChatId()
		if d.GetAgentId() != "" {
			w += " " + d.GetAgentId()
		}
		out = append(out, w)
	}
	return out
}

// DecisionKindName is a decision kind without its prefix, lower case
// ("assigned").
func DecisionKindName(k messages.RoutingDecisionKind) string {
	return strings.ToLower(strings.TrimPrefix(k.String(), "ROUTING_DECISION_KIND_"))
}

// InputKind names a journal entry's input (its oneof field: "admit",
// "settings", "report", ...).
func InputKind(in *messages.RoutingInput) string {
	if o := in.ProtoReflect().WhichOneof(in.ProtoReflect().Descriptor().Oneofs().ByName("input")); o != nil {
		return string(o.Name())
	}
	return "none"
}
