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
// /channels/whatsapp/{id}/webhook. Texts and media become the visitor's
// messages and files (the wamid their client_msg_id); statuses of the
// replies sent become ChatDelivered events. Meta retries any answer but
// 200 for days, so what cannot be taken for good (a chat refused: the
// department closed, its line full) is logged, audited and answered 200;
// a storage failure is answered 503, to be retried.

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
	"github.com/switchboard-chat/switchboard/gateway/whatsapp"
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

// channelStart is what a chat of ch records of it.
func (s *Server) channelStart(ch *messages.Channel, conversation string) *messages.ChannelStart {
	st := &messages.ChannelStart{Channel: ch.GetId(), Conversation: conversation, LiveChat: "main"}
	if ch.GetKind() == messages.ChannelKind_CHANNEL_KIND_WHATSAPP {
		st.ReplyWindowMs = actors.WhatsAppReplyWindow.Milliseconds()
	}
	if d, _ := s.b.Department(ch.GetDepartment()); d.GetLiveChat() != "" {
		st.LiveChat = d.GetLiveChat()
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
	if in.Email != "" {
		if e := actors.CheckMailAddress("email", in.Email); e != nil {
			return e
		}
	}
	return nil
}

// apiInbound takes one customer message of an API channel.
func (s *Server) apiInbound(w http.ResponseWriter, r *http.Request) {
	ch := s.enabledChannel(w, r, messages.ChannelKind_CHANNEL_KIND_API)
	if ch == nil {
		return
	}
	data, err := readBody(r)
	if err != nil {
		writeError(w, err)
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

// whatsAppVerify answers Meta's verification handshake: the challenge
// echoed when hub.verify_token is the channel's, else 403.
func (s *Server) whatsAppVerify(w http.ResponseWriter, r *http.Request) {
	ch := s.enabledChannel(w, r, messages.ChannelKind_CHANNEL_KIND_WHATSAPP)
	if ch == nil {
		return
	}
	q := r.URL.Query()
	tok := q.Get("hub.verify_token")
	if q.Get("hub.mode") != "subscribe" || tok == "" || !hmacEqual(tok, ch.GetWhatsapp().GetVerifyToken()) {
		s.audit(s.clientAddr(r), "channel.refused", "", ch.GetId(), "webhook verification with a wrong token or mode", false)
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "hub.mode must be subscribe and hub.verify_token the channel's verify token"))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(q.Get("hub.challenge")))
}

// whatsAppNotify takes a notification: messages and statuses.
func (s *Server) whatsAppNotify(w http.ResponseWriter, r *http.Request) {
	ch := s.enabledChannel(w, r, messages.ChannelKind_CHANNEL_KIND_WHATSAPP)
	if ch == nil {
		return
	}
	data, err := readBody(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if hmacsig.VerifyBody(r.Header.Get("X-Hub-Signature-256"), []byte(ch.GetWhatsapp().GetAppSecret()), data) != nil {
		s.audit(s.clientAddr(r), "channel.refused", "", ch.GetId(), "notification with a bad X-Hub-Signature-256", false)
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "X-Hub-Signature-256 must sign the body with the app secret"))
		return
	}
	var n whatsapp.Notification
	if err := decodeLoose(data, &n); err != nil || n.Object != "whatsapp_business_account" {
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "not a WhatsApp Business Account notification"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), inboundTimeout)
	defer cancel()
	for _, e := range n.Entry {
		for _, c := range e.Changes {
			v := c.Value
			if v.Metadata.PhoneNumberID != ch.GetWhatsapp().GetPhoneNumberId() {
				continue // another number's: not ours to take
			}
			for _, m := range v.Messages {
				if err := s.whatsAppMessage(ctx, ch, v.Contacts, m); err != nil {
					writeError(w, err)
					return
				}
			}
			for _, st := range v.Statuses {
				if err := s.whatsAppStatus(ctx, ch, st); err != nil {
					writeError(w, err)
					return
				}
			}
		}
	}
	w.WriteHeader(http.StatusOK)
}

// whatsAppMessage stores one customer message: a text, or a medium with
// its caption. A refused chat is logged and dropped (nil); only what
// retrying may fix is an error.
func (s *Server) whatsAppMessage(ctx context.Context, ch *messages.Channel, contacts []whatsapp.Contact, m whatsapp.Message) error {
	if m.From == "" || m.ID == "" || len(m.ID) > actors.MaxClientMsgIDBytes || len(m.From) > 64 {
		s.log.Warn("whatsapp: a message without sender or id", "channel", ch.GetId(), "type", m.Type)
		return nil
	}
	name := m.From
	for _, c := range contacts {
		if c.WaID == m.From && strings.TrimSpace(c.Profile.Name) != "" {
			name = c.Profile.Name
		}
	}
	if len(name) > actors.MaxNameBytes {
		name = name[:actors.MaxNameBytes]
	}
	var err error
	switch md := m.MediaOf(); {
	case m.Type == "text" && m.Text != nil:
		err = s.whatsAppText(ctx, ch, m.From, name, m.ID, m.Text.Body)
	case md != nil:
		err = s.whatsAppMedia(ctx, ch, m.From, name, m.ID, md)
	default:
		// Reactions, locations, contacts...: staff see that something came.
		err = s.whatsAppText(ctx, ch, m.From, name, m.ID, "["+m.Type+" message: not shown here; see WhatsApp]")
	}
	if e, ok := err.(*messages.Error); ok && !e.GetTemporary() && e.GetCode() != messages.ErrorCode_ERROR_CODE_UNAVAILABLE {
		s.log.Warn("whatsapp: message not taken", "channel", ch.GetId(), "code", e.GetCode().String(), "refusal", e.GetRefusal().String(), "reason", e.GetMessage())
		s.audit("", "channel.message.refused", "", ch.GetId(), e.GetMessage(), false)
		return nil
	}
	return err
}

func (s *Server) whatsAppText(ctx context.Context, ch *messages.Channel, from, name, id, text string) error {
	if len(text) > actors.MaxMessageBytes {
		text = strings.ToValidUTF8(text[:actors.MaxMessageBytes], "")
	}
	if strings.TrimSpace(text) == "" {
		return nil
	}
	_, err := s.channelInbound(ctx, s.inbound(ch, from, name, "", &messages.ChatCommand{
		Body: &messages.ChatCommand_Send{Send: &messages.SendMessage{Text: text, ClientMsgId: id}}}))
	return err
}

// whatsAppMedia stores a medium as a file of the conversation's chat (the
// caption as its message after it): the chat (created if need be) first
// says whether the file came already, then the bytes are fetched, stored
// and linked.
func (s *Server) whatsAppMedia(ctx context.Context, ch *messages.Channel, from, name, id string, md *whatsapp.Media) error {
	ack, err := s.channelInbound(ctx, s.inbound(ch, from, name, "", &messages.ChatCommand{
		Body: &messages.ChatCommand_AttachFile{AttachFile: &messages.AttachFile{Check: true, ClientMsgId: id}}}))
	if err != nil || ack.GetSeq() != 0 {
		return err // refused, or linked already
	}
	chatID := ack.GetChatId()
	data, ctype, err := s.cfg.WhatsApp.FetchMedia(ctx, ch, md.ID, s.cfg.MaxAttachmentBytes)
	if err != nil {
		s.log.Warn("whatsapp: media not fetched", "channel", ch.GetId(), "err", err)
		if we, ok := err.(*whatsapp.Error); ok && we.Permanent() {
			return s.whatsAppText(ctx, ch, from, name, id, "[a file ("+md.MimeType+") that could not be fetched from WhatsApp] "+md.Caption)
		}
		return messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "the media could not be fetched; try again")
	}
	if ctype == "" {
		ctype = md.MimeType
	}
	fname := md.Filename
	if fname == "" {
		fname = id + extensionOf(ctype)
	}
	who := &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_VISITOR, Id: actors.ChannelVisitorID(ch.GetId(), from), DisplayName: name}
	f := &messages.StoredFile{ChatId: chatID, FileId: actors.NewID('f', s.b.Now()), Name: fileName(fname),
		ContentType: ctype, Size: uint64(len(data)), AtMs: s.b.Now().UnixMilli(), From: who}
	if err := s.b.PutFile(f, data); err != nil {
		return messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "the file could not be stored; try again")
	}
	if _, err := s.b.AttachFile(ctx, chatID, who, "", &messages.AttachFile{FileId: f.GetFileId(), Name: f.GetName(),
		ContentType: ctype, Size: f.GetSize(), ClientMsgId: id}); err != nil {
		if derr := s.b.DeleteFile(chatID, f.GetFileId()); derr != nil {
			s.log.Warn("whatsapp: delete an unlinked file", "chat", chatID, "file", f.GetFileId(), "err", derr)
		}
		return err
	}
	if md.Caption == "" {
		return nil
	}
	return s.whatsAppText(ctx, ch, from, name, id+"/caption", md.Caption)
}

// extensionOf is a file name's extension for a content type.
func extensionOf(ctype string) string {
	switch ctype {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/webp":
		return ".webp"
	case "application/pdf":
		return ".pdf"
	case "text/plain":
		return ".txt"
	}
	return ""
}

// whatsAppStatus records a status of a reply sent: the chat event it was
// is found by its wamid (the delivery's ref). An unknown wamid (a message
// sent from elsewhere) is skipped.
func (s *Server) whatsAppStatus(ctx context.Context, ch *messages.Channel, st whatsapp.Status) error {
	if st.ID == "" || len(st.ID) > 256 {
		return nil
	}
	ref, err := s.b.DeliveryRef("channel/"+ch.GetId(), st.ID)
	if err != nil {
		return messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read delivery refs now")
	}
	if ref == nil {
		return nil
	}
	d := &messages.ChatDelivered{OfSeq: ref.GetSeq(), State: st.Status, Channel: ch.GetId()}
	for _, e := range st.Errors {
		d.Error = strings.TrimSpace(d.Error + " " + e.Title + ": " + e.Message)
	}
	err = s.b.ChannelDelivered(ctx, ref.GetChatId(), d)
	if e, ok := err.(*messages.Error); ok && !e.GetTemporary() && e.GetCode() != messages.ErrorCode_ERROR_CODE_UNAVAILABLE {
		s.log.Warn("whatsapp: status not recorded", "channel", ch.GetId(), "state", st.Status, "reason", e.GetMessage())
		return nil
	}
	return err
}

// hmacEqual compares a secret sent with the stored one in constant time.
func hmacEqual(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// decodeLoose decodes a JSON body from an outside system, whose unknown
// fields (Meta adds them) are ignored.
func decodeLoose(data []byte, v any) error { return json.Unmarshal(data, v) }
