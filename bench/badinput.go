package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// BadInput is what the bad-input round sent and how the broker answered.
type BadInput struct {
	Tried int `json:"tried"`
	// Answered: a typed error with the expected code, or the expected
	// refusal (close code, HTTP status).
	Answered int `json:"answered"`
	// Unexpected: anything else (must be 0); the first few are in Notes.
	Unexpected int      `json:"unexpected"`
	Notes      []string `json:"notes,omitempty"`
}

type badCase struct {
	name string
	run  func(ctx context.Context) error // nil: answered as expected
}

// badInput sends each kind of bad input rounds times, on fresh
// connections, and checks the answer.
func (r *runner) badInput(ctx context.Context, rounds int) {
	r.phase.Store("bad-input")
	cases := r.badCases()
	bi := &r.rep.BadInput
	for round := 0; round < rounds; round++ {
		for _, c := range cases {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := c.run(cctx)
			cancel()
			bi.Tried++
			if err == nil {
				bi.Answered++
				continue
			}
			bi.Unexpected++
			if len(bi.Notes) < 5 {
				bi.Notes = append(bi.Notes, c.name+": "+err.Error())
			}
		}
	}
	r.note("bad input: %d tried, %d answered with the typed error or refusal expected, %d unexpected", bi.Tried, bi.Answered, bi.Unexpected)
}

// badCases are the kinds of bad input and how each must be answered.
func (r *runner) badCases() []badCase {
	base := r.sim.wsBase
	raw := func(frames [][]byte, typ websocket.MessageType, want messages.ErrorCode, hello bool) func(context.Context) error {
		return func(ctx context.Context) error { return sendRaw(ctx, base, frames, typ, want, hello) }
	}
	env := func(e *messages.Envelope) []byte { b, _ := proto.Marshal(e); return b }
	badUTF8 := protowire.AppendBytes(protowire.AppendTag(nil, 12, protowire.BytesType),
		protowire.AppendBytes(protowire.AppendTag(nil, 3, protowire.BytesType), []byte{0xff, 0xfe}))
	return []badCase{
		{"malformed protobuf", raw([][]byte{{0x0a, 0xff, 0xff}}, websocket.MessageBinary, messages.ErrorCode_ERROR_CODE_BAD_FRAME, true)},
		{"malformed JSON", raw([][]byte{[]byte(`{"send_message": {`)}, websocket.MessageText, messages.ErrorCode_ERROR_CODE_BAD_FRAME, false)},
		{"JSON with a wrong field type", raw([][]byte{[]byte(`{"request_chat": {"department": 7}}`)}, websocket.MessageText, messages.ErrorCode_ERROR_CODE_BAD_FRAME, false)},
		{"unknown message", raw([][]byte{protowire.AppendBytes(protowire.AppendTag(nil, 999, protowire.BytesType), []byte{1})}, websocket.MessageBinary, messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE, true)},
		{"invalid UTF-8", raw([][]byte{badUTF8}, websocket.MessageBinary, messages.ErrorCode_ERROR_CODE_BAD_FRAME, true)},
		{"oversized frame", raw([][]byte{make([]byte, 100<<10)}, websocket.MessageBinary, messages.ErrorCode_ERROR_CODE_TOO_LARGE, true)},
		{"command before Hello", raw([][]byte{env(&messages.Envelope{Ref: 2, Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: r.someChat(), Text: "hi"}}})}, websocket.MessageBinary, messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, false)},
		{"server message from a client", raw([][]byte{env(&messages.Envelope{Ref: 2, Body: &messages.Envelope_Welcome{Welcome: &messages.Welcome{}}})}, websocket.MessageBinary, messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE, true)},
		{"agent command from a visitor", raw([][]byte{env(&messages.Envelope{Ref: 2, Body: &messages.Envelope_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: "c01aaaaaaaaaaaaaaaaaaaaaaaaaa"}}})}, websocket.MessageBinary, messages.ErrorCode_ERROR_CODE_FORBIDDEN, true)},
		{"another visitor's chat", raw([][]byte{env(&messages.Envelope{Ref: 2, Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: r.someChat(), Text: "hi"}}})}, websocket.MessageBinary, messages.ErrorCode_ERROR_CODE_NOT_FOUND, true)},
		{"forged resume token", raw([][]byte{env(&messages.Envelope{Ref: 1, Body: &messages.Envelope_Hello{Hello: &messages.Hello{ResumeToken: "v.forged.token"}}})}, websocket.MessageBinary, messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, false)},
		{"foreign origin", func(ctx context.Context) error { return foreignOrigin(ctx, base) }},
		{"admin body that is not JSON", func(ctx context.Context) error {
			err := admin{base: "http://" + r.addr, token: r.adminToken}.put(ctx, "/admin/departments/bench-d0", rawJSON(`{"name": `))
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte("ERROR_CODE_INVALID_ARGUMENT")) {
				return fmt.Errorf("admin: %v", err)
			}
			return nil
		}},
	}
}

// sendRaw opens a visitor socket, says Hello first when hello is set,
// sends frames of type typ and waits for the error want.
func sendRaw(ctx context.Context, base string, frames [][]byte, typ websocket.MessageType, want messages.ErrorCode, hello bool) error {
	ws, _, err := websocket.Dial(ctx, base+"/ws/visitor", &websocket.DialOptions{HTTPClient: dialer})
	if err != nil {
		return err
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)
	if hello {
		data, _ := proto.Marshal(&messages.Envelope{Ref: 1, Body: &messages.Envelope_Hello{Hello: &messages.Hello{}}})
		if err := ws.Write(ctx, websocket.MessageBinary, data); err != nil {
			return err
		}
	}
	for _, f := range frames {
		if err := ws.Write(ctx, typ, f); err != nil {
			return err
		}
	}
	return awaitError(ctx, ws, typ, want)
}

// awaitError reads until the error want arrives (a text frame that does
// not decode counts when it names want), a different error, or the end
// of the socket.
func awaitError(ctx context.Context, ws *websocket.Conn, typ websocket.MessageType, want messages.ErrorCode) error {
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return fmt.Errorf("no %s error before the socket ended: %v", want, err)
		}
		env := &messages.Envelope{}
		if proto.Unmarshal(data, env) != nil && typ == websocket.MessageText {
			if bytes.Contains(data, []byte(want.String())) {
				return nil
			}
			continue
		}
		if e := env.GetError(); e != nil {
			if e.GetCode() != want {
				return fmt.Errorf("got %s (%s), want %s", e.GetCode(), e.GetMessage(), want)
			}
			return nil
		}
	}
}

// foreignOrigin checks that a page of another site cannot open a socket.
func foreignOrigin(ctx context.Context, base string) error {
	ws, resp, err := websocket.Dial(ctx, base+"/ws/visitor", &websocket.DialOptions{HTTPClient: dialer,
		HTTPHeader: http.Header{"Origin": {"https://evil.example"}}})
	if err == nil {
		ws.CloseNow()
		return errors.New("a foreign origin was let in")
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		return fmt.Errorf("foreign origin: %v", err)
	}
	return nil
}

// rawJSON is a body admin.put sends as it is.
type rawJSON string

// someChat is a chat id of another visitor, for the cross-chat attempt.
func (r *runner) someChat() string {
	id := "c01aaaaaaaaaaaaaaaaaaaaaaaaaa"
	r.sim.chats.Range(func(k, _ any) bool {
		id = k.(string)
		return false
	})
	return id
}
