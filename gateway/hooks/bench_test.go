package hooks_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway/hooks"
	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence"
)

// BenchmarkWebhookDeliveries measures the delivery outbox end to end:
// chat events appended to real storage (Pebble, group commit), made into
// deliveries by the history indexer's round, sent by the endpoint's
// outbox actor through this package's signed HTTP client to a receiver
// on loopback, and deleted from the outbox. One op is one webhook taken
// by the receiver; deliveries/s is the figure the README quotes (the
// issue asks for 5,000 a second at least).
func BenchmarkWebhookDeliveries(b *testing.B) {
	const chats = 256
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got.Add(1)
	}))
	defer srv.Close()
	log := slog.New(slog.DiscardHandler)
	store, err := persistence.Open(b.TempDir(), persistence.Options{Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	sender := hooks.New(hooks.Config{AllowPrivate: true})
	defer sender.Close()
	br, err := actors.New(actors.Config{Store: store, Logger: log, Webhooks: sender})
	if err != nil {
		b.Fatal(err)
	}
	defer br.Shutdown()
	store.SetDeliveryWake(br.WakeDeliveries)
	defer store.SetDeliveryWake(nil)
	if _, err := br.Webhook(b.Context(), "bench", &messages.WebhookCommand{Create: true, Body: &messages.WebhookCommand_Put{Put: &messages.WebhookEndpoint{
		Url: srv.URL, Secret: "bench-secret-0123456789", Enabled: true}}}); err != nil {
		b.Fatal(err)
	}
	visitor := &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_VISITOR, Id: "v"}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	done := make(chan error, chats)
	for c := range chats {
		n := b.N / chats
		if c < b.N%chats {
			n++
		}
		if n == 0 {
			done <- nil
			continue
		}
		id := fmt.Sprintf("c%04d", c)
		evs := make([]*messages.ChatEvent, 0, n)
		for seq := uint64(1); seq <= uint64(n); seq++ {
			evs = append(evs, &messages.ChatEvent{ChatId: id, Seq: seq, AtMs: start.UnixMilli(),
				Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{From: visitor, Text: "a message of some length, as visitors write them"}}})
		}
		store.AppendChat(id, evs, nil, false, func(err error) { done <- err })
	}
	for range chats {
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.After(10 * time.Minute)
	every := time.NewTicker(time.Millisecond)
	defer every.Stop()
	for got.Load() < int64(b.N) {
		select {
		case <-deadline:
			b.Fatalf("%d of %d webhooks arrived", got.Load(), b.N)
		case <-every.C:
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}
