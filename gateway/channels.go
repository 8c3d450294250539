package gateway

// The channels' admin routes (issue 19): an API channel or a WhatsApp
// channel, stored by the directory actor (actors/directory_channels.go).
// Secrets are write-only: answers leave them out, and a PUT without one
// keeps the stored one (KeepChannelSecrets says when).

import (
	"net/http"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

func (s *Server) channelRoutes() {
	s.route("GET /admin/channels", s.admin(s.listChannels))
	s.route("POST /admin/channels", s.admin(s.createChannel))
	s.route("GET /admin/channels/{id}", s.admin(s.getChannel))
	s.route("PUT /admin/channels/{id}", s.admin(s.putChannel))
	s.route("DELETE /admin/channels/{id}", s.admin(s.deleteChannel))
	s.route(apiInboundRoute, s.apiInbound)
	s.route("GET /channels/whatsapp/{id}/webhook", s.whatsAppVerify)
	s.route("POST /channels/whatsapp/{id}/webhook", s.whatsAppNotify)
}

// redactChannel is a channel as an answer shows it: no secrets.
func redactChannel(x *messages.Channel) *messages.Channel {
	out := proto.Clone(x).(*messages.Channel)
	if a := out.GetApi(); a != nil {
		a.Secret = ""
	}
	if w := out.GetWhatsapp(); w != nil {
		w.VerifyToken, w.AppSecret, w.AccessToken = "", "", ""
	}
	return out
}

func (s *Server) listChannels(w http.ResponseWriter, r *http.Request) {
	chs, err := s.b.Channels()
	if err != nil {
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read the channels now"))
		return
	}
	out := &messages.ChannelList{}
	for _, c := range chs {
		out.Channels = append(out.Channels, redactChannel(c))
	}
	writeProto(w, http.StatusOK, out)
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request) {
	c, err := s.b.Channel(r.PathValue("id"))
	switch {
	case err != nil:
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read the channels now"))
	case c == nil:
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "no channel %q", r.PathValue("id")))
	default:
		writeProto(w, http.StatusOK, redactChannel(c))
	}
}

// createChannel is POST /admin/channels: a new channel (its id made when
// the body has none), answered 201.
func (s *Server) createChannel(w http.ResponseWriter, r *http.Request) {
	x := &messages.Channel{}
	if !readResource(w, r, x, func() string { return "" }) {
		return
	}
	if x.GetId() == "" {
		x.Id = actors.NewID('h', s.b.Now())
	}
	out := redactChannel(x) // x belongs to the directory once sent
	if s.runAdmin(w, r, &messages.AdminCommand{CreateOnly: true, Body: &messages.AdminCommand_PutChannel{PutChannel: x}}) {
		s.b.ChannelChanged(out.GetId())
		out.Name = x.GetName()
		writeProto(w, http.StatusCreated, out)
	}
}

// putChannel is PUT /admin/channels/{id}: creates or replaces a channel.
func (s *Server) putChannel(w http.ResponseWriter, r *http.Request) {
	x := &messages.Channel{}
	if !readResource(w, r, x, x.GetId) {
		return
	}
	x.Id = r.PathValue("id")
	out := redactChannel(x)
	if s.runAdmin(w, r, &messages.AdminCommand{Body: &messages.AdminCommand_PutChannel{PutChannel: x}}) {
		s.b.ChannelChanged(out.GetId())
		out.Name = x.GetName()
		writeProto(w, http.StatusOK, out)
	}
}

// deleteChannel is DELETE /admin/channels/{id}: its chats stay; the
// replies still waiting for it in the delivery outbox are dropped.
func (s *Server) deleteChannel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.runAdmin(w, r, &messages.AdminCommand{Body: &messages.AdminCommand_DeleteChannel{DeleteChannel: id}}) {
		s.b.ChannelChanged(id)
		w.WriteHeader(http.StatusNoContent)
	}
}
