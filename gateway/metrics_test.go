package gateway

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboard-chat/switchboard/messages"
)

// perFrame is what the reader and the writer do for metrics per frame: a
// frame in, a message event out (with its delivery latency) and an error
// out.
func perFrame(m *Metrics, in, ev, fail *messages.Envelope, now func() time.Time) {
	m.frameIn(in)
	m.frameIn(nil)
	m.frameOut(ev, true, now)
	m.frameOut(fail, true, now)
}

func perFrameEnvelopes() (in, ev, fail *messages.Envelope) {
	in = &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: "c1", Text: "hi"}}}
	ev = &messages.Envelope{Body: &messages.Envelope_Event{Event: &messages.ChatEvent{ChatId: "c1", Seq: 3, AtMs: 1_800_000_000_000,
		Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{Text: "hi"}}}}}
	fail = &messages.Envelope{Body: &messages.Envelope_Error{Error: &messages.Error{Code: messages.ErrorCode_ERROR_CODE_RATE_LIMITED}}}
	return in, ev, fail
}

// TestMetricsPerFrameNoAllocation: counting frames, errors and delivery
// latency allocates nothing (every label value is bound in NewMetrics),
// and nil Metrics (off) neither.
func TestMetricsPerFrameNoAllocation(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	in, ev, fail := perFrameEnvelopes()
	now := func() time.Time { return time.UnixMilli(1_800_000_000_250) }
	for _, met := range []*Metrics{m, nil} {
		if n := testing.AllocsPerRun(1000, func() { perFrame(met, in, ev, fail, now) }); n != 0 {
			t.Errorf("metrics on=%v: %v allocations per frame, want 0", met != nil, n)
		}
	}
	perFrame(m, in, ev, fail, now) // AllocsPerRun ran it 1001 times: a warm-up and 1000
	for _, c := range []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.framesIn[12], 1002}, {m.framesIn[0], 1002}, {m.framesOut[43], 1002},
		{m.errors[messages.ErrorCode_ERROR_CODE_RATE_LIMITED], 1002},
	} {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("counter = %v, want %v", got, c.want)
		}
	}
	if n := testutil.CollectAndCount(reg, "switchboard_message_delivery_seconds"); n != 1 {
		t.Fatalf("delivery histogram: %d series", n)
	}
}

// TestMetricsLabels: every Envelope body has its frame counters, every
// ErrorCode its error counter, under the names the spec gives.
func TestMetricsLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	fields := envelopeBody.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if m.framesIn[fd.Number()] == nil || m.framesOut[fd.Number()] == nil {
			t.Errorf("no frame counter for %s", fd.Name())
		}
	}
	want := map[string]bool{"send_message": false, "hello": false, "event": false, "bad": false}
	errs := map[string]bool{"rate_limited": false, "unauthenticated": false, "other": false}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				switch {
				case f.GetName() == "switchboard_frames_in_total":
					if _, ok := want[l.GetValue()]; ok {
						want[l.GetValue()] = true
					}
				case f.GetName() == "switchboard_errors_sent_total":
					if _, ok := errs[l.GetValue()]; ok {
						errs[l.GetValue()] = true
					}
				}
			}
		}
	}
	for k, ok := range want {
		if !ok {
			t.Errorf("switchboard_frames_in_total has no kind %q", k)
		}
	}
	for k, ok := range errs {
		if !ok {
			t.Errorf("switchboard_errors_sent_total has no code %q", k)
		}
	}
}

// BenchmarkMetricsPerFrame is the per-frame cost of metrics, on and off.
func BenchmarkMetricsPerFrame(b *testing.B) {
	in, ev, fail := perFrameEnvelopes()
	now := func() time.Time { return time.UnixMilli(1_800_000_000_250) }
	for _, bc := range []struct {
		name string
		m    *Metrics
	}{{"on", NewMetrics(prometheus.NewRegistry())}, {"off", nil}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				perFrame(bc.m, in, ev, fail, now)
			}
		})
	}
}
