package gateway

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Envelope numbers its bodies by direction (wire.proto): client to server
// from 10 to 39, server to client from 40.
const firstServerBody = 40

// isClientBody: Envelope's client bodies are 10-39, and 160-169 (issue 13's
// offline messages and email).
func isClientBody(n protoreflect.FieldNumber) bool {
	return n < firstServerBody || n >= 160 && n < 170
}

// TestCommandTable: every client-to-server body of Envelope has exactly
// one row, no server-to-client body has one, and each routed body has
// exactly one field of its type in the command it is routed in, so a new
// command cannot be forgotten or half wired.
func TestCommandTable(t *testing.T) {
	m, err := resolveCommands(append([]command(nil), commandTable...))
	if err != nil {
		t.Fatal(err)
	}
	fs := envelopeBody.Fields()
	for i := 0; i < fs.Len(); i++ {
		f := fs.Get(i)
		cmd, routed := m[f.Number()]
		switch client := isClientBody(f.Number()); {
		case client && !routed:
			t.Errorf("client body %s (%s) has no row in commandTable", f.Name(), f.Message().FullName())
		case !client && routed:
			t.Errorf("server body %s has a row in commandTable", f.Name())
		case routed && cmd.to != local && cmd.target.Message().FullName() != f.Message().FullName():
			t.Errorf("%s is routed to %s", f.Name(), cmd.target.FullName())
		}
	}
	if len(m) != len(commandTable) {
		t.Errorf("%d rows for %d bodies", len(commandTable), len(m))
	}
	for _, cmd := range m {
		if cmd.to == local && (cmd.gate != nil || cmd.chatID) {
			t.Errorf("%s: a local command has its checks in its handler", cmd.envField.Name())
		}
		if cmd.beforeHello && cmd.to != local {
			t.Errorf("%s: only a local command may come before Hello", cmd.envField.Name())
		}
	}
}

// TestCommandTableRefusesMistakes: resolveCommands catches a body routed
// to a command without a field of its type, a row given twice, and a
// chat id check on a body without chat_id.
func TestCommandTableRefusesMistakes(t *testing.T) {
	row := func(name protoreflect.Name) command {
		for _, cmd := range commandTable {
			if cmd.body.ProtoReflect().Descriptor().Name() == name {
				return cmd
			}
		}
		t.Fatalf("no row for %s", name)
		return command{}
	}
	wrongDest := row("SetStatus")
	wrongDest.to = toChat // ChatCommand has no SetStatus
	noChatID := row("SetStatus")
	noChatID.chatID = true
	noHandler := row("Ping")
	noHandler.handle = nil
	for name, table := range map[string][]command{
		"wrong destination": {wrongDest},
		"two rows":          {row("Typing"), row("Typing")},
		"no chat_id":        {noChatID},
		"no handler":        {noHandler},
	} {
		if _, err := resolveCommands(table); err == nil {
			t.Errorf("%s: resolved", name)
		}
	}
}
