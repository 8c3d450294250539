package gateway

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence"
)

// FuzzDecodeFrame: any frame, binary or text, either decodes to an
// envelope with a body that survives a round trip, or is refused with a
// typed error. It never panics. The seed corpus is in
// testdata/fuzz/FuzzDecodeFrame.
func FuzzDecodeFrame(f *testing.F) {
	for _, env := range []*messages.Envelope{
		{Ref: 1, Body: &messages.Envelope_Hello{Hello: &messages.Hello{Login: "a@b", Password: "pw", Cursors: map[string]uint64{"c1": 3}}}},
		{Ref: 2, Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: "c1", ClientMsgId: "m", Text: "héllo"}}},
		{Ref: 3, Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{Department: "sales", Language: "en"}}},
	} {
		for _, typ := range []websocket.MessageType{websocket.MessageBinary, websocket.MessageText} {
			data, _ := EncodeFrame(typ, env)
			f.Add(data, typ == websocket.MessageText)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, text bool) {
		typ := websocket.MessageBinary
		if text {
			typ = websocket.MessageText
		}
		env, derr := DecodeFrame(typ, data)
		if derr != nil {
			if derr.GetCode() != messages.ErrorCode_ERROR_CODE_BAD_FRAME && derr.GetCode() != messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE {
				t.Fatalf("untyped refusal %v", derr)
			}
			return
		}
		if env.GetBody() == nil {
			t.Fatal("decoded an envelope without a body")
		}
		again, err := EncodeFrame(typ, env)
		if err != nil {
			t.Fatalf("a decoded envelope does not encode: %v", err)
		}
		back, derr := DecodeFrame(typ, again)
		if derr != nil || !proto.Equal(env, back) {
			t.Fatalf("round trip changed the envelope: %v -> %v (%v)", env, back, derr)
		}
	})
}

// FuzzAdminAPI sends arbitrary bodies to the admin API's write routes on a
// real broker (Pebble in a temporary folder). Every answer is JSON; every
// refusal is a typed error and leaves the directory (the webhooks, the
// channels) as it was. The seed corpus is in testdata/fuzz/FuzzAdminAPI.
func FuzzAdminAPI(f *testing.F) {
	// route picks the path (route % len(paths)) and the method
	// (route / len(paths) % 3: PUT, DELETE, PATCH); r spells it. From
	// 0xF0 on, the webhook routes: PUT, DELETE or PATCH
	// /admin/webhooks/{id} (route % 3), and POST /admin/webhooks (route
	// 0xFF, the body's id); from 0xE0 to 0xEF, the channels' routes
	// (route % 4: POST /admin/channels, then PUT, DELETE, GET
	// /admin/channels/{id}).
	paths := []string{"/admin/departments/", "/admin/languages/", "/admin/agents/", "/admin/settings#", "/admin/roles/", "/admin/sign-in#",
		"/admin/departments/billing/canned/", "/admin/email#", "/admin/livechats/"}
	methods := []string{http.MethodPut, http.MethodDelete, http.MethodPatch}
	const (
		dep, lang, agent, settings, role, signIn, canned, email, liveChat = 0, 1, 2, 3, 4, 5, 6, 7, 8
		put, del, patch                                                   = 0, 1, 2
	)
	r := func(path, method int) uint8 { return uint8(method*len(paths) + path) }
	f.Add(r(dep, put), "billing", []byte(`{"name":"Billing","chat_enabled":true,"queue_limit":50}`))
	f.Add(r(lang, put), "sv", []byte(`{"name":"Svenska","chat_enabled":true}`))
	f.Add(r(agent, put), "dave", []byte(`{"login":"dave@x","password":"dave-password","departments":["billing"],"languages":["sv"],"max_chats":2,"chat_agent":true}`))
	f.Add(r(dep, put), "bad id!", []byte(`{"name":"x"}`))
	f.Add(r(agent, put), "eve", []byte(`{"login":"eve@x","password":"short"}`))
	f.Add(r(agent, put), "erin", []byte(`{"login":"erin@x","sign_in":"ldap","chat_agent":true}`))
	f.Add(r(agent, put), "fay", []byte(`{"login":"fay@x","sign_in":"oidc","password":"fay-password"}`))
	f.Add(r(dep, del), "billing", []byte(``))
	f.Add(r(dep, patch), "billing", []byte(`{"chat_enabled":false,"supervisors":null}`))
	f.Add(r(dep, put), "billing", []byte(`{"name":"Billing","tags":["refund","bug"],"require_tag":true}`))
	f.Add(r(dep, put), "billing", []byte(`{"name":"Billing","require_tag":true}`))
	f.Add(r(dep, put), "billing", []byte(`{"name":"Billing","retention_days":30,"offline_messages":true}`))
	f.Add(r(agent, patch), "dave", []byte(`{"max_chats":3}`))
	f.Add(r(role, put), "trainee", []byte(`{"name":"Trainee","permissions":["live_chat","chats.view","admin"]}`))
	f.Add(r(role, patch), "trainee", []byte(`{"permissions":["owner"]}`))
	f.Add(r(canned, put), "refund", []byte(`{"text":"Hello {visitor.name}, {agent.name} of {department.name} here."}`))
	f.Add(r(canned, put), "oops", []byte(`{"text":"Hello {visitor.nmae}"}`))
	f.Add(r(canned, put), "Bad#", []byte(`{"text":"x"}`))
	f.Add(r(canned, del), "refund", []byte(``))
	f.Add(r(signIn, put), "x", []byte(`{"ldap":{"url":"ldap://127.0.0.1:1","user_base":"dc=x","user_filter":"(uid={login})","groups":[{"group":"cn=s","role":"owner"}]}}`))
	f.Add(r(signIn, put), "x", []byte(`{"ldap":{"enabled":true,"url":"ldap://127.0.0.1:1","user_base":"dc=x","user_filter":"(uid={login})"}}`))
	f.Add(r(signIn, put), "x", []byte(`{"oidc":{"enabled":true,"issuer":"http://idp","client_id":"c","redirect_url":"https://x/api/sign-in/oidc/callback"}}`))
	f.Add(r(email, put), "x", []byte(`{"smtp":{"enabled":true,"host":"smtp.example.com","security":"SMTP_SECURITY_NONE","from":"a@example.com"}}`))
	f.Add(r(email, put), "x", []byte(`{"smtp":{"enabled":true,"host":"127.0.0.1","port":2525,"security":"SMTP_SECURITY_NONE","from":"a@example.com","user":"u","password":"p"},"templates":{"":{"brand_name":"Acme","transcript":{"html":"<p>{visitor.name}</p>"}}}}`))
	f.Add(r(email, put), "x", []byte(`{"templates":{"billing":{"agent":{"html":"<a href=\"{message}"}}}}`))
	f.Add(r(liveChat, put), "hr", []byte(`{"name":"HR desk","kind":"LIVE_CHAT_KIND_INTERNAL","supervisors":[],"look":{"color":"#123456","title":{"en":"Ask HR"}}}`))
	f.Add(r(liveChat, put), "main", []byte(`{"kind":"LIVE_CHAT_KIND_INTERNAL"}`))
	f.Add(r(liveChat, put), "hr", []byte(`{"supervisors":["nobody"]}`))
	f.Add(r(liveChat, put), "hr", []byte(`{"kind":9,"look":{"color":"red"}}`))
	f.Add(r(liveChat, patch), "main", []byte(`{"supervisors":null,"look":{"color":"#0b7a75"}}`))
	f.Add(r(liveChat, patch), "main", []byte(`{"kind":"LIVE_CHAT_KIND_INTERNAL"}`))
	f.Add(r(liveChat, del), "main", []byte(``))
	f.Add(r(liveChat, del), "hr", []byte(``))
	f.Add(r(dep, put), "billing", []byte(`{"name":"Billing","chat_enabled":true,"live_chat":"hr"}`))
	f.Add(r(dep, put), "billing", []byte(`{"name":"Billing","live_chat":"nope"}`))
	f.Add(r(dep, patch), "billing", []byte(`{"live_chat":"main"}`))
	f.Add(uint8(0xF0), "crm", []byte(`{"url":"https://crm.example.com/hook","secret":"0123456789abcdef","events":["chat.message"]}`))
	f.Add(uint8(0xF0), "crm", []byte(`{"url":"ftp://crm.example.com/hook","secret":"0123456789abcdef"}`))
	f.Add(uint8(0xFF), "x", []byte(`{"id":"crm2","url":"https://crm.example.com/hook","secret":"0123456789abcdef","live_chat":"main"}`))
	f.Add(uint8(0xFF), "x", []byte(`{"id":"crm3","url":"https://crm.example.com/hook","secret":"short"}`))
	f.Add(uint8(0xFF), "x", []byte(`{"id":"crm4","url":"https://crm.example.com/hook","secret":"0123456789abcdef","events":["chat.nope"]}`))
	f.Add(uint8(0xF1), "crm2", []byte(``))
	f.Add(uint8(0xE1), "shop", []byte(`{"kind":"CHANNEL_KIND_API","department":"billing","language":"sv","enabled":true,"api":{"secret":"0123456789abcdef","callback_url":"https://cb.example/x"}}`))
	f.Add(uint8(0xE0), "x", []byte(`{"id":"wa","kind":"CHANNEL_KIND_WHATSAPP","department":"billing","language":"sv","whatsapp":{"phone_number_id":"1065","verify_token":"v","app_secret":"a","access_token":"t","graph_base_url":"http://127.0.0.1:1"}}`))
	f.Add(uint8(0xE1), "shop", []byte(`{"kind":"CHANNEL_KIND_API","department":"billing","language":"sv","api":{"callback_url":"https://other.example"}}`))
	f.Add(uint8(0xE1), "wa2", []byte(`{"kind":"CHANNEL_KIND_WHATSAPP","department":"billing","language":"sv","whatsapp":{"phone_number_id":"1065","verify_token":"v","app_secret":"a","access_token":"t"}}`))
	f.Add(uint8(0xE1), "shop", []byte(`{"kind":"CHANNEL_KIND_API","department":"nope","language":"sv","api":{"secret":"0123456789abcdef","callback_url":"https://cb.example/x"}}`))
	f.Add(uint8(0xE2), "shop", []byte(``))
	f.Add(uint8(0xE3), "wa", []byte(``))
	s := testServer(f)
	f.Fuzz(func(t *testing.T, route uint8, id string, body []byte) {
		if id == "" || id == "." || id == ".." {
			return // a different route, not a different request
		}
		method, path, id := adminFuzzRoute(route, id, paths, methods)
		snap := takeAdminSnapshot(s)
		req := httptest.NewRequest(method, path+url.PathEscape(id), bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer fuzz-admin")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code == http.StatusNoContent {
			return
		}
		answer := checkAdminFuzzAnswer(t, method, req, rec)
		if rec.Code >= 400 {
			if code, _ := answer["code"].(string); !strings.HasPrefix(code, "ERROR_CODE_") || rec.Code >= 500 {
				t.Fatalf("%s %s: status %d, untyped or internal error %v", method, req.URL.Path, rec.Code, answer)
			}
			snap.checkUnchanged(t, s, method, req.URL.Path, body)
		}
	})
}

// adminFuzzRoute decodes FuzzAdminAPI's route byte into the method and
// path, and the id to append (empty for the routes that take none).
func adminFuzzRoute(route uint8, id string, paths, methods []string) (string, string, string) {
	method, path := methods[int(route)/len(paths)%len(methods)], paths[int(route)%len(paths)]
	switch {
	case route == 0xFF:
		method, path, id = http.MethodPost, "/admin/webhooks", ""
	case route >= 0xF0:
		method, path = methods[int(route)%len(methods)], "/admin/webhooks/"
	case route >= 0xE0:
		method, path = []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodGet}[route%4], "/admin/channels/"
		if method == http.MethodPost {
			path, id = "/admin/channels", ""
		}
	}
	if p, ok := strings.CutSuffix(path, "#"); ok {
		path, id = p, "" // settings: no id
	}
	return method, path, id
}

// checkAdminFuzzAnswer checks that a successful answer shows no secret
// and that every answer is JSON, which it returns decoded.
func checkAdminFuzzAnswer(t *testing.T, method string, req *http.Request, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	for _, secret := range []string{"0123456789abcdef", `"app_secret":"a"`, `"access_token":"t"`} {
		if rec.Code < 300 && strings.Contains(rec.Body.String(), secret) {
			t.Fatalf("%s %s: the answer shows a secret: %s", method, req.URL.Path, rec.Body)
		}
	}
	var answer map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
		t.Fatalf("%s %s: status %d, body is not JSON: %q", method, req.URL.Path, rec.Code, rec.Body)
	}
	return answer
}

// adminSnapshot is what a refused admin request must leave as it was.
type adminSnapshot struct {
	hooks    []*messages.WebhookEndpoint
	channels []*messages.Channel
	dir      *messages.DirectoryView
	signIn   *messages.SignInSettings
	canned   []*messages.CannedReply
	email    *messages.EmailSettings
}

// takeAdminSnapshot reads the webhooks, the channels, the directory, the
// sign-in settings, billing's canned replies and the email settings.
func takeAdminSnapshot(s *Server) adminSnapshot {
	var b adminSnapshot
	b.hooks, _ = s.cfg.Broker.Webhooks()
	b.channels, _ = s.cfg.Broker.Channels()
	b.dir, _ = s.cfg.Broker.DirectoryView()
	b.signIn, _ = s.cfg.Broker.SignIn()
	b.canned, _ = s.cfg.Broker.CannedReplies("billing", "")
	b.email, _ = s.cfg.Broker.EmailSettings()
	return b
}

// checkUnchanged fails the test if the broker's state differs from the
// snapshot taken before the refused request.
func (b adminSnapshot) checkUnchanged(t *testing.T, s *Server, method, path string, body []byte) {
	t.Helper()
	after, _ := s.cfg.Broker.DirectoryView()
	signInAfter, _ := s.cfg.Broker.SignIn()
	cannedAfter, _ := s.cfg.Broker.CannedReplies("billing", "")
	emailAfter, _ := s.cfg.Broker.EmailSettings()
	channelsAfter, _ := s.cfg.Broker.Channels()
	if !proto.Equal(&messages.ChannelList{Channels: b.channels}, &messages.ChannelList{Channels: channelsAfter}) {
		t.Fatalf("a refused request changed the channels: %s %s %q", method, path, body)
	}
	hooksAfter, _ := s.cfg.Broker.Webhooks()
	if !proto.Equal(&messages.WebhookList{Webhooks: b.hooks}, &messages.WebhookList{Webhooks: hooksAfter}) {
		t.Fatalf("a refused request changed the webhooks: %s %s %q", method, path, body)
	}
	if !proto.Equal(b.dir, after) || !proto.Equal(b.signIn, signInAfter) || !proto.Equal(b.email, emailAfter) ||
		!proto.Equal(&messages.CannedReplies{Replies: b.canned}, &messages.CannedReplies{Replies: cannedAfter}) {
		t.Fatalf("a refused request changed the directory: %s %s %q", method, path, body)
	}
}

func testServer(f testing.TB) *Server {
	log := slog.New(slog.DiscardHandler)
	store, err := persistence.Open(f.TempDir(), persistence.Options{Logger: log})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	b, err := actors.New(actors.Config{Store: store, Logger: log})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(b.Shutdown)
	s, err := New(Config{Broker: b, TokenSecret: bytes.Repeat([]byte("k"), 32), AdminTokenHash: HashAdminToken("fuzz-admin"),
		Logger: log, Password: PasswordParams{MemoryKiB: 64, Time: 1}})
	if err != nil {
		f.Fatal(err)
	}
	return s
}
