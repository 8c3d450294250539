package persistence

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
	"google.golang.org/protobuf/encoding/protojson"
)

func appendStatsSync(t testing.TB, s *Store, evs ...*messages.StatsEvent) {
	t.Helper()
	for _, ev := range evs {
		ch := make(chan error, 1)
		s.AppendStats(ev, func(err error) { ch <- err })
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
}

func activity(at int64, st messages.AgentStatus, chats uint32) *messages.StatsEvent {
	return &messages.StatsEvent{AtMs: at, AgentId: "a1", Kind: &messages.StatsEvent_Agent{Agent: &messages.AgentActivity{
		Status: st, Chats: chats, Limit: 2, Departments: []string{"sales"}}}}
}

// TestStatsProjection: two chats (one answered and rated, one the
// visitor left), a refusal and an agent's day fold into the figures a
// query reads back, by department, by agent and in total; an agent's
// current activity counts up to now.
func TestStatsProjection(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).UnixMilli()
	ev := func(id string, seq uint64, at int64, e *messages.ChatEvent) *messages.ChatEvent {
		e.ChatId, e.Seq, e.AtMs = id, seq, at
		return e
	}
	appendSync(t, s, "c1", []*messages.ChatEvent{
		ev("c1", 1, t0, &messages.ChatEvent{Kind: &messages.ChatEvent_Created{Created: &messages.ChatCreated{VisitorId: "v1", Department: "sales"}}}),
		ev("c1", 2, t0+1000, &messages.ChatEvent{Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{From: visitorP, Text: "hi"}}}),
		ev("c1", 3, t0+30_000, &messages.ChatEvent{Kind: &messages.ChatEvent_Assigned{Assigned: &messages.ChatAssigned{AgentId: "a1"}}}),
		ev("c1", 4, t0+35_000, &messages.ChatEvent{Internal: true, Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{From: agentP, Text: "whisper"}}}),
		ev("c1", 5, t0+40_000, &messages.ChatEvent{Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{From: agentP, Text: "hello"}}}),
		ev("c1", 6, t0+50_000, &messages.ChatEvent{Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{From: agentP, Text: "done"}}}),
		ev("c1", 7, t0+90_000, &messages.ChatEvent{Kind: &messages.ChatEvent_Closed{Closed: &messages.ChatClosed{By: agentP}}}),
		ev("c1", 8, t0+95_000, &messages.ChatEvent{Kind: &messages.ChatEvent_Rated{Rated: &messages.ChatRated{Score: messages.RatingScore_RATING_SCORE_BAD, AgentId: "a1", Department: "sales"}}}),
	}, nil, true)
	appendSync(t, s, "c2", []*messages.ChatEvent{
		ev("c2", 1, t0+60_000, &messages.ChatEvent{Kind: &messages.ChatEvent_Created{Created: &messages.ChatCreated{VisitorId: "v2", Department: "sales"}}}),
		ev("c2", 2, t0+130_000, &messages.ChatEvent{Kind: &messages.ChatEvent_Closed{Closed: &messages.ChatClosed{By: visitorP}}}),
	}, nil, true)
	appendStatsSync(t, s,
		activity(t0, messages.AgentStatus_AGENT_STATUS_AVAILABLE, 0),
		activity(t0+30_000, messages.AgentStatus_AGENT_STATUS_AVAILABLE, 1),
		activity(t0+90_000, messages.AgentStatus_AGENT_STATUS_AVAILABLE, 0),
		activity(t0+20*60_000, messages.AgentStatus_AGENT_STATUS_AWAY, 0),
		&messages.StatsEvent{AtMs: t0 + 5000, Department: "sales", Kind: &messages.StatsEvent_Refused{Refused: messages.RefusalReason_REFUSAL_REASON_QUEUE_FULL}},
	)
	indexAll(t, s)
	// The visitor changes their mind: the later rating replaces the first.
	appendSync(t, s, "c1", []*messages.ChatEvent{
		ev("c1", 9, t0+100_000, &messages.ChatEvent{Kind: &messages.ChatEvent_Rated{Rated: &messages.ChatRated{Score: messages.RatingScore_RATING_SCORE_GOOD, Comment: "<b>thanks</b>", AgentId: "a1", Department: "sales"}}}),
	}, nil, true)
	indexAll(t, s)

	q := &messages.StatsQuery{Dims: []string{messages.StatsDepartment("sales")}, FromMs: t0, ToMs: t0 + 3600_000,
		TimeZone: "UTC", NowMs: t0 + 30*60_000}
	rep, err := s.StatsReport(q)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"requested":3,"refused":{"queue_full":1},"queued":2,"assigned":1,"missed":1,"closed":2,` +
		`"waits":1,"wait_p50_ms":30000,"wait_p90_ms":30000,"wait_max_ms":30000,"answered_within_target":1,"within_target_share":1,` +
		`"first_responses":1,"first_response_p50_ms":10000,"first_response_p90_ms":10000,"handled":1,"handling_p50_ms":60000,"handling_p90_ms":60000,` +
		`"visitor_messages":1,"staff_messages":2,"available_s":1200,"away_s":600,"chats_at_once_avg":0.0333,"chats_at_once_peak":1,"occupancy":0.0167,"rated_good":1,"good_share":1}`
	got := compactJSON(t, protojson.MarshalOptions{UseProtoNames: true}.Format(rep.GetTotal()))
	if got != want {
		t.Fatalf("sales' figures:\n got %s\nwant %s", got, want)
	}
	// The agent's figures in Sales (their only department) are the agent's.
	in, err := s.StatsReport(&messages.StatsQuery{Dims: []string{messages.StatsAgentIn("a1", "sales")}, FromMs: q.FromMs, ToMs: q.ToMs, TimeZone: "UTC", NowMs: q.NowMs})
	if err != nil {
		t.Fatal(err)
	}
	all, _ := s.StatsReport(&messages.StatsQuery{Dims: []string{messages.StatsAgent("a1")}, FromMs: q.FromMs, ToMs: q.ToMs, TimeZone: "UTC", NowMs: q.NowMs})
	if a, b := protojson.Format(in.GetTotal()), protojson.Format(all.GetTotal()); a != b || in.GetTotal().GetAssigned() != 1 {
		t.Fatalf("a1 in sales %s, a1 %s", a, b)
	}
	if len(rep.GetBuckets()) != 1 || rep.GetBuckets()[0].GetStart() != "2026-12-01T10:00:00Z" {
		t.Fatalf("buckets: %v", rep.GetBuckets())
	}
	// The same hours read from the hourly sums, and in a half-hour zone
	// (its edges from the 15-minute buckets): the same figures.
	for _, aq := range []*messages.StatsQuery{
		{Dims: q.Dims, FromMs: t0 - 30*60_000, ToMs: t0 + 3600_000 + 30*60_000, TimeZone: "Asia/Kolkata", NowMs: q.NowMs, Day: true},
		{Dims: q.Dims, FromMs: t0 - 15*60_000, ToMs: t0 + 3600_000, TimeZone: "UTC", NowMs: q.NowMs},
	} {
		rep2, err := s.StatsReport(aq)
		if err != nil {
			t.Fatal(err)
		}
		if alt := compactJSON(t, protojson.MarshalOptions{UseProtoNames: true}.Format(rep2.GetTotal())); alt != got {
			t.Fatalf("%v:\n got %s\nwant %s", aq, alt, got)
		}
	}
	if c := rep.GetComments(); len(c) != 1 || c[0].GetComment() != "<b>thanks</b>" || c[0].GetScore() != messages.RatingScore_RATING_SCORE_GOOD {
		t.Fatalf("comments: %v", c)
	}
	// Deleting the chat (retention) deletes the visitor's comment with the
	// transcript, everywhere it was listed; the counts stay.
	if err := s.DeleteChat("c1"); err != nil {
		t.Fatal(err)
	}
	for _, dim := range []string{messages.StatsEverything, messages.StatsDepartment("sales"), messages.StatsAgent("a1")} {
		q.Dims = []string{dim}
		if rep, err = s.StatsReport(q); err != nil || len(rep.GetComments()) != 0 || rep.GetTotal().GetRatedGood() != 1 {
			t.Fatalf("%s after the chat was deleted: %v %v", dim, rep, err)
		}
	}
}

func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestStatsBucketStarts: hour buckets start on local hours, also across
// Lord Howe Island's half-hour change of offset and Stockholm's clock
// going back (its repeated hour is a bucket of its own); day buckets on
// local midnights.
func TestStatsBucketStarts(t *testing.T) {
	for _, c := range []struct {
		zone     string
		from, to string
		day      bool
		want     int
	}{
		{"Australia/Lord_Howe", "2026-04-04T12:00:00Z", "2026-04-05T12:00:00Z", false, 24},
		{"Australia/Lord_Howe", "2026-10-03T12:00:00Z", "2026-10-04T12:00:00Z", false, 24},
		{"Europe/Stockholm", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", false, 25},
		{"Europe/Stockholm", "2026-10-24T22:00:00Z", "2026-10-26T23:00:00Z", true, 2},
		{"Asia/Kolkata", "2026-12-01T18:30:00Z", "2026-12-02T18:30:00Z", false, 24},
	} {
		loc, _ := time.LoadLocation(c.zone)
		from, _ := time.Parse(time.RFC3339, c.from)
		to, _ := time.Parse(time.RFC3339, c.to)
		starts := bucketStarts(statsQuery{From: from, To: to, Loc: loc, Day: c.day})
		for i, s := range starts {
			_, off := s.Zone()
			_, prev := s.Add(-time.Minute).Zone()
			if s.Minute() != 0 && off == prev || s.Second() != 0 || c.day && s.Hour() != 0 {
				t.Errorf("%s: bucket %d starts at %s", c.zone, i, s)
			}
			if i > 0 && !s.After(starts[i-1]) {
				t.Errorf("%s: bucket %d (%s) not after %s", c.zone, i, s, starts[i-1])
			}
		}
		if len(starts) < c.want-1 || len(starts) > c.want+1 {
			t.Errorf("%s from %s: %d buckets, want about %d: %v", c.zone, c.from, len(starts), c.want, starts)
		}
	}
}
