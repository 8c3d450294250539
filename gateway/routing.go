package gateway

import (
	"net/http"

	"github.com/switchboard-chat/switchboard/messages"
)

// chatRouting: GET /api/chats/{id}/routing, the chat's routing decisions
// with their reasons and, while it waits, why it waits now
// (messages.RoutingStory), for whoever may read the chat (readChat's
// rule). Visitors never see them: their tokens are refused with a typed
// FORBIDDEN, whichever chat they name.
func (s *Server) chatRouting(w http.ResponseWriter, r *http.Request) {
	c, e := s.chatCaller(r)
	if e != nil {
		writeError(w, e)
		return
	}
	if !c.admin && c.agent == nil {
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "routing decisions are for staff only"))
		return
	}
	rec, ok := s.readChat(w, r, c)
	if !ok {
		return
	}
	story, err := s.b.RoutingStory(r.Context(), rec)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeProto(w, http.StatusOK, story)
}
