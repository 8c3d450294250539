package persistence

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

var (
	visitorP = &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_VISITOR, Id: "v1"}
	agentP   = &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_AGENT, Id: "a1", DisplayName: "Ann"}
)

// storyChat is a chat's events: created in dep at startMs by visitor,
// the visitor's text, taken by agent a1, a whisper, closed.
func storyChat(id, dep, visitor string, startMs int64, text, whisper string) []*messages.ChatEvent {
	at := func(seq uint64, ev *messages.ChatEvent) *messages.ChatEvent {
		ev.ChatId, ev.Seq, ev.AtMs = id, seq, startMs+int64(seq)
		return ev
	}
	return []*messages.ChatEvent{
		at(1, &messages.ChatEvent{Kind: &messages.ChatEvent_Created{Created: &messages.ChatCreated{VisitorId: visitor, Department: dep}}}),
		at(2, &messages.ChatEvent{Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{From: visitorP, Text: text}}}),
		at(3, &messages.ChatEvent{Kind: &messages.ChatEvent_Assigned{Assigned: &messages.ChatAssigned{AgentId: "a1", AgentName: "Ann"}}}),
		at(4, &messages.ChatEvent{Internal: true, Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{From: agentP, Text: whisper}}}),
		at(5, &messages.ChatEvent{Kind: &messages.ChatEvent_Closed{Closed: &messages.ChatClosed{By: agentP}}}),
	}
}

// indexAll indexes the whole feed now.
func indexAll(t testing.TB, s *Store) {
	t.Helper()
	for {
		n, err := s.IndexFeed(indexBatch)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func search(t *testing.T, s *Store, q *messages.ChatHistoryQuery) ([]string, string) {
	t.Helper()
	page, err := s.SearchChats(q, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range page.GetChats() {
		ids = append(ids, e.GetChatId())
	}
	return ids, page.GetNextCursor()
}

func TestHistoryIndexSearchAndDelete(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	appendSync(t, s, "c1", storyChat("c1", "sales", "v1", 1000, "My invoice is wrong", "refund it quietly"), nil, true)
	appendSync(t, s, "c2", storyChat("c2", "support", "v2", 2000, "The printer is on fire", "call the firemen"), nil, true)
	appendSync(t, s, "c3", storyChat("c3", "sales", "v1", 3000, "Another invoice please", "ok"), nil, true)
	tag := &messages.ChatEvent{ChatId: "c3", Seq: 6, Internal: true, Kind: &messages.ChatEvent_Tagged{Tagged: &messages.ChatTagged{Tag: "billing"}}}
	rate := &messages.ChatEvent{ChatId: "c3", Seq: 7, Kind: &messages.ChatEvent_Rated{Rated: &messages.ChatRated{Score: messages.RatingScore_RATING_SCORE_BAD, Comment: "Slow"}}}
	appendSync(t, s, "c3", []*messages.ChatEvent{tag, rate}, nil, false)
	indexAll(t, s)

	for _, tc := range []struct {
		name string
		q    *messages.ChatHistoryQuery
		want []string
	}{
		{"all, newest first", &messages.ChatHistoryQuery{}, []string{"c3", "c2", "c1"}},
		{"word", &messages.ChatHistoryQuery{All: []string{messages.HistoryWord("invoice")}}, []string{"c3", "c1"}},
		{"two words", &messages.ChatHistoryQuery{All: []string{messages.HistoryWord("invoice"), messages.HistoryWord("wrong")}}, []string{"c1"}},
		{"whisper word", &messages.ChatHistoryQuery{All: []string{messages.HistoryWord("refund")}}, []string{"c1"}},
		{"department", &messages.ChatHistoryQuery{All: []string{messages.HistoryDepartment("support")}}, []string{"c2"}},
		{"visitor", &messages.ChatHistoryQuery{All: []string{messages.HistoryVisitor("v1")}}, []string{"c3", "c1"}},
		{"tag", &messages.ChatHistoryQuery{All: []string{messages.HistoryTag("billing")}}, []string{"c3"}},
		{"rating", &messages.ChatHistoryQuery{All: []string{messages.HistoryRating(messages.RatingScore_RATING_SCORE_BAD)}}, []string{"c3"}},
		{"comment", &messages.ChatHistoryQuery{All: []string{messages.HistoryWord("slow")}}, []string{"c3"}},
		{"state", &messages.ChatHistoryQuery{All: []string{messages.HistoryState(messages.ChatState_CHAT_STATE_CLOSED)}}, []string{"c3", "c2", "c1"}},
		{"period", &messages.ChatHistoryQuery{FromMs: 1500, ToMs: 3000}, []string{"c2"}},
		{"scope", &messages.ChatHistoryQuery{Any: []string{messages.HistoryDepartment("support"), messages.HistoryAgent("nobody")}}, []string{"c2"}},
		{"scope and word", &messages.ChatHistoryQuery{All: []string{messages.HistoryWord("invoice")}, Any: []string{messages.HistoryDepartment("support")}}, nil},
		{"no such word", &messages.ChatHistoryQuery{All: []string{messages.HistoryWord("zebra")}}, nil},
	} {
		if got, _ := search(t, s, tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}

	// Paging: one at a time, the cursor goes on where the page ended.
	var got []string
	cursor := ""
	for range 5 {
		ids, next := search(t, s, &messages.ChatHistoryQuery{Limit: 1, Cursor: cursor})
		got = append(got, ids...)
		if cursor = next; cursor == "" {
			break
		}
	}
	if !slices.Equal(got, []string{"c3", "c2", "c1"}) {
		t.Fatalf("pages = %v", got)
	}
	if _, err := s.SearchChats(&messages.ChatHistoryQuery{Cursor: "!!"}, nil); err == nil {
		t.Fatal("a bad cursor was accepted")
	}

	// Untagging removes the tag's posting.
	appendSync(t, s, "c3", []*messages.ChatEvent{{ChatId: "c3", Seq: 8, Internal: true, Kind: &messages.ChatEvent_Tagged{Tagged: &messages.ChatTagged{Tag: "billing", Removed: true}}}}, nil, false)
	indexAll(t, s)
	if ids, _ := search(t, s, &messages.ChatHistoryQuery{All: []string{messages.HistoryTag("billing")}}); len(ids) != 0 {
		t.Fatalf("untagged chat still found by its tag: %v", ids)
	}

	// DeleteChat leaves nothing of the chat.
	if err := s.DeleteChat("c1"); err != nil {
		t.Fatal(err)
	}
	if evs, _ := s.ChatEvents("c1", 0); len(evs) != 0 {
		t.Fatalf("events left: %v", evs)
	}
	s.scan([]byte(prefixHist), func(k, v []byte) error {
		if strings.HasSuffix(string(k), "c1") {
			t.Errorf("index key left: %q", k)
		}
		return nil
	})
	if ids, _ := search(t, s, &messages.ChatHistoryQuery{}); !slices.Equal(ids, []string{"c3", "c2"}) {
		t.Fatalf("after delete: %v", ids)
	}

	// A dropped index is rebuilt from the logs at the next start.
	if err := s.DropHistory(); err != nil {
		t.Fatal(err)
	}
	if ids, _ := search(t, s, &messages.ChatHistoryQuery{}); len(ids) != 0 {
		t.Fatalf("dropped index still answers: %v", ids)
	}
	if err := s.rebuildIfNeeded(); err != nil {
		t.Fatal(err)
	}
	if ids, _ := search(t, s, &messages.ChatHistoryQuery{All: []string{messages.HistoryWord("printer")}}); !slices.Equal(ids, []string{"c2"}) {
		t.Fatalf("after rebuild: %v", ids)
	}
}

// BenchmarkSearchChats searches 100,000 stored chats (five events each,
// written through AppendChat and indexed by the indexer): a rare word, a
// common word in one department, two words, and an agent's scope.
func BenchmarkSearchChats(b *testing.B) {
	const chats = 100_000
	s := openTest(b, b.TempDir())
	defer s.Close()
	var wg sync.WaitGroup
	for i := range chats {
		id := fmt.Sprintf("c%06d", i)
		text := fmt.Sprintf("hello I need help with order %d about word%d and topic%d", i, i%1000, i%37)
		wg.Add(1)
		s.AppendChat(id, storyChat(id, fmt.Sprintf("dep%d", i%10), fmt.Sprintf("v%d", i), int64(1_000_000+i), text, "internal note"), nil, true, func(err error) {
			if err != nil {
				b.Error(err)
			}
			wg.Done()
		})
	}
	wg.Wait()
	indexAll(b, s)
	for _, tc := range []struct {
		name string
		q    *messages.ChatHistoryQuery
	}{
		{"rare-word", &messages.ChatHistoryQuery{All: []string{messages.HistoryWord("word123")}}},
		{"common-word+department", &messages.ChatHistoryQuery{All: []string{messages.HistoryWord("help"), messages.HistoryDepartment("dep3")}}},
		{"two-words", &messages.ChatHistoryQuery{All: []string{messages.HistoryWord("word7"), messages.HistoryWord("topic7")}}},
		{"scope+word", &messages.ChatHistoryQuery{All: []string{messages.HistoryWord("topic5")}, Any: []string{messages.HistoryDepartment("dep1"), messages.HistoryDepartment("dep2"), messages.HistoryAgent("a9")}}},
		{"no-match", &messages.ChatHistoryQuery{All: []string{messages.HistoryWord("word1"), messages.HistoryWord("topic2")}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				page, err := s.SearchChats(tc.q, nil)
				if err != nil {
					b.Fatal(err)
				}
				n = len(page.GetChats())
			}
			b.ReportMetric(float64(n), "chats/page")
		})
	}
}
