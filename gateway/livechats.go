package gateway

import (
	"net/http"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// The admin API of live chats (issue 19): GET /admin/livechats lists them
// ("main" always among them), GET, PUT, PATCH and DELETE
// /admin/livechats/{id} read, create or replace, change some fields of,
// and delete one. The directory actor checks and
// stores them (actors/directory_livechats.go); every change is audited.
func (s *Server) liveChatRoutes() {
	s.route("GET /admin/livechats", s.admin(s.listLiveChats))
	s.route("GET /admin/livechats/{id}", s.admin(s.getLiveChat))
	s.route("PUT /admin/livechats/{id}", s.admin(s.putLiveChat))
	s.route("PATCH /admin/livechats/{id}", s.admin(s.patch(func(v *messages.DirectoryView, id string) proto.Message {
		return find(v.GetLiveChats(), func(x *messages.LiveChat) bool { return x.GetId() == id })
	}, s.putLiveChat)))
	s.route("DELETE /admin/livechats/{id}", s.admin(s.deleteThing(func(id string) *messages.AdminCommand {
		return &messages.AdminCommand{Body: &messages.AdminCommand_DeleteLiveChat{DeleteLiveChat: id}}
	})))
}

// listLiveChats answers {"live_chats": [...]}, by id.
func (s *Server) listLiveChats(w http.ResponseWriter, _ *http.Request) {
	xs, err := s.b.LiveChats()
	if err != nil {
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read live chats now"))
		return
	}
	writeProto(w, http.StatusOK, &messages.DirectoryView{LiveChats: xs})
}

func (s *Server) getLiveChat(w http.ResponseWriter, r *http.Request) {
	x, err := s.b.LiveChat(r.PathValue("id"))
	switch {
	case err != nil:
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read live chats now"))
	case x == nil || !actors.ValidName(r.PathValue("id")):
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "no live chat %q", r.PathValue("id")))
	default:
		writeProto(w, http.StatusOK, x)
	}
}

func (s *Server) putLiveChat(w http.ResponseWriter, r *http.Request) {
	x := &messages.LiveChat{}
	putResource(s, w, r, x, x.GetId, func(id string) { x.Id = id }, func(x *messages.LiveChat) *messages.AdminCommand {
		return &messages.AdminCommand{Body: &messages.AdminCommand_PutLiveChat{PutLiveChat: x}}
	})
}
