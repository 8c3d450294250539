package persistence

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/switchboard-chat/switchboard/messages"
)

// A million chats of one department over 30 days, folded through the
// projection's own code (statsRound.chatEvent and statsEvent) as the
// indexer folds them, and stored as it stores them; built once per test
// binary run.
var (
	statsBenchOnce  sync.Once
	statsBenchStore *Store
	statsBenchFrom  int64
)

const (
	statsBenchChats  = 1_000_000
	statsBenchDays   = 30
	statsBenchAgents = 40
)

func statsBenchSetup(b *testing.B) (*Store, int64) {
	statsBenchOnce.Do(func() {
		start := time.Now()
		s, err := Open(b.TempDir(), Options{NoHistory: true})
		if err != nil {
			b.Fatal(err)
		}
		from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
		span := int64(statsBenchDays * 24 * 3600 * 1000)
		err = s.withDB(func(db *pebble.DB) error {
			batch := db.NewBatch()
			defer batch.Close()
			r := newStatsRound(db, batch)
			visitor := &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_VISITOR, Id: "v"}
			for i := range statsBenchChats {
				at := from + int64(i)*span/statsBenchChats
				agent := fmt.Sprintf("agent%02d", i%statsBenchAgents)
				staff := &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_AGENT, Id: agent}
				wait, first, handle := int64(i%97)*1000+300, int64(i%31)*1000+2000, int64(i%601)*1000+60_000
				st := &messages.StatsChatState{}
				for _, ev := range []*messages.ChatEvent{
					{AtMs: at, Kind: &messages.ChatEvent_Created{Created: &messages.ChatCreated{Department: "sales"}}},
					{AtMs: at + 100, Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{From: visitor}}},
					{AtMs: at + wait, Kind: &messages.ChatEvent_Assigned{Assigned: &messages.ChatAssigned{AgentId: agent}}},
					{AtMs: at + wait + first, Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{From: staff}}},
					{AtMs: at + wait + handle, Kind: &messages.ChatEvent_Closed{Closed: &messages.ChatClosed{By: staff}}},
					{AtMs: at + wait + handle + 1000, Kind: &messages.ChatEvent_Rated{Rated: &messages.ChatRated{
						Score: messages.RatingScore(1 + i%2), AgentId: agent, Department: "sales", Comment: map[bool]string{true: "thanks"}[i%10 == 0]}}},
				} {
					ev.ChatId = fmt.Sprint(i)
					r.chatEvent(st, ev)
				}
			}
			for a := range statsBenchAgents {
				for h := int64(0); h < statsBenchDays*24; h += 4 {
					r.statsEvent(&messages.StatsEvent{AtMs: from + h*3600_000, AgentId: fmt.Sprintf("agent%02d", a), Kind: &messages.StatsEvent_Agent{
						Agent: &messages.AgentActivity{Status: messages.AgentStatus(h / 4 % 4), Chats: uint32(h % 3), Limit: 3, Departments: []string{"sales"}}}})
				}
			}
			if err := r.flush(); err != nil {
				return err
			}
			return batch.Commit(pebble.Sync)
		})
		if err != nil {
			b.Fatal(err)
		}
		statsBenchStore, statsBenchFrom = s, from
		b.Logf("folded %d chats of 30 days in %s", statsBenchChats, time.Since(start).Round(time.Millisecond))
	})
	return statsBenchStore, statsBenchFrom
}

// BenchmarkStatsQuery30Days: the figures of a department with a million
// chats over 30 days (2,880 buckets of 15 minutes), by day and by hour,
// in a time zone; the target is under 20 ms a query.
func BenchmarkStatsQuery30Days(b *testing.B) {
	s, from := statsBenchSetup(b)
	for _, c := range []struct {
		name, dim, zone string
		day             bool
	}{{"department/day", messages.StatsDepartment("sales"), "Europe/Stockholm", true},
		{"department/hour", messages.StatsDepartment("sales"), "Europe/Stockholm", false},
		{"department/day/half-hour-zone", messages.StatsDepartment("sales"), "Asia/Kolkata", true},
		{"agent/day", messages.StatsAgent("agent07"), "Europe/Stockholm", true}} {
		b.Run(c.name, func(b *testing.B) {
			loc, _ := time.LoadLocation(c.zone)
			_, off := time.UnixMilli(from).In(loc).Zone()
			start := from - int64(off)*1000 // local midnight
			q := &messages.StatsQuery{Dims: []string{c.dim}, FromMs: start, ToMs: start + statsBenchDays*24*3600_000,
				TimeZone: c.zone, Day: c.day, NowMs: start + statsBenchDays*24*3600_000}
			var rep *messages.StatsReport
			for b.Loop() {
				var err error
				if rep, err = s.StatsReport(q); err != nil {
					b.Fatal(err)
				}
			}
			if c.dim == messages.StatsDepartment("sales") && rep.GetTotal().GetRequested() < statsBenchChats*9/10 {
				b.Fatalf("requested %d, want %d", rep.GetTotal().GetRequested(), statsBenchChats)
			}
		})
	}
}
