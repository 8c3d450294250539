package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

func wantError(t *testing.T, c *gateway.Client, code messages.ErrorCode, what string) *messages.Error {
	t.Helper()
	env, err := c.Await(ctxT(t), func(e *messages.Envelope) bool { return e.GetError() != nil })
	if err != nil {
		t.Fatalf("%s: no error came back: %v", what, err)
	}
	if env.GetError().GetCode() != code {
		t.Fatalf("%s: error %v, want %v", what, env.GetError(), code)
	}
	return env.GetError()
}

// TestBadFramesChangeNothing sends malformed, unknown, oversized and
// out-of-order frames: each gets a typed error, the socket stays usable,
// and nothing is stored.
func TestBadFramesChangeNothing(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	ctx := ctxT(t)

	v := dial(t, addr, "visitor", false)
	// Before Hello.
	v.Send(ctx, &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{Department: "sales", Language: "en"}}})
	wantError(t, v, messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "command before Hello")
	if _, err := v.Hello(ctx, &messages.Hello{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		typ  websocket.MessageType
		data []byte
		code messages.ErrorCode
	}{
		{"malformed protobuf", websocket.MessageBinary, []byte{0x0a, 0xff, 0xff}, messages.ErrorCode_ERROR_CODE_BAD_FRAME},
		{"malformed JSON", websocket.MessageText, []byte(`{"request_chat": {"department": `), messages.ErrorCode_ERROR_CODE_BAD_FRAME},
		{"JSON with a wrong field type", websocket.MessageText, []byte(`{"request_chat": {"department": 7}}`), messages.ErrorCode_ERROR_CODE_BAD_FRAME},
		{"JSON with an unknown message", websocket.MessageText, []byte(`{"launch_rocket": {}}`), messages.ErrorCode_ERROR_CODE_BAD_FRAME},
		{"protobuf with an unknown message", websocket.MessageBinary, protowire.AppendBytes(protowire.AppendTag(nil, 999, protowire.BytesType), []byte{1}), messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE},
		{"invalid UTF-8 in a string", websocket.MessageBinary, protowire.AppendBytes(protowire.AppendTag(nil, 11, protowire.BytesType),
			protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), []byte{0xff, 0xfe})), messages.ErrorCode_ERROR_CODE_BAD_FRAME},
		{"empty envelope", websocket.MessageBinary, nil, messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE},
		{"oversized frame", websocket.MessageBinary, make([]byte, 100<<10), messages.ErrorCode_ERROR_CODE_TOO_LARGE},
	}
	for _, c := range cases {
		if err := v.SendFrame(ctx, c.typ, c.data); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		wantError(t, v, c.code, c.name)
	}
	bad := []struct {
		name string
		env  *messages.Envelope
		code messages.ErrorCode
	}{
		{"server message from a client", &messages.Envelope{Body: &messages.Envelope_Welcome{Welcome: &messages.Welcome{}}}, messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE},
		{"agent command from a visitor", &messages.Envelope{Body: &messages.Envelope_SetStatus{SetStatus: &messages.SetStatus{Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}}, messages.ErrorCode_ERROR_CODE_FORBIDDEN},
		{"send before having a chat", &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: "nope", Text: "hi"}}}, messages.ErrorCode_ERROR_CODE_NOT_FOUND},
		{"bad department name", &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{Department: "../etc", Language: "en"}}}, messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT},
		{"second Hello", &messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{}}}, messages.ErrorCode_ERROR_CODE_CONFLICT},
	}
	for _, c := range bad {
		_, err := v.Call(ctx, c.env)
		if e, ok := err.(*messages.Error); !ok || e.GetCode() != c.code {
			t.Fatalf("%s: %v, want %v", c.name, err, c.code)
		}
	}
	// The socket still works, and none of that stored anything.
	if open, _ := m.store.OpenChats(); len(open) != 0 {
		t.Fatalf("bad input created chats: %v", open)
	}
	if _, err := v.Call(ctx, &messages.Envelope{Body: &messages.Envelope_Ping{Ping: &messages.Ping{}}}); err != nil {
		t.Fatalf("socket unusable after bad input: %v", err)
	}

	// Cross-chat access: another visitor's chat looks like no chat at all,
	// and an agent cannot accept an offer that is not theirs.
	chat := mustChatID(t, requestChat(t, v, "sales", "en", "mine"))
	other, _ := newVisitor(t, addr, false)
	if _, err := other.Call(ctx, &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, Text: "hijack"}}}); err == nil ||
		err.(*messages.Error).GetCode() != messages.ErrorCode_ERROR_CODE_NOT_FOUND {
		t.Fatalf("cross-chat send: %v", err)
	}
	if _, err := other.Call(ctx, &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}}); err == nil {
		t.Fatal("another visitor closed the chat")
	}
	bob, _ := newAgent(t, addr, "bob@demo", "bob-demo-pw", true)
	if _, err := bob.Call(ctx, &messages.Envelope{Body: &messages.Envelope_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: chat}}}); err == nil {
		t.Fatal("bob accepted an offer he never had")
	}
	if _, err := bob.Call(ctx, &messages.Envelope{Body: &messages.Envelope_PickChat{PickChat: &messages.PickChat{Department: "sales", ChatId: chat}}}); err == nil ||
		err.(*messages.Error).GetCode() != messages.ErrorCode_ERROR_CODE_FORBIDDEN {
		t.Fatalf("bob picking from sales: %v", err)
	}
	if _, err := bob.Call(ctx, &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, Text: "hi"}}}); err == nil {
		t.Fatal("an agent wrote into a chat that is not his")
	}
	rec, _ := m.broker.ChatRecord(chat)
	if len(rec.GetTranscript()) != 2 || rec.GetState() != messages.ChatState_CHAT_STATE_QUEUED {
		t.Fatalf("chat changed by foreign commands: %v", rec)
	}

	// Wrong credentials and forged session tokens.
	a := dial(t, addr, "agent", false)
	if _, err := a.Hello(ctx, &messages.Hello{Login: "alice@demo", Password: "wrong"}); err == nil {
		t.Fatal("wrong password accepted")
	}
	if _, err := a.Hello(ctx, &messages.Hello{SessionToken: "eyJhIjoxfQ.forged"}); err == nil {
		t.Fatal("forged session accepted")
	}
}

func TestHugeFrameClosesWith1009(t *testing.T) {
	m := startBroker(t, t.TempDir())
	v, _ := newVisitor(t, m.Addr(), false)
	v.SendFrame(ctxT(t), websocket.MessageBinary, make([]byte, 2<<20))
	_, err := v.Await(ctxT(t), func(*messages.Envelope) bool { return false })
	if code := gateway.CloseCode(err); code != websocket.StatusMessageTooBig {
		t.Fatalf("close code %v (%v)", code, err)
	}
}

// TestForeignOriginIsRefused: a page on another site cannot open a socket
// (cross-site websocket hijacking); the same origin and configured ones can.
func TestForeignOriginIsRefused(t *testing.T) {
	m := startBroker(t, t.TempDir(), func(c *Config) { c.OriginPatterns = []string{"shop.example.com"} })
	try := func(origin string) error {
		h := http.Header{}
		h.Set("Origin", origin)
		c, err := gateway.Dial(ctxT(t), "ws://"+m.Addr()+"/ws/visitor", gateway.ClientOptions{Header: h})
		if err == nil {
			c.CloseNow()
		}
		return err
	}
	if err := try("https://evil.example.net"); err == nil {
		t.Fatal("foreign origin accepted")
	}
	if err := try("https://shop.example.com"); err != nil {
		t.Fatalf("configured origin refused: %v", err)
	}
	if err := try("http://" + m.Addr()); err != nil {
		t.Fatalf("same origin refused: %v", err)
	}
}

// TestAdminAPIValidates: the admin API needs its credential, refuses bad
// bodies with typed errors, and a refused change leaves the directory as it
// was.
func TestAdminAPIValidates(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	req, _ := http.NewRequest("GET", "http://"+addr+"/admin/directory", nil)
	res, _ := http.DefaultClient.Do(req)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no credential: %d", res.StatusCode)
	}
	before := map[string]any{}
	admin(t, addr, "GET", "/admin/directory", nil, &before)
	cases := []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"PUT", "/admin/departments/billing", `{"name": `, 400, "ERROR_CODE_INVALID_ARGUMENT"},
		{"PUT", "/admin/departments/billing", `{"nmae": "x"}`, 400, "ERROR_CODE_INVALID_ARGUMENT"},
		{"PUT", "/admin/departments/Bad%20Id", `{}`, 400, "ERROR_CODE_INVALID_ARGUMENT"},
		{"PUT", "/admin/departments/billing", `{"id": "other"}`, 400, "ERROR_CODE_INVALID_ARGUMENT"},
		{"PUT", "/admin/languages/english", `{}`, 400, "ERROR_CODE_INVALID_ARGUMENT"},
		{"PUT", "/admin/agents/dave", `{"login": "dave@x", "password": "short"}`, 400, "ERROR_CODE_INVALID_ARGUMENT"},
		{"PUT", "/admin/agents/dave", `{"login": "dave@x"}`, 400, "ERROR_CODE_INVALID_ARGUMENT"},
		{"PUT", "/admin/agents/dave", `{"login": "alice@demo", "password": "long-enough"}`, 409, "ERROR_CODE_CONFLICT"},
		{"PUT", "/admin/agents/dave", `{"login": "dave@x", "password": "long-enough", "departments": ["nope"]}`, 400, "ERROR_CODE_INVALID_ARGUMENT"},
		{"PUT", "/admin/agents/dave", `{"login": "dave@x", "password": "long-enough", "extra": 1}`, 400, "ERROR_CODE_INVALID_ARGUMENT"},
		{"DELETE", "/admin/departments/sales", ``, 409, "ERROR_CODE_CONFLICT"},
		{"DELETE", "/admin/agents/nobody", ``, 404, "ERROR_CODE_NOT_FOUND"},
	}
	for _, c := range cases {
		var out map[string]any
		status := admin(t, addr, c.method, c.path, c.body, &out)
		if status != c.status || out["code"] != c.code {
			t.Errorf("%s %s %s = %d %v; want %d %s", c.method, c.path, c.body, status, out, c.status, c.code)
		}
	}
	after := map[string]any{}
	admin(t, addr, "GET", "/admin/directory", nil, &after)
	if strings.TrimSpace(toJSON(before)) != strings.TrimSpace(toJSON(after)) {
		t.Fatalf("refused changes changed the directory:\n%v\n%v", before, after)
	}
	// A valid agent can log in at once.
	mustAdmin(t, addr, "PUT", "/admin/agents/dave", map[string]any{"login": "dave@x", "password": "long-enough", "departments": []string{"sales"}, "languages": []string{"en"}, "chat_agent": true})
	newAgent(t, addr, "dave@x", "long-enough", true)
}
