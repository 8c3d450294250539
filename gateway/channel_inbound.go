package gateway

// Channels' inbound routes (issue 19). An outside message becomes the
// visitor message of its conversation's chat (actors.ChannelInbound),
// answered only once it is stored. The channel's id in the path finds its
// secret; nothing is read, stored or answered in detail before the
// request's signature is checked.
//
// API channel: POST /api/channels/{id}/messages, signed as gateway/hmacsig
// says with the channel's secret; the customer's message_id is the
// message's client_msg_id, so a retried call stores nothing twice.
//
// WhatsApp: GET (the verification handshake) and POST (notifications,
// X-Hub-Signature-256 over the raw body with the app secret) on
// /channels/whatsapp/{id}/webhook (channel_whatsapp.go). Texts and media
// become the visitor's messages and files (the wamid their client_msg_id);
// statuses of the replies sent become ChatDelivered events. Meta retries
// any answer but 200 for days, so what cannot be taken for good (a chat
// refused: the department closed, outside its hours) is logged, audited
// and answered 200; a full line or a storage failure is answered 503, to
// be retried.

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway/hmacsig"
	"github.com/switchboard-chat/switchboard/messages"
)

const apiInboundRoute = "POST /api/channels/{id}/messages"

// inboundTimeout bounds the handling of one inbound call (a WhatsApp
// notification's media downloads included).
const inboundTimeout = 30 * time.Second

// enabledChannel reads the path's channel if it is enabled and of kind;
// else it answers NOT_FOUND (a channel switched off looks like none).
func (s *Server) enabledChannel(w http.ResponseWriter, r *http.Request, kind messages.ChannelKind) *messages.Channel {
	ch, err := s.b.Channel(r.PathValue("id"))
	switch {
	case err != nil:
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read the channels now"))
	case ch == nil || !ch.GetEnabled() || ch.GetKind() != kind:
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "no channel %q", r.PathValue("id")))
	default:
		return ch
	}
	return nil
}

// channelCall is an inbound call to an enabled channel of kind: the
// channel and the raw body (its signature is the caller's to check), or
// nil when it was answered with an error.
func (s *Server) channelCall(w http.ResponseWriter, r *http.Request, kind messages.ChannelKind) (*messages.Channel, []byte) {
	ch := s.enabledChannel(w, r, kind)
	if ch == nil {
		return nil, nil
	}
	data, err := readBody(r)
	if err != nil {
		writeError(w, err)
		return nil, nil
	}
	return ch, data
}

// channelStart is what a chat of ch records of it.
func (s *Server) channelStart(ch *messages.Channel, conversation string) *messages.ChannelStart {
	st := &messages.ChannelStart{Channel: ch.GetId(), Conversation: conversation}
	if ch.GetKind() == messages.ChannelKind_CHANNEL_KIND_WHATSAPP {
		st.ReplyWindowMs = actors.WhatsAppReplyWindow.Milliseconds()
	}
	return st
}

// inbound builds the command of an outside message of conversation.
func (s *Server) inbound(ch *messages.Channel, conversation, name, email string, cmd *messages.ChatCommand) *messages.ChannelInbound {
	return &messages.ChannelInbound{VisitorId: actors.ChannelVisitorID(ch.GetId(), conversation), Channel: s.channelStart(ch, conversation), Cmd: cmd,
		Request: &messages.RequestChat{Department: ch.GetDepartment(), Language: ch.GetLanguage(), Name: name, Email: email}}
}

// channelInbound hands an outside message to its conversation. A chat
// that closed just as the message came (the chat refused it, CONFLICT,
// before the conversation heard it closed) is asked again a few times:
// the message then starts the conversation's next chat.
func (s *Server) channelInbound(ctx context.Context, m *messages.ChannelInbound) (*messages.Ack, error) {
	for try := 1; ; try++ {
		ack, err := s.b.ChannelInbound(ctx, proto.Clone(m).(*messages.ChannelInbound))
		e, typed := err.(*messages.Error)
		if !typed || e.GetCode() != messages.ErrorCode_ERROR_CODE_CONFLICT || e.GetRefusal() != 0 || try == 5 {
			return ack, err
		}
		t := time.NewTimer(time.Duration(try*try) * 10 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// APIInbound is the body of POST /api/channels/{id}/messages.
type APIInbound struct {
	ConversationID string `json:"conversation_id"`
	MessageID      string `json:"message_id"`
	Name           string `json:"name"`
	Email          string `json:"email,omitempty"`
	Text           string `json:"text"`
}

// check refuses a bad body with an error about its field.
func (in *APIInbound) check() *messages.Error {
	bad := func(field, format string, args ...any) *messages.Error {
		return messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, field, format, args...)
	}
	switch {
	case in.ConversationID == "" || len(in.ConversationID) > 256:
		return bad("conversation_id", "conversation_id is required (at most 256 bytes): your system's id of the conversation")
	case in.MessageID == "" || len(in.MessageID) > actors.MaxClientMsgIDBytes:
		return bad("message_id", "message_id is required (at most %d bytes): a retried message keeps it", actors.MaxClientMsgIDBytes)
	case strings.TrimSpace(in.Name) == "":
		return bad("name", "name is required: the customer's name as staff see it")
	case strings.TrimSpace(in.Text) == "":
		return bad("text", "text is required")
	}
	// The chat's own checks, made before the conversation is asked: a bad
	// text or name must not start (and queue) a chat first.
	for _, f := range []struct {
		field, text string
		max         int
	}{{"name", in.Name, actors.MaxNameBytes}, {"text", in.Text, actors.MaxMessageBytes}} {
		if e := actors.CheckText(f.field, f.text, f.max); e != nil {
			e.Field = f.field
			return e
		}
	}
	if in.Email != "" {
		if e := actors.CheckMailAddress("email", in.Email); e != nil {
			return e
		}
	}
	return nil
}

// apiInbound takes one customer message of an API channel.
func (s *Server) apiInbound(w http.ResponseWriter, r *http.Request) {
	ch, data := s.channelCall(w, r, messages.ChannelKind_CHANNEL_KIND_API)
	if ch == nil {
		return
	}
	if err := hmacsig.Verify(r.Header, []byte(ch.GetApi().GetSecret()), data, s.b.Now()); err != nil {
		s.audit(s.clientAddr(r), "channel.refused", "", ch.GetId(), err.Error(), false)
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "%s and %s must sign the body with the channel's secret within 5 minutes of now (%v)",
			hmacsig.HeaderSignature, hmacsig.HeaderTimestamp, err))
		return
	}
	var in APIInbound
	if err := decodeJSON(data, &in); err != nil {
		writeError(w, err)
		return
	}
	if e := in.check(); e != nil {
		writeError(w, e)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), inboundTimeout)
	defer cancel()
	ack, err := s.channelInbound(ctx, s.inbound(ch, in.ConversationID, in.Name, in.Email, &messages.ChatCommand{
		Body: &messages.ChatCommand_Send{Send: &messages.SendMessage{Text: in.Text, ClientMsgId: in.MessageID}}}))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"chat_id": ack.GetChatId(), "seq": ack.GetSeq(), "message_id": in.MessageID})
}

// hmacEqual compares a secret sent with the stored one in constant time.
func hmacEqual(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// decodeLoose decodes a JSON body from an outside system, whose unknown
// fields (Meta adds them) are ignored.
func decodeLoose(data []byte, v any) error { return json.Unmarshal(data, v) }
