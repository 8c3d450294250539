package actors

// The latency breakdown of a chat message under load
// (switchboard_message_stage_seconds): from the gateway reading its frame
// to each stage of its way, so a load tester sees which stage makes the
// p99. The read time travels with the message (ChatCommand's, then
// TracedEvent's and TracedEnvelope's read_unix_nano), never through a
// shared table; the chat actor observes queued, stored and fanned_out,
// the connection's writer written. Off (no metrics), the gateway stamps
// nothing and every call here is a nil or zero check.

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-chat/switchboard/messages"
)

// Stage is a point on a message's way; each is timed from the gateway's
// read of the frame.
type Stage int

// The stages, in the order a message passes them.
const (
	// StageQueued: the chat actor took the command and submitted the
	// write (the gateway's decoding, the visitor actor's hop for a
	// visitor, and the mailboxes' queues before it).
	StageQueued Stage = iota
	// StageStored: the write is durable (fsync done) and its
	// acknowledgement is back in the chat actor.
	StageStored
	// StageFannedOut: the chat actor has handed the event to every
	// participant's actor.
	StageFannedOut
	// StageWritten: one socket's write of the event completed (the other
	// side's and the sender's own copy: one per socket).
	StageWritten
	stageCount
)

var stageNames = [stageCount]string{"queued", "stored", "fanned_out", "written"}

// stageBuckets: a factor of 2 apart, 25 µs to 3.3 s: under load a stage
// takes tens of microseconds to hundreds of milliseconds.
var stageBuckets = prometheus.ExponentialBuckets(25e-6, 2, 18)

// Stages is switchboard_message_stage_seconds, bound by stage. A nil
// *Stages is off.
type Stages struct {
	by [stageCount]prometheus.Observer
}

// NewStages binds switchboard_message_stage_seconds on reg, registering
// it unless it is already (the actors' and the gateway's metrics share
// it, whichever comes first registers it).
func NewStages(reg prometheus.Registerer) *Stages {
	vec := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "switchboard_message_stage_seconds",
		Help: "A chat message's time from the gateway reading its frame to each stage: queued (the chat actor took it), " +
			"stored (durable, back in the chat actor), fanned_out (handed to the participants' actors), written (one socket's write done).",
		Buckets: stageBuckets}, []string{"stage"})
	if err := reg.Register(vec); err != nil {
		are, ok := err.(prometheus.AlreadyRegisteredError)
		if !ok {
			panic(err) // a name clash: a programming error, as MustRegister would
		}
		vec = are.ExistingCollector.(*prometheus.HistogramVec)
	}
	s := &Stages{}
	for i, n := range stageNames {
		s.by[i] = vec.WithLabelValues(n)
	}
	return s
}

// Observe records that a message whose frame was read at read (Unix
// nanoseconds; 0: not timed) reached stage st at now. A clock that
// stepped back counts as 0.
func (s *Stages) Observe(st Stage, read int64, now time.Time) {
	if s == nil || read == 0 {
		return
	}
	s.by[st].Observe(float64(max(now.UnixNano()-read, 0)) / 1e9)
}

// stages is the chat actor's Stages (nil: metrics off).
func (m *Metrics) stageTimes() *Stages {
	if m == nil {
		return nil
	}
	return m.stages
}

// timeWrite marks the write just submitted as a timed message's, read by
// the gateway at read, and observes its queued stage.
func (c *chat) timeWrite(read int64) {
	st := c.b.metrics.stageTimes()
	if st == nil || read == 0 || len(c.inflight) == 0 {
		return
	}
	w := c.inflight[len(c.inflight)-1]
	w.read = read
	st.Observe(StageQueued, read, w.at)
}

// fanoutTimed sends a durable write's events to the participants and
// observes its stored and fanned_out stages (when timed); it returns when
// the write came back (zero when metrics are off), for the other metrics.
func (c *chat) fanoutTimed(w *pending, tc *messages.TraceContext) time.Time {
	var back time.Time
	st := c.b.metrics.stageTimes()
	if st != nil {
		back = c.b.clock.Now()
		st.Observe(StageStored, w.read, back)
	}
	for seq := w.first; seq <= w.last; seq++ {
		c.fanout(c.event(seq), tc, w.read)
	}
	if st != nil && w.read != 0 {
		st.Observe(StageFannedOut, w.read, c.b.clock.Now())
	}
	return back
}
