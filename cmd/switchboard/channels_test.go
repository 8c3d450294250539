package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/gateway/hmacsig"
	"github.com/switchboard-chat/switchboard/gateway/hooks"
	"github.com/switchboard-chat/switchboard/messages"
)

const (
	testAPISecret  = "api-channel-secret-0123456789"
	testWAToken    = "EAAG-test-access-token"
	testWAPhoneID  = "106540352242922"
	testWAVerify   = "verify-me-please"
	testWAAppSec   = "whatsapp-app-secret"
	testWACustomer = "16505551234"
)

// postAPIChannel posts a customer message to an API channel, signed with
// secret at ts ("" secret: unsigned). It returns the status and body.
func postAPIChannel(t testing.TB, addr, channel, secret string, ts time.Time, body any) (int, map[string]any) {
	t.Helper()
	data, _ := json.Marshal(body)
	if s, ok := body.(string); ok {
		data = []byte(s)
	}
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/channels/"+channel+"/messages", bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		hmacsig.SetHeaders(req.Header, []byte(secret), ts, data)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := map[string]any{}
	raw, _ := io.ReadAll(res.Body)
	json.Unmarshal(raw, &out)
	return res.StatusCode, out
}

// channelChats are the chats a channel's conversation has had (open or
// in the history index).
func channelChats(t testing.TB, m *Main, channel, conversation string) []string {
	t.Helper()
	vid := actors.ChannelVisitorID(channel, conversation)
	seen := map[string]bool{}
	page, err := m.store.SearchChats(&messages.ChatHistoryQuery{Limit: 200}, func(*messages.ChatHistoryEntry) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range page.GetChats() {
		if e.GetVisitorId() == vid {
			seen[e.GetChatId()] = true
		}
	}
	open, err := m.store.OpenChats()
	if err != nil {
		t.Fatal(err)
	}
	for _, oc := range open {
		if oc.GetVisitorId() == vid {
			seen[oc.GetChatId()] = true
		}
	}
	var out []string
	for id := range seen {
		out = append(out, id)
	}
	return out
}

// visitorTexts are the visitor's messages in a chat's transcript.
func visitorTexts(t testing.TB, m *Main, chatID string) []string {
	t.Helper()
	rec, err := m.broker.ChatRecord(chatID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range rec.GetTranscript() {
		if msg := ev.GetMessage(); msg != nil && msg.GetFrom().GetKind() == messages.ParticipantKind_PARTICIPANT_KIND_VISITOR {
			out = append(out, msg.GetText())
		}
	}
	return out
}

// TestChannelAdmin: channels over the admin API: created, read with their
// secrets left out, replaced with the secrets kept, refused with typed
// errors that change nothing, deleted; a department with a channel stays.
func TestChannelAdmin(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	api := map[string]any{"id": "shop", "kind": "CHANNEL_KIND_API", "department": "support", "language": "en", "enabled": true,
		"api": map[string]any{"secret": testAPISecret, "callback_url": "http://127.0.0.1:1/cb"}}
	var out map[string]any
	if code := admin(t, addr, "POST", "/admin/channels", api, &out); code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, out)
	}
	if strings.Contains(toJSON(out), testAPISecret) || out["name"] != "shop" {
		t.Fatalf("the answer shows the secret or lacks the name: %v", out)
	}
	if code := admin(t, addr, "POST", "/admin/channels", api, &out); code != http.StatusConflict {
		t.Fatalf("create again: %d %v", code, out)
	}
	wa := map[string]any{"kind": "CHANNEL_KIND_WHATSAPP", "department": "support", "language": "en", "enabled": true,
		"whatsapp": map[string]any{"phone_number_id": testWAPhoneID, "verify_token": testWAVerify, "app_secret": testWAAppSec, "access_token": testWAToken}}
	mustAdmin(t, addr, "PUT", "/admin/channels/wa", wa)
	// A PUT without secrets keeps them.
	mustAdmin(t, addr, "PUT", "/admin/channels/shop", map[string]any{"name": "Shop", "kind": "CHANNEL_KIND_API", "department": "support",
		"language": "en", "enabled": true, "api": map[string]any{"callback_url": "http://127.0.0.1:1/cb"}})
	if ch, _ := m.broker.Channel("shop"); ch.GetApi().GetSecret() != testAPISecret || ch.GetName() != "Shop" {
		t.Fatalf("stored %v", ch)
	}
	checkChannelList(t, addr)
	checkChannelRefusals(t, m, addr, wa)
	mustAdmin(t, addr, "PUT", "/admin/departments/billing", map[string]any{"name": "Billing", "chat_enabled": true})
	mustAdmin(t, addr, "PUT", "/admin/channels/bills", map[string]any{"kind": "CHANNEL_KIND_API", "department": "billing", "language": "en",
		"api": map[string]any{"secret": testAPISecret, "callback_url": "https://cb.example"}})
	channelsStayExternal(t, m, addr)
	var de map[string]any
	if code := admin(t, addr, "DELETE", "/admin/departments/billing", nil, &de); code != http.StatusConflict || !strings.Contains(toJSON(de), "channel") {
		t.Errorf("deleting the channel's department: %d %v", code, de)
	}
	mustAdmin(t, addr, "DELETE", "/admin/channels/bills", nil)
	mustAdmin(t, addr, "DELETE", "/admin/departments/billing", nil)
	mustAdmin(t, addr, "DELETE", "/admin/channels/wa", nil)
	var e map[string]any
	if code := admin(t, addr, "GET", "/admin/channels/wa", nil, &e); code != http.StatusNotFound {
		t.Errorf("a deleted channel: %d", code)
	}
	if code := admin(t, addr, "DELETE", "/admin/channels/wa", nil, &e); code != http.StatusNotFound {
		t.Errorf("deleting it again: %d", code)
	}
	// Audited, never with a secret.
	var page messages.AuditPage
	var raw json.RawMessage
	admin(t, addr, "GET", "/admin/audit?kind=admin.channel", nil, &raw)
	protoIn.Unmarshal(raw, &page)
	if len(page.GetEntries()) < 4 || strings.Contains(string(raw), testAPISecret) {
		t.Fatalf("audit: %s", raw)
	}
}

// checkChannelList: the list and a single channel are read with their
// secrets left out.
func checkChannelList(t *testing.T, addr string) {
	t.Helper()
	var raw json.RawMessage
	var list messages.ChannelList
	admin(t, addr, "GET", "/admin/channels", nil, &raw)
	if err := protoIn.Unmarshal(raw, &list); err != nil || len(list.GetChannels()) != 2 {
		t.Fatalf("list: %s %v", raw, err)
	}
	for _, s := range []string{testAPISecret, testWAToken, testWAAppSec, testWAVerify} {
		if strings.Contains(string(raw), s) {
			t.Fatalf("the list shows a secret: %s", raw)
		}
	}
	if code := admin(t, addr, "GET", "/admin/channels/wa", nil, &raw); code != 200 || strings.Contains(string(raw), testWAToken) {
		t.Fatalf("get: %d %s", code, raw)
	}
}

// checkChannelRefusals: bad input is a typed error about the field, a
// second channel for a WhatsApp number is a conflict, bad JSON is
// refused, and none of them changes the channel.
func checkChannelRefusals(t *testing.T, m *Main, addr string, wa map[string]any) {
	t.Helper()
	// Bad input: a typed error about the field, nothing changed.
	for _, c := range []struct {
		body  any
		field string
	}{
		{map[string]any{"kind": "CHANNEL_KIND_API", "department": "nope", "language": "en", "api": map[string]any{"secret": testAPISecret, "callback_url": "https://x.example"}}, "department"},
		{map[string]any{"kind": "CHANNEL_KIND_API", "department": "support", "language": "xx", "api": map[string]any{"secret": testAPISecret, "callback_url": "https://x.example"}}, "language"},
		{map[string]any{"kind": "CHANNEL_KIND_API", "department": "support", "language": "en", "api": map[string]any{"secret": "short", "callback_url": "https://x.example"}}, "api.secret"},
		{map[string]any{"kind": "CHANNEL_KIND_API", "department": "support", "language": "en", "api": map[string]any{"secret": testAPISecret, "callback_url": "ftp://x"}}, "api.callback_url"},
		{map[string]any{"kind": "CHANNEL_KIND_API", "department": "support", "language": "en", "api": map[string]any{"callback_url": "https://cb.example"}}, "api.secret"}, // a new URL does not keep the secret
		{map[string]any{"kind": "CHANNEL_KIND_WHATSAPP", "department": "support", "language": "en", "whatsapp": map[string]any{"phone_number_id": "12ab", "verify_token": "v", "app_secret": "a", "access_token": "t"}}, "whatsapp.phone_number_id"},
		{map[string]any{"kind": "CHANNEL_KIND_WHATSAPP", "department": "support", "language": "en", "whatsapp": map[string]any{"phone_number_id": "555", "app_secret": "a", "access_token": "t"}}, "whatsapp.verify_token"},
		{map[string]any{"kind": "CHANNEL_KIND_WHATSAPP", "department": "support", "language": "en", "api": map[string]any{}}, "api"},
		{map[string]any{"kind": 7, "department": "support", "language": "en"}, "kind"},
	} {
		var e map[string]any
		if code := admin(t, addr, "PUT", "/admin/channels/shop", c.body, &e); code != http.StatusBadRequest || e["field"] != c.field {
			t.Errorf("%v: %d %v, want 400 about %s", c.body, code, e, c.field)
		}
	}
	var e map[string]any
	if code := admin(t, addr, "PUT", "/admin/channels/wa2", wa, &e); code != http.StatusConflict || e["field"] != "whatsapp.phone_number_id" {
		t.Errorf("a second channel for the number: %d %v", code, e)
	}
	if code := admin(t, addr, "PUT", "/admin/channels/shop", `{"kind":`, &e); code != http.StatusBadRequest {
		t.Errorf("bad JSON: %d", code)
	}
	if ch, _ := m.broker.Channel("shop"); ch.GetApi().GetCallbackUrl() != "http://127.0.0.1:1/cb" || ch.GetApi().GetSecret() != testAPISecret {
		t.Fatalf("a refused change changed the channel: %v", ch)
	}
}

// setupAPIChannel creates the API channel "shop" to support.
func setupAPIChannel(t testing.TB, addr, callback string) {
	mustAdmin(t, addr, "PUT", "/admin/channels/shop", map[string]any{"kind": "CHANNEL_KIND_API", "department": "support", "language": "en", "enabled": true,
		"api": map[string]any{"secret": testAPISecret, "callback_url": callback}})
}

// TestAPIChannelInbound: a customer's system posts signed messages: the
// first asks for a chat, which an agent is offered and takes; the next
// ones join it; a retried message is stored once; a bad or stale
// signature and bad bodies are refused and store nothing; a refused chat
// is a typed error.
func TestAPIChannelInbound(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	setupAPIChannel(t, addr, "http://127.0.0.1:1/cb")
	bob, _ := newAgent(t, addr, "bob@demo", "bob-demo-pw", true)
	now := time.Now()
	msg := map[string]any{"conversation_id": "order-1234", "message_id": "m-1", "name": "Ada", "email": "ada@example.com", "text": "Where is my parcel?"}

	checkAPIChannelRefusals(t, m, addr, now, msg)

	code, out := postAPIChannel(t, addr, "shop", testAPISecret, now, msg)
	if code != 200 || out["chat_id"] == "" {
		t.Fatalf("inbound: %d %v", code, out)
	}
	chatID := out["chat_id"].(string)
	offer := awaitOffer(t, bob)
	if offer.GetChatId() != chatID || offer.GetVisitorName() != "Ada" {
		t.Fatalf("offer %v", offer)
	}
	accept(t, bob, chatID)
	// A retry of the same message, and the next one.
	if code, again := postAPIChannel(t, addr, "shop", testAPISecret, now, msg); code != 200 || again["chat_id"] != chatID || again["seq"] != out["seq"] {
		t.Fatalf("retried: %d %v, first %v", code, again, out)
	}
	msg2 := map[string]any{"conversation_id": "order-1234", "message_id": "m-2", "name": "Ada", "text": "It was due Monday."}
	if code, out2 := postAPIChannel(t, addr, "shop", testAPISecret, now, msg2); code != 200 || out2["chat_id"] != chatID {
		t.Fatalf("second: %d %v", code, out2)
	}
	awaitEvent(t, bob, chatID, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "It was due Monday." })
	if got := visitorTexts(t, m, chatID); strings.Join(got, "|") != "Where is my parcel?|It was due Monday." {
		t.Fatalf("transcript %q", got)
	}
	rec, _ := m.broker.ChatRecord(chatID)
	cr := rec.GetTranscript()[0].GetCreated()
	if cr.GetChannel() != "shop" || cr.GetConversation() != "order-1234" || cr.GetReplyWindowMs() != 0 || cr.GetLiveChat() == "" {
		t.Fatalf("created %v", cr)
	}

	// Bob closes the chat: the conversation's next message starts its next chat.
	if _, err := bob.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chatID}}}); err != nil {
		t.Fatal(err)
	}
	code, out = postAPIChannel(t, addr, "shop", testAPISecret, now, map[string]any{"conversation_id": "order-1234", "message_id": "m-3", "name": "Ada", "text": "One more thing"})
	if code != 200 || out["chat_id"] == chatID || out["chat_id"] == "" {
		t.Fatalf("after the close: %d %v (closed chat %s)", code, out, chatID)
	}
	// (The closed one reaches the history index a moment later.)
	eventually(t, "the conversation's two chats", func() bool { return len(channelChats(t, m, "shop", "order-1234")) == 2 })

	checkAPIChannelClosed(t, m, addr, now, msg2)
}

// checkAPIChannelRefusals: unsigned, wrongly signed, stale and bad
// inbound calls, and calls to an unknown channel, are refused with a
// typed error before anything is stored.
func checkAPIChannelRefusals(t *testing.T, m *Main, addr string, now time.Time, msg map[string]any) {
	t.Helper()
	// Refused before anything is stored.
	for _, c := range []struct {
		name   string
		secret string
		ts     time.Time
		body   any
		status int
	}{
		{"unsigned", "", now, msg, 401},
		{"wrong secret", "another-secret-of-16-bytes", now, msg, 401},
		{"replayed", testAPISecret, now.Add(-6 * time.Minute), msg, 401},
		{"from the future", testAPISecret, now.Add(6 * time.Minute), msg, 401},
		{"no text", testAPISecret, now, map[string]any{"conversation_id": "c", "message_id": "m", "name": "Ada"}, 400},
		{"no message id", testAPISecret, now, map[string]any{"conversation_id": "c", "name": "Ada", "text": "hi"}, 400},
		{"unknown field", testAPISecret, now, map[string]any{"conversation_id": "c", "message_id": "m", "name": "Ada", "text": "hi", "x": 1}, 400},
		{"bad email", testAPISecret, now, map[string]any{"conversation_id": "c", "message_id": "m", "name": "Ada", "text": "hi", "email": "no"}, 400},
		{"not JSON", testAPISecret, now, `{"conversation_id":`, 400},
	} {
		if code, out := postAPIChannel(t, addr, "shop", c.secret, c.ts, c.body); code != c.status || out["code"] == nil {
			t.Errorf("%s: %d %v, want %d with a typed error", c.name, code, out, c.status)
		}
	}
	if code, _ := postAPIChannel(t, addr, "nope", testAPISecret, now, msg); code != 404 {
		t.Errorf("an unknown channel: %d", code)
	}
	if n := len(channelChats(t, m, "shop", "order-1234")) + len(channelChats(t, m, "shop", "c")); n != 0 {
		t.Fatalf("refused calls stored %d chats", n)
	}
}

// checkAPIChannelClosed: a department that takes no chats is a typed
// refusal that stores nothing; a channel switched off is not there.
func checkAPIChannelClosed(t *testing.T, m *Main, addr string, now time.Time, msg2 map[string]any) {
	t.Helper()
	// A department that takes no chats: a typed refusal, nothing stored.
	d, _ := m.broker.Department("support")
	d.ChatEnabled = false
	dj, _ := protojson.Marshal(d)
	mustAdmin(t, addr, "PUT", "/admin/departments/support", string(dj))
	code, out := postAPIChannel(t, addr, "shop", testAPISecret, now, map[string]any{"conversation_id": "order-99", "message_id": "x-1", "name": "Bo", "text": "hello?"})
	if code != http.StatusConflict || out["refusal"] != "REFUSAL_REASON_DEPARTMENT_CLOSED" {
		t.Fatalf("closed department: %d %v", code, out)
	}
	if n := len(channelChats(t, m, "shop", "order-99")); n != 0 {
		t.Fatalf("a refused conversation has %d chats", n)
	}
	// A channel switched off is not there.
	mustAdmin(t, addr, "PUT", "/admin/channels/shop", map[string]any{"kind": "CHANNEL_KIND_API", "department": "support", "language": "en", "enabled": false,
		"api": map[string]any{"callback_url": "http://127.0.0.1:1/cb"}})
	if code, _ := postAPIChannel(t, addr, "shop", testAPISecret, now, msg2); code != http.StatusNotFound {
		t.Fatalf("a disabled channel: %d", code)
	}
}

// allowPrivate lets the broker's outbound calls go to the test servers on
// 127.0.0.1 over http (-webhook-allow-private).
func allowPrivate(c *Config) { c.Webhooks.AllowPrivate = true }

// setupWhatsApp creates the WhatsApp channel "wa" to support, calling the
// contract server.
func setupWhatsApp(t testing.TB, addr string, graph *waContract) {
	mustAdmin(t, addr, "PUT", "/admin/channels/wa", map[string]any{"kind": "CHANNEL_KIND_WHATSAPP", "department": "support", "language": "en", "enabled": true,
		"whatsapp": map[string]any{"phone_number_id": testWAPhoneID, "verify_token": testWAVerify, "app_secret": testWAAppSec,
			"access_token": testWAToken, "graph_base_url": graph.srv.URL}})
}

// waText is Meta's text notification of a customer's message.
func waText(t testing.TB, phoneID, id, body string) []byte {
	return waPayload(t, "text_message.json", map[string]string{"PHONE_NUMBER_ID": phoneID, "WA_ID": testWACustomer, "NAME": "Grace Hopper",
		"MESSAGE_ID": id, "MESSAGE_BODY": body, "TIMESTAMP": "1900000000", "DISPLAY_PHONE_NUMBER": "15550001111", "WHATSAPP_BUSINESS_ACCOUNT_ID": "102290129340398"})
}

// TestWhatsAppInbound: the verification handshake; a signed text
// notification becomes a chat offered to an agent; a bad signature is
// refused with nothing stored; a notification sent again stores nothing
// twice; another number's entries are skipped; an image is fetched from
// the Graph API and stored as the chat's file with its caption.
func TestWhatsAppInbound(t *testing.T) {
	m := startBroker(t, t.TempDir(), allowPrivate)
	addr := m.Addr()
	graph := newWAContract(t, testWAToken, testWAPhoneID)
	setupWhatsApp(t, addr, graph)
	bob, bw := newAgent(t, addr, "bob@demo", "bob-demo-pw", true)

	waInboundVerify(t, addr)
	chatID := waInboundFirstText(t, m, addr, bob)
	png := waInboundImages(t, addr, graph, bob, chatID)
	waInboundCheckStored(t, m, chatID, png)
	waInboundAgentFiles(t, addr, graph, bw, chatID)
	waInboundSkipsAndRefuses(t, addr)
}

// waInboundVerify: Meta's verification handshake answers the challenge
// only to a subscribe with the right token.
func waInboundVerify(t *testing.T, addr string) {
	for _, c := range []struct {
		query  string
		status int
		body   string
	}{
		{"hub.mode=subscribe&hub.verify_token=" + testWAVerify + "&hub.challenge=1158201444", 200, "1158201444"},
		{"hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444", 403, ""},
		{"hub.mode=unsubscribe&hub.verify_token=" + testWAVerify + "&hub.challenge=1", 403, ""},
		{"hub.challenge=1", 403, ""},
	} {
		res, err := http.Get("http://" + addr + "/channels/whatsapp/wa/webhook?" + c.query)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.status || c.body != "" && string(data) != c.body {
			t.Errorf("verify %s: %d %q", c.query, res.StatusCode, data)
		}
	}
}

// waInboundFirstText: a badly signed or unsigned text notification is
// refused with nothing stored; a signed one becomes a chat offered to and
// accepted by bob; sent again it is stored once, and another number's
// entry is skipped. It returns the chat's id.
func waInboundFirstText(t *testing.T, m *Main, addr string, bob *gateway.Client) string {
	first := waText(t, testWAPhoneID, "wamid.IN1", "Hi, my order is late")
	if code, body := postWhatsApp(t, addr, "wa", "wrong-secret", first); code != 401 {
		t.Fatalf("bad signature: %d %s", code, body)
	}
	if code, _ := postWhatsApp(t, addr, "wa", "", first); code != 401 {
		t.Fatalf("unsigned: %d", code)
	}
	if n := len(channelChats(t, m, "wa", testWACustomer)); n != 0 {
		t.Fatalf("refused notifications stored %d chats", n)
	}
	if code, body := postWhatsApp(t, addr, "wa", testWAAppSec, first); code != 200 {
		t.Fatalf("notification: %d %s", code, body)
	}
	offer := awaitOffer(t, bob)
	chatID := offer.GetChatId()
	if offer.GetVisitorName() != "Grace Hopper" {
		t.Fatalf("offer %v", offer)
	}
	accept(t, bob, chatID)
	// Meta sends it again (our 200 was lost): stored once.
	if code, _ := postWhatsApp(t, addr, "wa", testWAAppSec, first); code != 200 {
		t.Fatal(code)
	}
	// Another number's entry: skipped with 200.
	if code, _ := postWhatsApp(t, addr, "wa", testWAAppSec, waText(t, "999999999", "wamid.OTHER", "not ours")); code != 200 {
		t.Fatal(code)
	}
	return chatID
}

// waInboundImages: an image sent twice is fetched from the Graph API and
// reaches bob with its caption; a medium the Graph API no longer has
// reaches bob as a note. It returns the image's bytes.
func waInboundImages(t *testing.T, addr string, graph *waContract, bob *gateway.Client, chatID string) []byte {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	graph.addMedia("1013859600285441", png, "image/png")
	img := waPayload(t, "image_message.json", map[string]string{"PHONE_NUMBER_ID": testWAPhoneID, "WA_ID": testWACustomer, "NAME": "Grace Hopper",
		"MESSAGE_ID": "wamid.IMG1", "CAPTION": "the label", "MEDIA_ID": "1013859600285441", "TIMESTAMP": "1900000001"})
	for range 2 { // sent twice: one file
		if code, body := postWhatsApp(t, addr, "wa", testWAAppSec, img); code != 200 {
			t.Fatalf("image: %d %s", code, body)
		}
	}
	awaitEvent(t, bob, chatID, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "the label" })
	// A medium the Graph API no longer has (404, for good): staff see a note.
	gone := waPayload(t, "image_message.json", map[string]string{"PHONE_NUMBER_ID": testWAPhoneID, "WA_ID": testWACustomer, "NAME": "Grace Hopper",
		"MESSAGE_ID": "wamid.IMG2", "CAPTION": "the box", "MEDIA_ID": "404404", "TIMESTAMP": "1900000002"})
	if code, body := postWhatsApp(t, addr, "wa", testWAAppSec, gone); code != 200 {
		t.Fatalf("a gone image: %d %s", code, body)
	}
	awaitEvent(t, bob, chatID, func(ev *messages.ChatEvent) bool {
		return strings.HasPrefix(ev.GetMessage().GetText(), "[a file (image/png) that could not be fetched") && strings.HasSuffix(ev.GetMessage().GetText(), "the box")
	})
	return png
}

// waInboundCheckStored: the chat's record holds the one image as a file,
// the customer's texts, and the channel, conversation and reply window
// it was created with.
func waInboundCheckStored(t *testing.T, m *Main, chatID string, png []byte) {
	rec, _ := m.broker.ChatRecord(chatID)
	files := 0
	for _, ev := range rec.GetTranscript() {
		if a := ev.GetAttachment(); a != nil {
			files++
			f, err := m.broker.File(chatID, a.GetFileId())
			if err != nil || f.GetContentType() != "image/png" || f.GetSize() != uint64(len(png)) || a.GetClientMsgId() != "wamid.IMG1" {
				t.Fatalf("file %v %v (%v)", a, f, err)
			}
		}
	}
	if got := visitorTexts(t, m, chatID); files != 1 || len(got) != 3 || strings.Join(got[:2], "|") != "Hi, my order is late|the label" {
		t.Fatalf("%d files, texts %q", files, got)
	}
	if cr := rec.GetTranscript()[0].GetCreated(); cr.GetChannel() != "wa" || cr.GetConversation() != testWACustomer ||
		cr.GetReplyWindowMs() != actors.WhatsAppReplyWindow.Milliseconds() {
		t.Fatalf("created %v", cr)
	}
}

// waInboundAgentFiles: bob sends files, uploaded to the Graph API, then
// sent by media id, a picture as an image, a PDF as a document with its
// name.
func waInboundAgentFiles(t *testing.T, addr string, graph *waContract, bw *messages.Welcome, chatID string) {
	if code, out := upload(t, addr, bw.GetSessionToken(), chatID, "label.png", "", pngBytes(t)); code != 201 {
		t.Fatalf("upload: %d %v", code, out)
	}
	if code, out := upload(t, addr, bw.GetSessionToken(), chatID, "invoice.pdf", "", []byte(pdfBytes)); code != 201 {
		t.Fatalf("upload: %d %v", code, out)
	}
	eventually(t, "two files at the Graph API", func() bool { return len(graph.sentMessages()) == 2 })
	sent := graph.sentMessages()
	imgPart, docPart := sent[0].Body["image"].(map[string]any), sent[1].Body["document"].(map[string]any)
	if sent[0].Body["type"] != "image" || sent[1].Body["type"] != "document" || docPart["filename"] != "invoice.pdf" {
		t.Fatalf("files sent as %v", sent)
	}
	graph.mu.Lock()
	gotImg, gotDoc := graph.media[imgPart["id"].(string)], graph.media[docPart["id"].(string)]
	graph.mu.Unlock()
	if !bytes.Equal(gotImg.data, pngBytes(t)) || gotImg.ctype != "image/png" || string(gotDoc.data) != pdfBytes || gotDoc.name != "invoice.pdf" {
		t.Fatalf("uploaded %q %q", gotImg.ctype, gotDoc.name)
	}
}

// waInboundSkipsAndRefuses: a status of a message the broker never sent
// is skipped; a notification that is not WhatsApp's gets a typed 400.
func waInboundSkipsAndRefuses(t *testing.T, addr string) {
	st := waPayload(t, "status.json", map[string]string{"PHONE_NUMBER_ID": testWAPhoneID, "MESSAGE_ID": "wamid.UNKNOWN", "STATUS": "read", "WA_ID": testWACustomer})
	if code, _ := postWhatsApp(t, addr, "wa", testWAAppSec, st); code != 200 {
		t.Fatal(code)
	}
	// Not a WhatsApp notification: a typed 400.
	if code, _ := postWhatsApp(t, addr, "wa", testWAAppSec, []byte(`{"object":"page","entry":[]}`)); code != 400 {
		t.Fatalf("another object: %d", code)
	}
}

// TestWhatsAppReplyWindow: a WhatsApp chat's agent writes freely within
// 24 hours of the customer's last message; after it only a template goes
// out (the broker's fake clock moved on), and a new message from the
// customer opens the window again. The replies reach the Graph API's
// contract server, and a status "read" of one becomes a ChatDelivered
// event in the transcript.
func TestWhatsAppReplyWindow(t *testing.T) {
	clock := newFakeClock()
	m := startBroker(t, t.TempDir(), allowPrivate, func(c *Config) { c.Clock = clock })
	addr := m.Addr()
	graph := newWAContract(t, testWAToken, testWAPhoneID)
	setupWhatsApp(t, addr, graph)
	bob, _ := newAgent(t, addr, "bob@demo", "bob-demo-pw", true)
	chatID, reply := waWindowRepliesUntilClosed(t, addr, clock, bob)
	waWindowClosedSends(t, bob, chatID)
	waWindowCheckTranscript(t, m, chatID)
	sent := waWindowCheckGraph(t, graph)
	// Meta reports the first one read, twice, then delivered (late): one
	// ChatDelivered event.
	for _, s := range []string{"read", "read", "delivered"} {
		st := waPayload(t, "status.json", map[string]string{"PHONE_NUMBER_ID": testWAPhoneID, "MESSAGE_ID": sent[0].WAMID, "STATUS": s, "WA_ID": testWACustomer})
		if code, body := postWhatsApp(t, addr, "wa", testWAAppSec, st); code != 200 {
			t.Fatalf("status: %d %s", code, body)
		}
	}
	if d := waWindowDelivered(t, m, chatID); len(d) != 1 || d[0].GetState() != "read" || d[0].GetOfSeq() != reply || d[0].GetChannel() != "wa" {
		t.Fatalf("delivered %v", d)
	}
	waWindowReopenedRefused(t, m, addr, graph, bob, chatID)
}

// waWindowRepliesUntilClosed: grace's message reaches bob, who accepts
// the chat and replies twice within 24 hours of it; then the fake clock
// moves past the window. It returns the chat and the first reply's seq.
func waWindowRepliesUntilClosed(t *testing.T, addr string, clock *fakeClock, bob *gateway.Client) (string, uint64) {
	t.Helper()
	if code, body := postWhatsApp(t, addr, "wa", testWAAppSec, waText(t, testWAPhoneID, "wamid.A", "hello")); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	chatID := awaitOffer(t, bob).GetChatId()
	accept(t, bob, chatID)
	reply := send(t, bob, chatID, "r1", "Hello Grace, let me look.")
	clock.Advance(23 * time.Hour)
	send(t, bob, chatID, "r2", "Still looking.")
	clock.Advance(2 * time.Hour)
	return chatID, reply
}

// waWindowClosedSends: outside the window a text is refused
// (REPLY_WINDOW_CLOSED), a whisper and a template go, a malformed
// template is INVALID_ARGUMENT.
func waWindowClosedSends(t *testing.T, bob *gateway.Client, chatID string) {
	t.Helper()
	_, err := bob.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chatID, ClientMsgId: "r3", Text: "Found it!"}}})
	var e *messages.Error
	if !errors.As(err, &e) || e.GetCode() != messages.ErrorCode_ERROR_CODE_REPLY_WINDOW_CLOSED {
		t.Fatalf("outside the window: %v", err)
	}
	// A whisper is for staff: no window.
	if _, err := bob.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chatID, Text: "note", Whisper: true}}}); err != nil {
		t.Fatal(err)
	}
	tpl := &messages.MessageTemplate{Name: "order_update", Language: "en_US", Params: []string{"Grace", "4711"}}
	if _, err := bob.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chatID, ClientMsgId: "r4", Template: tpl}}}); err != nil {
		t.Fatalf("a template outside the window: %v", err)
	}
	for _, bad := range []*messages.MessageTemplate{{Name: "Bad Name", Language: "en"}, {Name: "ok", Language: ""}} {
		if _, err := bob.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chatID, Template: bad}}}); !errors.As(err, &e) || e.GetCode() != messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT {
			t.Errorf("template %v: %v", bad, err)
		}
	}
}

// waWindowCheckTranscript: the visible messages of the transcript are
// grace's, the two replies and the template, nothing refused.
func waWindowCheckTranscript(t *testing.T, m *Main, chatID string) {
	t.Helper()
	rec, _ := m.broker.ChatRecord(chatID)
	var texts []string
	for _, ev := range rec.GetTranscript() {
		if msg := ev.GetMessage(); msg != nil && !ev.GetInternal() {
			texts = append(texts, msg.GetText())
		}
	}
	if strings.Join(texts, "|") != "hello|Hello Grace, let me look.|Still looking.|[template order_update: Grace, 4711]" {
		t.Fatalf("transcript %q", texts)
	}
}

// waWindowCheckGraph: the replies went out through the delivery outbox
// and the Graph API, in order, the whisper not. It returns them.
func waWindowCheckGraph(t *testing.T, graph *waContract) []waSent {
	t.Helper()
	// The replies went out through the delivery outbox and the Graph API,
	// in order, the whisper not.
	eventually(t, "three replies at the Graph API", func() bool { return len(graph.sentMessages()) == 3 })
	sent := graph.sentMessages()
	for i, want := range []string{"Hello Grace, let me look.", "Still looking."} {
		if b := sent[i].Body; b["type"] != "text" || b["to"] != testWACustomer || b["text"].(map[string]any)["body"] != want {
			t.Fatalf("reply %d: %v", i, b)
		}
	}
	if b := sent[2].Body; b["type"] != "template" || toJSON(b["template"]) != `{"components":[{"parameters":[{"text":"Grace","type":"text"},{"text":"4711","type":"text"}],"type":"body"}],"language":{"code":"en_US"},"name":"order_update"}` {
		t.Fatalf("template %v", toJSON(b))
	}
	return sent
}

// waWindowDelivered: the chat's ChatDelivered events, each internal.
func waWindowDelivered(t *testing.T, m *Main, chatID string) (out []*messages.ChatDelivered) {
	t.Helper()
	rec, _ := m.broker.ChatRecord(chatID)
	for _, ev := range rec.GetTranscript() {
		if d := ev.GetDelivered(); d != nil {
			if !ev.GetInternal() {
				t.Fatal("a ChatDelivered event the visitor would see")
			}
			out = append(out, d)
		}
	}
	return out
}

// waWindowReopenedRefused: the customer writes again: the window is
// open. WhatsApp refuses the next reply for good (400): the chat records
// it failed.
func waWindowReopenedRefused(t *testing.T, m *Main, addr string, graph *waContract, bob *gateway.Client, chatID string) {
	t.Helper()
	// The customer writes again: the window is open. WhatsApp refuses the
	// next reply for good (400): the chat records it failed.
	if code, _ := postWhatsApp(t, addr, "wa", testWAAppSec, waText(t, testWAPhoneID, "wamid.B", "thanks")); code != 200 {
		t.Fatal(code)
	}
	graph.mu.Lock()
	graph.refuse = 1
	graph.mu.Unlock()
	last := send(t, bob, chatID, "r5", "You are welcome.")
	eventually(t, "the refused reply recorded as failed", func() bool {
		d := waWindowDelivered(t, m, chatID)
		return len(d) == 2 && d[1].GetState() == "failed" && d[1].GetOfSeq() == last && strings.Contains(d[1].GetError(), "131047")
	})
	if n := len(graph.sentMessages()); n != 3 {
		t.Fatalf("%d messages taken, want 3", n)
	}
}

// callbackReceiver is a customer system's endpoint for an API channel's
// calls: it checks each call's signature, and keeps each event once (by
// its id), in the order taken.
type callbackReceiver struct {
	t      testing.TB
	secret string
	srv    *httptest.Server
	mu     sync.Mutex
	seen   map[string]bool
	events []hooks.Event
	bad    int
}

func newCallbackReceiver(t testing.TB, secret string) *callbackReceiver {
	r := &callbackReceiver{t: t, secret: secret, seen: map[string]bool{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var ev hooks.Event
		if hmacsig.Verify(req.Header, []byte(r.secret), body, time.Now()) != nil || json.Unmarshal(body, &ev) != nil {
			r.mu.Lock()
			r.bad++
			r.mu.Unlock()
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		r.mu.Lock()
		if id := req.Header.Get(hooks.HeaderEventID); !r.seen[id] && id == ev.ID {
			r.seen[id] = true
			r.events = append(r.events, ev)
		}
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *callbackReceiver) taken() []hooks.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hooks.Event(nil), r.events...)
}

// TestAPIChannelConversation: an API channel's conversation through the
// real gateway: the customer's system posts a signed message, the chat is
// routed to an agent, and the agent's reply comes back to the system's
// callback, signed with the channel's secret, after the chat's other
// events, in order.
func TestAPIChannelConversation(t *testing.T) {
	m := startBroker(t, t.TempDir(), func(c *Config) { c.Webhooks.AllowPrivate = true })
	addr := m.Addr()
	cb := newCallbackReceiver(t, testAPISecret)
	setupAPIChannel(t, addr, cb.srv.URL+"/switchboard")
	bob, _ := newAgent(t, addr, "bob@demo", "bob-demo-pw", true)
	code, out := postAPIChannel(t, addr, "shop", testAPISecret, time.Now(),
		map[string]any{"conversation_id": "order-1234", "message_id": "m-1", "name": "Ada", "text": "Where is my parcel?"})
	if code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	chatID := out["chat_id"].(string)
	if offer := awaitOffer(t, bob); offer.GetChatId() != chatID {
		t.Fatalf("offer %v", offer)
	}
	accept(t, bob, chatID)
	send(t, bob, chatID, "b1", "It left our warehouse today.")
	var reply *hooks.Event
	eventually(t, "the agent's reply at the callback", func() bool {
		for _, ev := range cb.taken() {
			if ev.Type == "chat.message" && strings.Contains(string(ev.Data), "It left our warehouse today.") {
				reply = &ev
				return true
			}
		}
		return false
	})
	if reply.ChatID != chatID || !strings.Contains(string(reply.Data), `"PARTICIPANT_KIND_AGENT"`) {
		t.Fatalf("reply %+v", reply)
	}
	// Every event before it came first, in the chat's order, none twice.
	var last uint64
	types := map[string]bool{}
	for _, ev := range cb.taken() {
		if ev.ChatID != chatID {
			continue
		}
		if ev.Seq <= last {
			t.Fatalf("events out of order: %d after %d", ev.Seq, last)
		}
		last = ev.Seq
		types[ev.Type] = true
		if ev.Seq == reply.Seq {
			break
		}
	}
	cb.mu.Lock()
	bad := cb.bad
	cb.mu.Unlock()
	if !types["chat.message"] || !types["chat.assigned"] || bad != 0 {
		t.Fatalf("event types %v, %d bad calls", types, bad)
	}
}

// TestChannelChatOutlivesGrace: a channel's conversation has no socket,
// so its waiting chat is not abandoned when the visitors' grace period
// runs out, before or after a restart; the agent who comes later gets it,
// and the customer's next message joins it.
func TestChannelChatOutlivesGrace(t *testing.T) {
	clock := newFakeClock()
	dir := t.TempDir()
	cfg := func(c *Config) { c.Clock, c.VisitorGrace = clock, time.Minute }
	m := startBroker(t, dir, cfg)
	setupAPIChannel(t, m.Addr(), "https://cb.example/x")
	code, out := postAPIChannel(t, m.Addr(), "shop", testAPISecret, clock.Now(),
		map[string]any{"conversation_id": "c-7", "message_id": "m-1", "name": "Ada", "text": "anyone there?"})
	if code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	chatID := out["chat_id"].(string)
	queued := func(m *Main) bool {
		rec, _ := m.broker.ChatRecord(chatID)
		return rec.GetState() == messages.ChatState_CHAT_STATE_QUEUED
	}
	clock.Advance(10 * time.Minute)
	// A website visitor's chat with no socket is abandoned after the same
	// grace: the clock did run it.
	v, _ := newVisitor(t, m.Addr(), false)
	webChat := mustChatID(t, requestChat(t, v, "support", "en", "hello"))
	idle := clock.Pending()
	v.CloseNow()
	eventually(t, "the grace timer armed", func() bool { return clock.Pending() > idle })
	clock.Advance(10 * time.Minute)
	eventually(t, "the website chat abandoned", func() bool {
		rec, _ := m.broker.ChatRecord(webChat)
		return rec.GetState() == messages.ChatState_CHAT_STATE_CLOSED
	})
	if !queued(m) {
		t.Fatal("the channel's chat did not wait")
	}
	m.Close()
	m = startBroker(t, dir, cfg)
	clock.Advance(10 * time.Minute)
	if !queued(m) {
		t.Fatal("the channel's chat did not wait after the restart")
	}
	bob, _ := newAgent(t, m.Addr(), "bob@demo", "bob-demo-pw", true)
	if offer := awaitOffer(t, bob); offer.GetChatId() != chatID {
		t.Fatalf("offer %v", offer)
	}
	accept(t, bob, chatID)
	code, out = postAPIChannel(t, m.Addr(), "shop", testAPISecret, clock.Now(),
		map[string]any{"conversation_id": "c-7", "message_id": "m-2", "name": "Ada", "text": "ah, hello"})
	if code != 200 || out["chat_id"] != chatID {
		t.Fatalf("after the restart: %d %v", code, out)
	}
}

// channelsStayExternal: a channel's customers write in to external live
// chats only, so a channel may not name a department of an internal live
// chat, the department of a channel (billing, channel bills) may not move
// into one, and a live chat with such a department may not become
// internal: each a typed error about the field, nothing changed.
func channelsStayExternal(t *testing.T, m *Main, addr string) {
	t.Helper()
	mustAdmin(t, addr, "PUT", "/admin/livechats/staff", map[string]any{"name": "Ask a colleague", "kind": "LIVE_CHAT_KIND_INTERNAL"})
	mustAdmin(t, addr, "PUT", "/admin/departments/hr", map[string]any{"name": "HR", "chat_enabled": true, "live_chat": "staff"})
	mustAdmin(t, addr, "PUT", "/admin/livechats/shops", map[string]any{"name": "Shops", "kind": "LIVE_CHAT_KIND_EXTERNAL"})
	mustAdmin(t, addr, "PUT", "/admin/departments/billing", map[string]any{"name": "Billing", "chat_enabled": true, "live_chat": "shops"})
	for _, c := range []struct {
		what, path string
		body       map[string]any
		code       int
		field      string
	}{
		{"a channel to an internal department", "/admin/channels/hrline", map[string]any{"kind": "CHANNEL_KIND_API", "department": "hr", "language": "en",
			"api": map[string]any{"secret": testAPISecret, "callback_url": "https://cb.example"}}, http.StatusBadRequest, "department"},
		{"a channel's department moving into an internal live chat", "/admin/departments/billing",
			map[string]any{"name": "Billing", "chat_enabled": true, "live_chat": "staff"}, http.StatusConflict, "live_chat"},
		{"a live chat with a channel's department becoming internal", "/admin/livechats/shops",
			map[string]any{"name": "Shops", "kind": "LIVE_CHAT_KIND_INTERNAL"}, http.StatusConflict, "kind"},
	} {
		var e map[string]any
		if code := admin(t, addr, "PUT", c.path, c.body, &e); code != c.code || e["field"] != c.field {
			t.Errorf("%s: %d %v, want %d about %s", c.what, code, e, c.code, c.field)
		}
	}
	if ch, _ := m.broker.Channel("hrline"); ch != nil {
		t.Errorf("a refused channel was stored: %v", ch)
	}
	if d, _ := m.store.Department("billing"); d.GetLiveChat() != "shops" {
		t.Errorf("a refused move changed billing: %v", d)
	}
	if lc, _ := m.broker.LiveChat("shops"); lc.GetKind() != messages.LiveChatKind_LIVE_CHAT_KIND_EXTERNAL {
		t.Errorf("a refused change made shops internal: %v", lc)
	}
}

// TestChannelInboundStaysExternal: a channel whose department is in an
// internal live chat (stored before the directory refused that) asks for
// no chat: the customer's message is FORBIDDEN and stores nothing.
func TestChannelInboundStaysExternal(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/livechats/staff", map[string]any{"name": "Ask a colleague", "kind": "LIVE_CHAT_KIND_INTERNAL"})
	mustAdmin(t, addr, "PUT", "/admin/departments/billing", map[string]any{"name": "Billing", "chat_enabled": true})
	mustAdmin(t, addr, "PUT", "/admin/channels/bills", map[string]any{"kind": "CHANNEL_KIND_API", "department": "billing", "language": "en", "enabled": true,
		"api": map[string]any{"secret": testAPISecret, "callback_url": "http://127.0.0.1:1/cb"}})
	d, err := m.store.Department("billing")
	if err != nil {
		t.Fatal(err)
	}
	d.LiveChat = "staff"
	done := make(chan error, 1)
	m.store.PutDepartment(d, func(err error) { done <- err })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	code, out := postAPIChannel(t, addr, "bills", testAPISecret, time.Now(),
		map[string]any{"conversation_id": "inv-1", "message_id": "m-1", "name": "Ada", "text": "Is my invoice paid?"})
	if code != http.StatusForbidden || out["code"] != "ERROR_CODE_FORBIDDEN" {
		t.Fatalf("a channel's customer writing in to an internal department: %d %v", code, out)
	}
	if n := len(channelChats(t, m, "bills", "inv-1")); n != 0 {
		t.Fatalf("the refused message stored %d chats", n)
	}
}

// TestWhatsAppInboundCleaned: a customer's right-to-left text with its
// direction marks and a control character, from a long name cut inside a
// character, is stored cleaned rather than refused and dropped; a medium
// of a type uploads do not accept becomes a note, not a file.
func TestWhatsAppInboundCleaned(t *testing.T) {
	m := startBroker(t, t.TempDir(), allowPrivate)
	addr := m.Addr()
	graph := newWAContract(t, testWAToken, testWAPhoneID)
	setupWhatsApp(t, addr, graph)
	bob, _ := newAgent(t, addr, "bob@demo", "bob-demo-pw", true)
	name := "a" + strings.Repeat("é", 200) // byte 256 is inside an é
	body := waPayload(t, "text_message.json", map[string]string{"PHONE_NUMBER_ID": testWAPhoneID, "WA_ID": testWACustomer, "NAME": name + "\u200f",
		"MESSAGE_ID": "wamid.RTL1", "MESSAGE_BODY": "\u200fשלום\u200e, where\u061c is it?\a", "TIMESTAMP": "1900000000",
		"DISPLAY_PHONE_NUMBER": "15550001111", "WHATSAPP_BUSINESS_ACCOUNT_ID": "102290129340398"})
	if code, out := postWhatsApp(t, addr, "wa", testWAAppSec, body); code != 200 {
		t.Fatalf("notification: %d %s", code, out)
	}
	offer := awaitOffer(t, bob)
	if want := name[:255]; offer.GetVisitorName() != want {
		t.Fatalf("name %q, want %q", offer.GetVisitorName(), want)
	}
	if got := visitorTexts(t, m, offer.GetChatId()); len(got) != 1 || got[0] != "שלום, where is it?" {
		t.Fatalf("texts %q", got)
	}
	// A medium claimed an image but not one by its bytes: a note, no file.
	graph.addMedia("777", []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), "image/png")
	img := waPayload(t, "image_message.json", map[string]string{"PHONE_NUMBER_ID": testWAPhoneID, "WA_ID": testWACustomer, "NAME": "Grace",
		"MESSAGE_ID": "wamid.EXE1", "CAPTION": "the photo", "MEDIA_ID": "777", "TIMESTAMP": "1900000001"})
	if code, out := postWhatsApp(t, addr, "wa", testWAAppSec, img); code != 200 {
		t.Fatalf("medium: %d %s", code, out)
	}
	rec, _ := m.broker.ChatRecord(offer.GetChatId())
	for _, ev := range rec.GetTranscript() {
		if ev.GetAttachment() != nil {
			t.Fatalf("a file of a type not accepted was stored: %v", ev)
		}
	}
	if got := visitorTexts(t, m, offer.GetChatId()); len(got) != 2 || got[1] != "[unsupported attachment: application/octet-stream] the photo" {
		t.Fatalf("texts %q", got)
	}
}

// TestAPIChannelBadText: a text or name the chat would refuse is refused
// by the route, naming the field, before any chat is created.
func TestAPIChannelBadText(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	setupAPIChannel(t, addr, "http://127.0.0.1:1/cb")
	now := time.Now()
	before, err := m.store.OpenChats()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, field, text, who string
		status                 int
	}{
		{"an override", "text", "hi \u202egnp.exe", "Ada", 400},
		{"an escape", "text", "hi \x1b]0;title\a", "Ada", 400},
		{"too long", "text", strings.Repeat("x", actors.MaxMessageBytes+1), "Ada", 413},
		{"a bad name", "name", "hi", "Ada\x1b[2J", 400},
	} {
		code, out := postAPIChannel(t, addr, "shop", testAPISecret, now, map[string]any{"conversation_id": "c-" + c.name, "message_id": "m", "name": c.who, "text": c.text})
		if code != c.status || out["field"] != c.field || out["code"] == nil {
			t.Errorf("%s: %d %v, want %d naming %s", c.name, code, out, c.status, c.field)
		}
	}
	after, err := m.store.OpenChats()
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("refused calls opened chats: %d then %d", len(before), len(after))
	}
}

// TestWhatsAppStatusEarly: a status of a wamid not known yet is answered
// 503 while it is recent (the reply's ref may not be stored yet: Meta
// sends it again), 200 when it is old (a message sent from elsewhere).
func TestWhatsAppStatusEarly(t *testing.T) {
	m := startBroker(t, t.TempDir(), allowPrivate)
	addr := m.Addr()
	graph := newWAContract(t, testWAToken, testWAPhoneID)
	setupWhatsApp(t, addr, graph)
	for _, c := range []struct {
		at     time.Time
		status int
	}{{time.Now(), 503}, {time.Now().Add(-time.Minute), 503}, {time.Now().Add(-time.Hour), 200}} {
		st := waPayload(t, "status.json", map[string]string{"PHONE_NUMBER_ID": testWAPhoneID, "MESSAGE_ID": "wamid.NOTYET", "STATUS": "delivered",
			"WA_ID": testWACustomer, "TIMESTAMP": strconv.FormatInt(c.at.Unix(), 10)})
		if code, body := postWhatsApp(t, addr, "wa", testWAAppSec, st); code != c.status {
			t.Errorf("a status of %v: %d %s, want %d", c.at, code, body, c.status)
		}
	}
}
