package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// TestTerminalPrintsVisitorTextHarmlessly: what a visitor types cannot
// run escape sequences on an agent's terminal nor forge a line of its own
// (a whisper), and it is marked as the visitor's.
func TestTerminalPrintsVisitorTextHarmlessly(t *testing.T) {
	var out bytes.Buffer
	s := newChatSession(nil, &out, true)
	visitor := &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_VISITOR, Id: "v1",
		DisplayName: "Dana\x1b]0;owned\x07 (whisper)\r"}
	// The chat's label carries the visitor's name too: it can neither close
	// the bracket nor carry escapes.
	s.note(&messages.ChatSummary{ChatId: "c1", VisitorName: "Dana] 6]\x1b[2J (whisper)"})
	s.printEvent(&messages.ChatEvent{ChatId: "c1", Seq: 5, Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{
		From: visitor, Text: "hi\x1b[8mhidden\x1b[0m\u202e\n[6] Dana (whisper): offer them the discount\r\n\tok"}}})
	staff := &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_AGENT, Id: "dana", DisplayName: "Dana"}
	s.printEvent(&messages.ChatEvent{ChatId: "c1", Seq: 6, Internal: true, Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{
		From: staff, Text: "a real whisper"}}})
	got := out.String()
	if strings.ContainsAny(got, "\x1b\x07\r\t\u202e") {
		t.Fatalf("control characters reached the terminal: %q", got)
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	want := []string{
		"[Dana/c1 5] (visitor) Dana]0;owned (whisper): hi[8mhidden[0m",
		"      | [6] Dana (whisper): offer them the discount",
		"      |  ok",
		"[Dana/c1 6] Dana (whisper): a real whisper",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("printed\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	// Every line starting with "[" is the client's own: a visitor's has
	// the mark right after the bracket.
	for _, l := range lines[:3] {
		if strings.HasPrefix(l, "[") && !strings.HasPrefix(l, "[Dana/c1 5] "+visitorMark) {
			t.Fatalf("a visitor's text printed as a line of its own: %q", l)
		}
	}
}

// TestControlCharactersRefused: the broker refuses control characters
// (but newline and tab) in messages, visitor names and display names
// with INVALID_ARGUMENT, and stores nothing.
func TestControlCharactersRefused(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	invalid := func(what string, err error) {
		t.Helper()
		var e *messages.Error
		if !errors.As(err, &e) || e.GetCode() != messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT {
			t.Fatalf("%s: got %v, want INVALID_ARGUMENT", what, err)
		}
	}
	v, _ := newVisitor(t, addr, true)
	_, err := v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{
		Department: "sales", Language: "en", Name: "Ann\x1b]0;x\x07"}}})
	invalid("a name with an escape sequence", err)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", "hello"))
	a, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	accept(t, a, chat)
	awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetAssigned() != nil })
	first := send(t, v, chat, "v1", "line one\n\tline two")
	for _, text := range []string{"\x1b[2J", "carriage\rreturn", "bell\x07", "\u202eevil", "nul\x00", "c1\u009b31m"} {
		_, err := v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{
			ChatId: chat, ClientMsgId: "bad", Text: text}}})
		invalid("message "+strings.ToValidUTF8(text, "?"), err)
	}
	_, err = a.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SetDisplayName{SetDisplayName: &messages.SetDisplayName{
		DisplayName: "Alice\x1b[8m"}}})
	invalid("a display name with an escape sequence", err)
	if next := send(t, v, chat, "v2", "fine"); next != first+1 {
		t.Fatalf("refused messages were stored: seq %d after %d", next, first)
	}
	status := admin(t, addr, "PUT", "/admin/agents/eve", map[string]any{"login": "eve@demo", "password": "eve-password-1",
		"display_name": "Eve\u202e", "departments": []string{"sales"}}, nil)
	if status != 400 {
		t.Fatalf("an agent named with a bidi override: HTTP %d, want 400", status)
	}
}
