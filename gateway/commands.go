// The table of client commands: for each body a client may send in an
// Envelope, where it goes, who may send it and what is checked first.

package gateway

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/switchboard-chat/switchboard/messages"
)

// dest is where a client command goes.
type dest int

const (
	// local: answered by the connection itself (hello, ping).
	local dest = iota
	// toSession: the connection's own actor (agent or visitor), as a
	// SessionCommand.
	toSession
	// toChat: the chat, as a ChatCommand. A visitor's goes through their
	// visitor actor, which knows their chats: a made-up chat id activates
	// no chat actor and reads nothing from storage.
	toChat
)

// sender is who may send a command.
type sender int

const (
	anyone sender = iota
	agentsOnly
	visitorsOnly
)

// refusal is the FORBIDDEN message for a sender that may not send a
// command.
var refusal = [...]string{agentsOnly: "only agents can send this", visitorsOnly: "only visitors can send this"}

// incoming is one client command being dispatched.
type incoming struct {
	ref    uint64
	body   protoreflect.Message
	chatID string // when the command carries one
}

// command is one row of the table.
type command struct {
	body proto.Message // the body's type
	to   dest
	from sender
	// beforeHello: the one command a socket may send unauthenticated.
	beforeHello bool
	// chatID: the body's chat_id is checked for format first, so a bad
	// one touches no actor.
	chatID bool
	// gate, if set, is checked last and may refuse (answering the client).
	gate func(c *wsConn, in incoming) bool
	// handle answers a local command.
	handle func(c *wsConn, in incoming)

	// Resolved from the descriptors by resolveCommands.
	envField  protoreflect.FieldDescriptor // the body's field in Envelope's oneof
	target    protoreflect.FieldDescriptor // its field in SessionCommand's or ChatCommand's oneof
	chatField protoreflect.FieldDescriptor // its chat_id, when chatID
}

// commandTable is every client-to-server body. A body not here is
// refused with UNKNOWN_MESSAGE; TestCommandTable checks that every one
// of Envelope's client bodies is here once.
var commandTable = []command{
	{body: &messages.Hello{}, to: local, beforeHello: true, handle: (*wsConn).hello},
	{body: &messages.Ping{}, to: local, handle: (*wsConn).ping},
	{body: &messages.ListPastChats{}, to: local, from: visitorsOnly, handle: (*wsConn).pastChats},

	{body: &messages.RequestChat{}, to: toSession, from: visitorsOnly, gate: (*wsConn).allowChatRequest},
	{body: &messages.Resume{}, to: toSession, chatID: true, gate: (*wsConn).resetReplay},
	{body: &messages.ReportPage{}, to: toSession, from: visitorsOnly},
	{body: &messages.SetVisitorFields{}, to: toSession, from: visitorsOnly},

	{body: &messages.SendMessage{}, to: toChat, chatID: true},
	{body: &messages.CloseChat{}, to: toChat, chatID: true},
	{body: &messages.Typing{}, to: toChat, chatID: true},

	{body: &messages.SetStatus{}, to: toSession, from: agentsOnly},
	{body: &messages.AcceptOffer{}, to: toSession, from: agentsOnly},
	{body: &messages.DeclineOffer{}, to: toSession, from: agentsOnly},
	{body: &messages.SetDisplayName{}, to: toSession, from: agentsOnly},
	{body: &messages.ListWaiting{}, to: toSession, from: agentsOnly},
	{body: &messages.Monitor{}, to: toSession, from: agentsOnly},
	{body: &messages.SetQueueOnline{}, to: toSession, from: agentsOnly},
	{body: &messages.SetAgentStatus{}, to: toSession, from: agentsOnly},
	{body: &messages.ListTransferTargets{}, to: toSession, from: agentsOnly},
	{body: &messages.PickChat{}, to: toSession, from: agentsOnly, chatID: true},
	{body: &messages.SetChatStatus{}, to: toSession, from: agentsOnly, chatID: true},
	{body: &messages.TransferChat{}, to: toSession, from: agentsOnly, chatID: true},
	{body: &messages.InviteAgent{}, to: toSession, from: agentsOnly, chatID: true},
	{body: &messages.JoinChat{}, to: toSession, from: agentsOnly, chatID: true},
	{body: &messages.LeaveChat{}, to: toSession, from: agentsOnly, chatID: true},
	{body: &messages.TakeOver{}, to: toSession, from: agentsOnly, chatID: true},
	{body: &messages.DeclineInvite{}, to: toSession, from: agentsOnly, chatID: true},

	{body: &messages.TagChat{}, to: toSession, from: agentsOnly, chatID: true},
	{body: &messages.ListCanned{}, to: toSession, from: agentsOnly},
	{body: &messages.ExpandCanned{}, to: toSession, from: agentsOnly, chatID: true},
	// A closed chat is no longer the visitor's actor's: it passes a
	// rating on to the chat, which checks that it is the visitor's.
	{body: &messages.RateChat{}, to: toChat, from: visitorsOnly, chatID: true},
	// Staff reopen a chat, a visitor continues theirs: each through their
	// own actor.
	{body: &messages.ReopenChat{}, to: toSession, chatID: true},
	{body: &messages.AssignWaiting{}, to: toSession, from: agentsOnly, chatID: true},
	// Offline messages share the chat requests' budget per address.
	{body: &messages.LeaveOfflineMessage{}, to: toSession, from: visitorsOnly, gate: (*wsConn).allowChatRequest},
	// A transcript sent to an address the visitor gives shares the chat
	// requests' budget per address too.
	{body: &messages.EmailTranscript{}, to: toChat, from: visitorsOnly, chatID: true, gate: (*wsConn).allowChatRequest},
	{body: &messages.EmailFromChat{}, to: toSession, from: agentsOnly, chatID: true},
}

var (
	envelopeBody = (&messages.Envelope{}).ProtoReflect().Descriptor().Oneofs().ByName("body")
	sessionBody  = (&messages.SessionCommand{}).ProtoReflect().Descriptor().Oneofs().ByName("body")
	chatBody     = (&messages.ChatCommand{}).ProtoReflect().Descriptor().Oneofs().ByName("body")
)

// commands is commandTable indexed by the number of the body's field in
// Envelope.
var commands = func() map[protoreflect.FieldNumber]*command {
	m, err := resolveCommands(commandTable)
	if err != nil {
		panic("gateway: " + err.Error())
	}
	return m
}()

// resolveCommands finds each row's fields: the body's in Envelope, in the
// oneof it is routed to, and its chat_id.
func resolveCommands(table []command) (map[protoreflect.FieldNumber]*command, error) {
	m := map[protoreflect.FieldNumber]*command{}
	for i := range table {
		cmd := &table[i]
		name := cmd.body.ProtoReflect().Descriptor().FullName()
		if cmd.envField = fieldOf(envelopeBody, name); cmd.envField == nil {
			return nil, fmt.Errorf("%s is not exactly one body of Envelope", name)
		}
		if m[cmd.envField.Number()] != nil {
			return nil, fmt.Errorf("%s has two rows", name)
		}
		m[cmd.envField.Number()] = cmd
		if err := cmd.resolve(name); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (cmd *command) resolve(name protoreflect.FullName) error {
	switch cmd.to {
	case local:
		if cmd.handle == nil {
			return fmt.Errorf("%s is answered locally but has no handler", name)
		}
	case toSession:
		cmd.target = fieldOf(sessionBody, name)
	case toChat:
		cmd.target = fieldOf(chatBody, name)
	}
	if cmd.to != local && cmd.target == nil {
		return fmt.Errorf("%s is routed to a command without exactly one field of its type", name)
	}
	if cmd.chatID {
		cmd.chatField = cmd.body.ProtoReflect().Descriptor().Fields().ByName("chat_id")
		if cmd.chatField == nil || cmd.chatField.Kind() != protoreflect.StringKind || cmd.chatField.IsList() {
			return fmt.Errorf("%s has no chat_id to check", name)
		}
	}
	return nil
}

// fieldOf is the one field of oneof o whose message type is name, or nil
// (none, or more than one).
func fieldOf(o protoreflect.OneofDescriptor, name protoreflect.FullName) protoreflect.FieldDescriptor {
	var found protoreflect.FieldDescriptor
	fs := o.Fields()
	for i := 0; i < fs.Len(); i++ {
		f := fs.Get(i)
		if f.Message() == nil || f.Message().FullName() != name {
			continue
		}
		if found != nil {
			return nil
		}
		found = f
	}
	return found
}
