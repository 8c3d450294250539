package whatsapp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

type chats struct{}

func (chats) ChatCreated(string) (*messages.ChatCreated, error) {
	return &messages.ChatCreated{Conversation: "16505551234"}, nil
}
func (chats) File(string, string) (*messages.StoredFile, error)            { return nil, nil }
func (chats) EachFileChunk(*messages.StoredFile, func([]byte) error) error { return nil }

// TestSendErrors: the Graph API's 4xx answers (but 429) fail a reply for
// good; 5xx, 429 and an unreachable server are tried again; an internal
// event or a visitor's is not sent at all.
func TestSendErrors(t *testing.T) {
	status := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		w.Write([]byte(`{"error":{"message":"(#131047) Re-engagement message","code":131047}}`))
	}))
	defer srv.Close()
	c := New(Config{Chats: chats{}})
	ch := &messages.Channel{Id: "wa", Whatsapp: &messages.WhatsAppChannel{PhoneNumberId: "1", AccessToken: "t", GraphBaseUrl: srv.URL}}
	d := &messages.Delivery{Conversation: "c1", Event: &messages.ChatEvent{ChatId: "c1", Seq: 3, Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{Text: "hi"}}}}
	for _, c2 := range []struct {
		status    int
		permanent bool
	}{{400, true}, {401, true}, {404, true}, {429, false}, {500, false}, {503, false}} {
		status = c2.status
		_, err := c.SendNow(context.Background(), ch, d)
		var e *Error
		if !errors.As(err, &e) || e.Permanent() != c2.permanent || e.Status != c2.status {
			t.Errorf("HTTP %d: %v (permanent %v)", c2.status, err, e != nil && e.Permanent())
		}
		if c2.status == 400 && e.Code != 131047 {
			t.Errorf("the Graph API's code: %d", e.Code)
		}
	}
	srv.Close()
	if _, err := c.SendNow(context.Background(), ch, d); err == nil || err.(*Error).Permanent() {
		t.Errorf("unreachable: %v", err)
	}
	internal := &messages.Delivery{Event: &messages.ChatEvent{Internal: true, Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{Text: "whisper"}}}}
	visitor := &messages.Delivery{Event: &messages.ChatEvent{Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{Text: "hello",
		From: &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_VISITOR}}}}}
	for _, x := range []*messages.Delivery{internal, visitor} {
		if ref, err := c.SendNow(context.Background(), ch, x); ref != "" || err != nil {
			t.Errorf("%v: %q %v", x, ref, err)
		}
	}
}
