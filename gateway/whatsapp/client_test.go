package whatsapp

import (
	"context"
	"errors"
	"fmt"
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

// TestSendErrors: the Graph API's 4xx answers about the message (400
// with 131047 or 131026, a 404 of the Graph API's) fail a reply for good;
// 5xx, 429, the channel's settings (401, 403, code 190: the token; a 404
// with no Graph error: a wrong base URL) and an unreachable server are
// tried again; an internal event or a visitor's is not sent at all.
func TestSendErrors(t *testing.T) {
	status, body := 0, ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	defer srv.Close()
	c := New(Config{Chats: chats{}, AllowPrivate: true})
	ch := &messages.Channel{Id: "wa", Whatsapp: &messages.WhatsAppChannel{PhoneNumberId: "1", AccessToken: "t", GraphBaseUrl: srv.URL}}
	d := &messages.Delivery{Conversation: "c1", Event: &messages.ChatEvent{ChatId: "c1", Seq: 3, Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{Text: "hi"}}}}
	graphErr := func(code int) string {
		return fmt.Sprintf(`{"error":{"message":"(#%d) refused","code":%d}}`, code, code)
	}
	for _, c2 := range []struct {
		status    int
		body      string
		permanent bool
	}{{400, graphErr(131047), true}, {400, graphErr(131026), true}, {404, graphErr(100), true},
		{401, graphErr(190), false}, {400, graphErr(190), false}, {403, graphErr(10), false}, {404, "404 page not found", false},
		{429, graphErr(4), false}, {500, graphErr(1), false}, {503, "", false}} {
		status, body = c2.status, c2.body
		_, err := c.SendNow(context.Background(), ch, d)
		var e *Error
		if !errors.As(err, &e) || e.Permanent() != c2.permanent || e.Status != c2.status {
			t.Errorf("HTTP %d %s: %v (permanent %v)", c2.status, c2.body, err, e != nil && e.Permanent())
		}
	}
	status, body = 400, graphErr(131047)
	if _, err := c.SendNow(context.Background(), ch, d); err.(*Error).Code != 131047 {
		t.Errorf("the Graph API's code: %v", err)
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
