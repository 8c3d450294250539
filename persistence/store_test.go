package persistence

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence/faultfs"
)

func openTest(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func msgEvent(chat string, seq uint64, text string) *messages.ChatEvent {
	return &messages.ChatEvent{ChatId: chat, Seq: seq, Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{Text: text}}}
}

func appendSync(t testing.TB, s *Store, chat string, evs []*messages.ChatEvent, open *messages.OpenChat, closed bool) {
	t.Helper()
	ch := make(chan error, 1)
	s.AppendChat(chat, evs, open, closed, func(err error) { ch <- err })
	if err := <-ch; err != nil {
		t.Fatal(err)
	}
}

func TestAppendSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	appendSync(t, s, "c1", []*messages.ChatEvent{msgEvent("c1", 1, "a"), msgEvent("c1", 2, "b")},
		&messages.OpenChat{ChatId: "c1", Department: "sales", Ticket: 7}, false)
	appendSync(t, s, "c10", []*messages.ChatEvent{msgEvent("c10", 1, "other")}, &messages.OpenChat{ChatId: "c10"}, false)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, dir)
	defer s.Close()
	evs, err := s.ChatEvents("c1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].GetMessage().GetText() != "a" || evs[1].GetSeq() != 2 {
		t.Fatalf("events after reopen = %v", evs)
	}
	evs, _ = s.ChatEvents("c1", 1)
	if len(evs) != 1 || evs[0].GetSeq() != 2 {
		t.Fatalf("events after seq 1 = %v", evs)
	}
	open, err := s.OpenChats()
	if err != nil || len(open) != 2 || open[0].GetTicket() != 7 {
		t.Fatalf("open chats = %v, %v", open, err)
	}
}

func TestClosingRemovesFromOpenIndexInSameBatch(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	appendSync(t, s, "c1", []*messages.ChatEvent{msgEvent("c1", 1, "a")}, &messages.OpenChat{ChatId: "c1"}, false)
	appendSync(t, s, "c1", []*messages.ChatEvent{msgEvent("c1", 2, "bye")}, nil, true)
	open, _ := s.OpenChats()
	if len(open) != 0 {
		t.Fatalf("open chats after close = %v", open)
	}
	evs, _ := s.ChatEvents("c1", 0)
	if len(evs) != 2 {
		t.Fatalf("transcript after close has %d events", len(evs))
	}
}

func TestCallbacksRunInSubmissionOrder(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	const n = 5000
	var mu sync.Mutex
	var got []uint64
	var wg sync.WaitGroup
	wg.Add(n)
	for i := uint64(1); i <= n; i++ {
		seq := i
		s.AppendChat("c", []*messages.ChatEvent{msgEvent("c", seq, "x")}, nil, false, func(err error) {
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			got = append(got, seq)
			mu.Unlock()
			wg.Done()
		})
	}
	wg.Wait()
	for i, seq := range got {
		if seq != uint64(i+1) {
			t.Fatalf("callback %d was for seq %d", i, seq)
		}
	}
	if b := s.Stats().Batches.Load(); b >= n {
		t.Fatalf("%d batches for %d requests: no group commit", b, n)
	}
}

func TestWriteAfterCloseFails(t *testing.T) {
	s := openTest(t, t.TempDir())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ch := make(chan error, 1)
	s.AppendChat("c", []*messages.ChatEvent{msgEvent("c", 1, "x")}, nil, false, func(err error) { ch <- err })
	if err := <-ch; !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
}

func TestDirectoryRecords(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	wait := func(f func(func(error))) {
		ch := make(chan error, 1)
		f(func(err error) { ch <- err })
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	wait(func(d func(error)) { s.PutDepartment(&messages.Department{Id: "sales", ChatEnabled: true}, d) })
	wait(func(d func(error)) { s.PutLanguage(&messages.Language{Code: "en", ChatEnabled: true}, d) })
	a := &messages.Agent{Id: "a1", Login: "Alice@example.com", DisplayName: "Alice"}
	wait(func(d func(error)) { s.PutAgent(a, "", d) })
	got, err := s.AgentByLogin("alice@EXAMPLE.com")
	if err != nil || got.GetId() != "a1" {
		t.Fatalf("by login = %v, %v", got, err)
	}
	// Renaming the login unlinks the old one.
	a2 := &messages.Agent{Id: "a1", Login: "alice2@example.com"}
	wait(func(d func(error)) { s.PutAgent(a2, a.GetLogin(), d) })
	if got, _ := s.AgentByLogin("alice@example.com"); got != nil {
		t.Fatalf("old login still resolves to %v", got)
	}
	sec1, created, err := s.Secret("token", 32)
	if err != nil || !created || len(sec1) != 32 {
		t.Fatalf("secret = %x, %v, %v", sec1, created, err)
	}
	s.Close()

	s = openTest(t, dir)
	defer s.Close()
	sec2, created, _ := s.Secret("token", 32)
	if created || string(sec1) != string(sec2) {
		t.Fatal("secret changed across reopen")
	}
	deps, _ := s.Departments()
	langs, _ := s.Languages()
	agents, _ := s.Agents()
	if len(deps) != 1 || len(langs) != 1 || len(agents) != 1 {
		t.Fatalf("directory after reopen: %d departments, %d languages, %d agents", len(deps), len(langs), len(agents))
	}
	wait(func(d func(error)) { s.DeleteAgent(a2, d) })
	if got, _ := s.Agent("a1"); got != nil {
		t.Fatal("agent still there after delete")
	}
}

// BenchmarkDurableAppend measures message appends through the batching
// writer, each synced to disk before its callback, with many submitters as
// in the broker (one per chat actor).
func BenchmarkDurableAppend(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	b.ReportAllocs()
	var wg sync.WaitGroup
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var seq uint64
		chat := fmt.Sprintf("c%p", &seq)
		for pb.Next() {
			seq++
			wg.Add(1)
			s.AppendChat(chat, []*messages.ChatEvent{msgEvent(chat, seq, "hello, I need help with my order")}, nil, false, func(err error) {
				if err != nil {
					b.Error(err)
				}
				wg.Done()
			})
		}
	})
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(s.Stats().Requests.Load())/float64(s.Stats().Batches.Load()), "req/batch")
}

// The open-chats entry is written on state changes only; LastChatSeq reads
// the true last sequence from the log, and is not fooled by a chat whose id
// is a prefix of another's.
func TestLastChatSeq(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	appendSync(t, s, "c1", []*messages.ChatEvent{msgEvent("c1", 1, "a")}, &messages.OpenChat{ChatId: "c1", LastSeq: 1}, false)
	for seq := uint64(2); seq <= 300; seq++ {
		appendSync(t, s, "c1", []*messages.ChatEvent{msgEvent("c1", seq, "m")}, nil, false)
	}
	appendSync(t, s, "c10", []*messages.ChatEvent{msgEvent("c10", 1, "a"), msgEvent("c10", 2, "b")}, nil, false)
	for chat, want := range map[string]uint64{"c1": 300, "c10": 2, "c2": 0} {
		got, err := s.LastChatSeq(chat)
		if err != nil || got != want {
			t.Errorf("LastChatSeq(%s) = %d, %v; want %d", chat, got, err, want)
		}
	}
	open, err := s.OpenChats()
	if err != nil || len(open) != 1 || open[0].GetLastSeq() != 1 {
		t.Fatalf("a plain message must leave the open entry alone: %v, %v", open, err)
	}
}

// While the disk cannot be written, writes fail with ErrUnavailable (fast,
// and never acknowledged); once it can, the store reopens Pebble by itself
// and writes go through. Every acknowledged event is there, once, and a
// batch is all there or not at all.
func TestStorageFaultAndRecovery(t *testing.T) {
	dir := t.TempDir()
	ffs := faultfs.New(vfs.Default)
	s, err := Open(dir, Options{FS: ffs, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appendOne := func(seq uint64) error {
		ch := make(chan error, 1)
		// Two events in one batch: they land together or not at all.
		s.AppendChat("c", []*messages.ChatEvent{msgEvent("c", 2*seq-1, "a"), msgEvent("c", 2*seq, "b")}, nil, false, func(err error) { ch <- err })
		return <-ch
	}
	for seq := uint64(1); seq <= 5; seq++ {
		if err := appendOne(seq); err != nil {
			t.Fatal(err)
		}
	}
	ffs.Fail(true)
	for i := 0; i < 3; i++ {
		if err := appendOne(6); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("write during the fault: %v, want ErrUnavailable", err)
		}
	}
	if s.Healthy() {
		t.Fatal("the store says it is healthy during a fault")
	}
	ffs.Fail(false)
	deadline := time.Now().Add(10 * time.Second)
	for appendOne(6) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the store did not recover after the fault cleared")
		}
	}
	if err := appendOne(7); err != nil || !s.Healthy() {
		t.Fatalf("after recovery: %v, healthy %v", err, s.Healthy())
	}
	check := func(s *Store) {
		evs, err := s.ChatEvents("c", 0)
		if err != nil || len(evs) != 14 {
			t.Fatalf("%d events (%v), want 14", len(evs), err)
		}
		for i, ev := range evs {
			if ev.GetSeq() != uint64(i+1) {
				t.Fatalf("event %d has seq %d", i, ev.GetSeq())
			}
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openTest(t, dir)
	defer s2.Close()
	check(s2)
}

func TestAuditLogRangeAndFilter(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	t0 := time.Unix(1_900_000_000, 0)
	ch := make(chan error, 10)
	for i, kind := range []string{"login.ok", "login.refused", "admin.agent.put", "login.ok"} {
		s.AppendAudit(&messages.AuditEntry{AtMs: t0.Add(time.Duration(i) * time.Minute).UnixMilli(), Kind: kind, Actor: fmt.Sprint("a", i%2)}, func(err error) { ch <- err })
	}
	// Two entries in the same millisecond are both kept.
	s.AppendAudit(&messages.AuditEntry{AtMs: t0.UnixMilli(), Kind: "login.ok", Actor: "twin"}, func(err error) { ch <- err })
	for i := 0; i < 5; i++ {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Audit(t0, t0.Add(time.Hour), nil, 100)
	if err != nil || len(all) != 5 {
		t.Fatalf("all: %d, %v", len(all), err)
	}
	logins, _ := s.Audit(t0, t0.Add(time.Hour), func(e *messages.AuditEntry) bool { return strings.HasPrefix(e.GetKind(), "login.") }, 100)
	if len(logins) != 4 {
		t.Fatalf("logins: %v", logins)
	}
	window, _ := s.Audit(t0.Add(time.Minute), t0.Add(3*time.Minute), nil, 100)
	if len(window) != 2 || window[0].GetKind() != "login.refused" || window[1].GetKind() != "admin.agent.put" {
		t.Fatalf("window [1m, 3m): %v", window)
	}
	if first, _ := s.Audit(t0, t0.Add(time.Hour), nil, 2); len(first) != 2 {
		t.Fatalf("limit 2: %v", first)
	}
}

func TestWipeWorkspaceKeepsOnlySecrets(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	appendSync(t, s, "c1", []*messages.ChatEvent{msgEvent("c1", 1, "a")}, &messages.OpenChat{ChatId: "c1"}, false)
	secret, _, err := s.Secret("token-secret", 32)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan error, 1)
	s.PutDepartment(&messages.Department{Id: "sales"}, func(err error) { ch <- err })
	<-ch
	// The folder holds Pebble's files only (the wipe must know every one
	// of them), and a file of someone else's, which the wipe leaves.
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "notes.txt" && !pebbleFile(e.Name()) {
			t.Errorf("%s in the data folder is not known as Pebble's", e.Name())
		}
	}
	if err := s.WipeWorkspace("token-secret"); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "notes.txt")); err != nil || string(data) != "mine" {
		t.Fatalf("a file not the store's: %q, %v after the wipe", data, err)
	}
	s.Close()
	s = openTest(t, dir)
	defer s.Close()
	evs, _ := s.ChatEvents("c1", 0)
	open, _ := s.OpenChats()
	deps, _ := s.Departments()
	again, created, _ := s.Secret("token-secret", 32)
	if len(evs)+len(open)+len(deps) != 0 || created || string(again) != string(secret) {
		t.Fatalf("after the wipe: %d events, %d open, %d departments; secret kept %v", len(evs), len(open), len(deps), !created)
	}
}
