package actors

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-chat/switchboard/messages"
)

// Each stage is the time from the frame's read to now, in seconds, under
// its own label; an untimed message (read 0) is not observed, a clock
// that stepped back observes 0, and a second NewStages on the same
// registry (the gateway's) shares the series.
func TestStagesObserve(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, again := NewStages(reg), NewStages(reg)
	read := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.Observe(StageQueued, read.UnixNano(), read.Add(250*time.Microsecond))
	s.Observe(StageStored, read.UnixNano(), read.Add(3*time.Millisecond))
	s.Observe(StageFannedOut, read.UnixNano(), read.Add(3500*time.Microsecond))
	again.Observe(StageWritten, read.UnixNano(), read.Add(5*time.Millisecond))
	again.Observe(StageWritten, read.UnixNano(), read.Add(-time.Second)) // the clock stepped back
	s.Observe(StageQueued, 0, read)                                      // not timed
	(*Stages)(nil).Observe(StageQueued, read.UnixNano(), read)           // off
	for _, c := range []struct {
		stage string
		n     float64
		sum   float64
	}{{"queued", 1, 0.00025}, {"stored", 1, 0.003}, {"fanned_out", 1, 0.0035}, {"written", 2, 0.005}} {
		if n := value(t, reg, "switchboard_message_stage_seconds", "stage", c.stage); n != c.n {
			t.Errorf("stage %s: %v observations, want %v", c.stage, n, c.n)
		}
		if got := sum(t, reg, "switchboard_message_stage_seconds", "stage", c.stage); got < c.sum-1e-9 || got > c.sum+1e-9 {
			t.Errorf("stage %s: sum %v, want %v", c.stage, got, c.sum)
		}
	}
	// Off, the chat's hooks allocate nothing.
	h := newHarness(t)
	c := &chat{b: h.b, inflight: []*pending{{}}}
	w := &pending{first: 1, last: 0}
	if n := testing.AllocsPerRun(1000, func() {
		c.timeWrite(read.UnixNano())
		_ = c.fanoutTimed(w, nil)
	}); n != 0 {
		t.Errorf("metrics off: %v allocations a run, want 0", n)
	}
}

// A timed message through a real chat actor, its participants' actors
// real too: the chat observes queued, stored and fanned_out from the read
// time the command carries, and both sides' connections get the event
// with that read time, for the gateway's written stage. An untimed
// message moves no stage and reaches the connections as a plain envelope.
func TestStagesThroughChat(t *testing.T) {
	h, _, reg := newMetricsHarness(t, allKinds...)
	metricsSeed(h)
	a1, chatID := offered(t, h)
	h.send(KindAgent, "a1", &messages.SessionCommand{Conn: a1, Ref: 3, Body: &messages.SessionCommand_AcceptOffer{
		AcceptOffer: &messages.AcceptOffer{ChatId: chatID}}}, nil)
	h.take()

	stage := func(s string) float64 { return value(t, reg, "switchboard_message_stage_seconds", "stage", s) }
	agent := &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_AGENT, Id: "a1", DisplayName: "Alice"}
	read := h.b.Now().Add(-3 * time.Millisecond).UnixNano() // the fake clock stands still meanwhile
	h.send(KindChat, chatID, &messages.ChatCommand{ChatId: chatID, From: agent, Conn: a1, Ref: 4, ReadUnixNano: read,
		Body: &messages.ChatCommand_Send{Send: &messages.SendMessage{ClientMsgId: "m1", Text: "Hi Vera"}}}, nil)
	for _, s := range []string{"queued", "stored", "fanned_out"} {
		if n, sec := stage(s), sum(t, reg, "switchboard_message_stage_seconds", "stage", s); n != 1 || sec < 0.003-1e-9 || sec > 0.003+1e-9 {
			t.Errorf("stage %s: %v observations, %v s; want 1, 0.003 s", s, n, sec)
		}
	}
	if n := stage("written"); n != 0 {
		t.Errorf("the chat observed written (%v): the gateway's", n)
	}
	timed := map[string]bool{}
	for _, d := range h.take() {
		if te, ok := d.msg.(*messages.TracedEnvelope); ok && te.GetEnvelope().GetEvent().GetMessage().GetText() == "Hi Vera" {
			timed[d.to] = te.GetReadUnixNano() == read && te.GetTrace() == nil
		}
	}
	if !timed["conn/a1"] || !timed["conn/v1"] {
		t.Errorf("connections given the timed event: %v, want conn/a1 and conn/v1", timed)
	}

	h.send(KindChat, chatID, &messages.ChatCommand{ChatId: chatID, From: agent, Conn: a1, Ref: 5,
		Body: &messages.ChatCommand_Send{Send: &messages.SendMessage{ClientMsgId: "m2", Text: "Untimed"}}}, nil)
	if n := stage("queued"); n != 1 {
		t.Errorf("an untimed message was timed: queued %v", n)
	}
	for _, d := range h.take() {
		if _, ok := d.msg.(*messages.TracedEnvelope); ok {
			t.Errorf("%s got a TracedEnvelope for an untimed message", d.to)
		}
	}
}
