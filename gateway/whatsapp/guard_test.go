package whatsapp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchboard-chat/switchboard/gateway/netguard"
	"github.com/switchboard-chat/switchboard/messages"
)

// TestPrivateRefused: without AllowPrivate, an http graph_base_url is
// refused before any call, an https one on a private address when it is
// dialled, and a media URL over http is never called with the token.
func TestPrivateRefused(t *testing.T) {
	var hits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(`{"messages":[{"id":"wamid.X"}]}`))
	}))
	defer plain.Close()
	d := &messages.Delivery{Conversation: "c1", Event: &messages.ChatEvent{ChatId: "c1", Seq: 3, Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{Text: "hi"}}}}
	chOf := func(base string) *messages.Channel {
		return &messages.Channel{Id: "wa", Whatsapp: &messages.WhatsAppChannel{PhoneNumberId: "1", AccessToken: "t", GraphBaseUrl: base}}
	}
	c := New(Config{Chats: chats{}})
	_, err := c.SendNow(context.Background(), chOf(plain.URL), d)
	var e *Error
	if !errors.As(err, &e) || e.Permanent() || !strings.Contains(e.Message, "https") || hits.Load() != 0 {
		t.Fatalf("http base URL: %v (%d calls)", err, hits.Load())
	}
	tls := httptest.NewTLSServer(plain.Config.Handler)
	defer tls.Close()
	if _, err := c.SendNow(context.Background(), chOf(tls.URL), d); err == nil || !strings.Contains(err.Error(), netguard.ErrPrivateAddress.Error()) || hits.Load() != 0 {
		t.Fatalf("a private address: %v (%d calls)", err, hits.Load())
	}
	// The Graph API (reached: a client that trusts the test server) names
	// a media URL over http: refused for good, the token never sent.
	var mediaHits atomic.Int32
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { mediaHits.Add(1) }))
	defer media.Close()
	graph := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"url":"` + media.URL + `/file","mime_type":"image/png"}`))
	}))
	defer graph.Close()
	c = New(Config{Chats: chats{}, HTTPClient: graph.Client()})
	_, _, err = c.FetchMedia(context.Background(), chOf(graph.URL), "123", 1<<20)
	if !errors.As(err, &e) || !e.Permanent() || mediaHits.Load() != 0 {
		t.Fatalf("an http media URL: %v (%d downloads)", err, mediaHits.Load())
	}
}
