package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/gateway/hmacsig"
	"github.com/switchboard-chat/switchboard/messages"
)

// The signature is HMAC-SHA256 over "<timestamp>.<body>", hex, after
// "sha256=" (the README's scheme), as gateway/hmacsig makes it.
func TestSignature(t *testing.T) {
	body := []byte(`{"id":"c1/2"}`)
	// echo -n '1700000000.{"id":"c1/2"}' | openssl dgst -sha256 -hmac secret
	const want = "sha256=bbc02c2d48209a7bd66e6a4f4fc737ff1ee0e2e4d5727cd97ac60c6f0a4624fc"
	if got := hmacsig.Sign([]byte("secret"), time.Unix(1700000000, 0), body); got != want {
		t.Fatalf("Sign = %q", got)
	}
}

// A request's body and headers as a receiver sees them.
func TestPostBodyAndHeaders(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r, must(io.ReadAll(r.Body))
	}))
	defer srv.Close()
	s := New(Config{AllowPrivate: true})
	d := &messages.Delivery{Id: "c1/2", Type: messages.EventChatMessage, AtMs: 1700000000000, LiveChat: "main",
		Event: &messages.ChatEvent{ChatId: "c1", Seq: 2, Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{Text: "hi",
			From: &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_VISITOR, Id: "v1"}}}}}
	if status, err := s.PostNow(context.Background(), srv.URL, "secret", d); err != nil || status != 200 {
		t.Fatalf("post: %d %v", status, err)
	}
	if got.Header.Get(HeaderEventID) != "c1/2" || got.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers: %v", got.Header)
	}
	if err := hmacsig.Verify(got.Header, []byte("secret"), body, time.Now()); err != nil {
		t.Error(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	data, _ := ev["data"].(map[string]any)
	if ev["id"] != "c1/2" || ev["type"] != "chat.message" || ev["chat_id"] != "c1" || ev["seq"] != 2.0 || ev["live_chat"] != "main" ||
		ev["at"] != "2023-11-14T22:13:20Z" || data["text"] != "hi" {
		t.Errorf("body: %s", body)
	}
}

// Without AllowPrivate, loopback and private addresses are refused
// before a connection is made; a 5xx is an error worth trying again.
func TestPrivateAddressesAndStatuses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", 503) }))
	defer srv.Close()
	d := &messages.Delivery{Id: "x/1", Type: messages.EventWebhookTest}
	for _, url := range []string{srv.URL, "http://10.0.0.1:9/x", "http://[::1]:9/x", "http://169.254.169.254/latest"} {
		_, err := New(Config{Timeout: time.Second}).PostNow(context.Background(), url, "s", d)
		if !errors.Is(err, ErrPrivateAddress) {
			t.Errorf("%s: %v, want ErrPrivateAddress", url, err)
		}
	}
	status, err := New(Config{AllowPrivate: true}).PostNow(context.Background(), srv.URL, "s", d)
	var p interface{ Permanent() bool }
	if status != 503 || err == nil || errors.As(err, &p) {
		t.Errorf("503: %d %v", status, err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
