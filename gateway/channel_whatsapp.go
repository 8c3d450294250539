package gateway

// WhatsApp's webhook (issue 19): the verification handshake, and the
// notifications: a customer's texts and media become the visitor's
// messages and files of the conversation's chat, the statuses of the
// replies sent become ChatDelivered events (see channel_inbound.go for
// what all channels share).

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway/hmacsig"
	"github.com/switchboard-chat/switchboard/gateway/whatsapp"
	"github.com/switchboard-chat/switchboard/messages"
)

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
	ch, data := s.channelCall(w, r, messages.ChannelKind_CHANNEL_KIND_WHATSAPP)
	if ch == nil {
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
// its caption. The text and name are cleaned (actors.CleanText: direction
// marks are common in right-to-left text). Only a chat refused for good
// (a refusal that is not temporary) is logged and dropped (nil); any
// other error is temporary, answered 503 so that Meta retries.
func (s *Server) whatsAppMessage(ctx context.Context, ch *messages.Channel, contacts []whatsapp.Contact, m whatsapp.Message) error {
	if m.From == "" || m.ID == "" || len(m.ID) > actors.MaxClientMsgIDBytes || len(m.From) > 64 {
		s.log.Warn("whatsapp: a message without sender or id", "channel", ch.GetId(), "type", m.Type)
		return nil
	}
	name := m.From
	for _, c := range contacts {
		if n := actors.CleanText(c.Profile.Name, actors.MaxNameBytes); c.WaID == m.From && strings.TrimSpace(n) != "" {
			name = n
		}
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
	e, typed := err.(*messages.Error)
	switch {
	case err == nil:
		return nil
	case typed && e.GetRefusal() != 0 && !e.GetTemporary():
		// A chat refused for good (the department closed, outside its
		// hours): Meta's retries would be refused too.
		s.log.Warn("whatsapp: message not taken", "channel", ch.GetId(), "refusal", e.GetRefusal().String(), "reason", e.GetMessage())
		s.audit("", "channel.message.refused", "", ch.GetId(), e.GetMessage(), false)
		return nil
	case typed && e.GetTemporary():
		return err
	}
	// Anything else is no answer about the message: 503, Meta retries.
	s.log.Warn("whatsapp: message not taken now", "channel", ch.GetId(), "err", err)
	return messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "the message could not be taken now; try again")
}

func (s *Server) whatsAppText(ctx context.Context, ch *messages.Channel, from, name, id, text string) error {
	text = actors.CleanText(text, actors.MaxMessageBytes)
	if strings.TrimSpace(text) == "" {
		return nil
	}
	_, err := s.channelInbound(ctx, s.inbound(ch, from, name, "", &messages.ChatCommand{
		Body: &messages.ChatCommand_Send{Send: &messages.SendMessage{Text: text, ClientMsgId: id}}}))
	return err
}

// whatsAppMedia stores a medium as a file of the conversation's chat (the
// caption as its message after it); a type the uploads do not accept
// (fileType) becomes a note "[unsupported attachment: type]" instead: the chat (created if need be) first
// says whether the file came already, then the bytes are fetched, stored
// and linked.
func (s *Server) whatsAppMedia(ctx context.Context, ch *messages.Channel, from, name, id string, md *whatsapp.Media) error {
	ack, err := s.channelInbound(ctx, s.inbound(ch, from, name, "", &messages.ChatCommand{
		Body: &messages.ChatCommand_AttachFile{AttachFile: &messages.AttachFile{Check: true, ClientMsgId: id}}}))
	if err != nil || ack.GetSeq() != 0 {
		return err // refused, or linked already
	}
	chatID := ack.GetChatId()
	data, _, err := s.cfg.WhatsApp.FetchMedia(ctx, ch, md.ID, s.cfg.MaxAttachmentBytes)
	if err != nil {
		s.log.Warn("whatsapp: media not fetched", "channel", ch.GetId(), "err", err)
		if we, ok := err.(*whatsapp.Error); ok && we.Permanent() {
			return s.whatsAppText(ctx, ch, from, name, id, "[a file ("+md.MimeType+") that could not be fetched from WhatsApp] "+md.Caption)
		}
		return messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "the media could not be fetched; try again")
	}
	ctype, e := s.fileType(data)
	if e != nil {
		// Staff see that something came; the file itself is not kept.
		return s.whatsAppText(ctx, ch, from, name, id, "[unsupported attachment: "+ctype+"] "+md.Caption)
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

// statusRefWait is how long after a status's time its wamid may still be
// unknown because the outbox has not yet stored the reply's DeliveryRef
// (a batched write after the Graph API answered).
const statusRefWait = 10 * time.Minute

// whatsAppStatus records a status of a reply sent: the chat event it was
// is found by its wamid (the delivery's ref). An unknown wamid of a recent
// status (within statusRefWait) may be a reply whose ref is being stored:
// 503, so that Meta sends it again. An older unknown wamid (a message sent
// from elsewhere) is skipped.
func (s *Server) whatsAppStatus(ctx context.Context, ch *messages.Channel, st whatsapp.Status) error {
	if st.ID == "" || len(st.ID) > 256 {
		return nil
	}
	ref, err := s.b.DeliveryRef(messages.ChannelTarget(ch.GetId()), st.ID)
	if err != nil {
		return messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read delivery refs now")
	}
	if ref == nil {
		if sec, err := strconv.ParseInt(st.Timestamp, 10, 64); err == nil {
			if age := s.b.Now().Sub(time.Unix(sec, 0)); age > -statusRefWait && age < statusRefWait {
				return messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "message %s is not known yet; try again", st.ID)
			}
		}
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
