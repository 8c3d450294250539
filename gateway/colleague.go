package gateway

import (
	"fmt"
	"net/http"
	"time"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// Internal live chats (issue 19): a staff member writes in to HR or
// Accounting as the customer side. They open the visitor socket and say
// Hello with their session token instead of a resume token; once the
// token and the livechat.internal permission are checked, their session
// is the visitor actor "staff-<agent id>", whose name is their display
// name. It gets what any visitor gets and nothing more: the visitor's
// view of their chat (no whispers, no invisible staff, no internal
// events), whatever else the staff member may see elsewhere. There is no
// resume token: every reconnect shows the session token again, so a
// permission taken away shuts the next one out.

// helloColleague opens a staff member's customer-side session; it returns
// nil when it refused (answered, counted and, for a denial, audited).
func (c *wsConn) helloColleague(ref uint64, h *messages.Hello, now time.Time) *messages.Participant {
	a, until := c.staffHello(ref, "", "", h.GetSessionToken(), actors.PermLiveChatInternal,
		fmt.Sprintf("your role does not let you write in to internal live chats (%s)", actors.PermLiveChatInternal))
	if a == nil {
		return nil
	}
	id, _ := c.s.tok.verify("a", h.GetSessionToken(), now)
	_, _, sid, _, _ := parseSession(id)
	c.sid.Store(&sid) // logging out closes this socket too
	c.watchLoginHours(until)
	return &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_VISITOR, Id: actors.ColleagueVisitorID(a.GetId()),
		DisplayName: a.GetDisplayName()}
}

// widgetLiveChat is the live chat a widget configuration is asked for
// (?livechat=ID, "main" when left out), or why it is not given: an
// unknown one is NOT_FOUND, an internal one needs a staff session with
// livechat.internal (UNAUTHENTICATED without one, FORBIDDEN, audited,
// without the permission).
func (s *Server) widgetLiveChat(r *http.Request) (*messages.LiveChat, *messages.Error) {
	id := messages.LiveChatOr(r.URL.Query().Get("livechat"))
	if !actors.ValidName(id) {
		return nil, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "livechat", "livechat must be a live chat id (1-64 of a-z 0-9 - _ .)")
	}
	lc, err := s.b.LiveChat(id)
	switch {
	case err != nil:
		return nil, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read live chats now")
	case lc == nil:
		return nil, errf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "no live chat %q", id)
	case lc.GetKind() != messages.LiveChatKind_LIVE_CHAT_KIND_INTERNAL:
		return lc, nil
	}
	tok, ok := bearer(r)
	if !ok {
		return nil, errf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "live chat %q is internal: staff sign in (Authorization: Bearer <session token>)", id)
	}
	a, e := s.authenticateAgent("", "", tok, s.clientAddr(r))
	if e != nil {
		return nil, e
	}
	perms, err := s.b.Permissions(a)
	if err != nil {
		return nil, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read roles now")
	}
	if !perms.Has(actors.PermLiveChatInternal) {
		e := errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "your role does not let you write in to internal live chats (%s)", actors.PermLiveChatInternal)
		s.audit(s.clientAddr(r), "permission.denied", a.GetId(), r.Method+" "+r.URL.Path, e.GetMessage(), false)
		return nil, e
	}
	return lc, nil
}

// staffID is the staff member a socket is theirs: an agent's, or the
// customer-side socket a staff member opened with their session; "" for
// a visitor's (or before Hello).
func (c *wsConn) staffID() string {
	id := c.whoID.Load()
	switch {
	case id == nil:
		return ""
	case c.role == roleAgent:
		return *id
	case c.sid.Load() != nil:
		return actors.ColleagueOf(*id)
	}
	return ""
}

// recheckColleague closes a staff member's customer-side socket whose
// account is gone or suspended, or whose role no longer has
// livechat.internal; it reports whether the socket stays (the access
// rules are checked next, as for an agent's).
func (c *wsConn) recheckColleague(a *messages.Agent) bool {
	if a == nil || a.GetSuspended() {
		c.close(CloseSuspended, "this account was removed or suspended")
		return false
	}
	perms, err := c.s.b.Permissions(a)
	if err != nil {
		return false // the roles cannot be read now; they were fine before
	}
	if !perms.Has(actors.PermLiveChatInternal) {
		c.close(CloseLoginHours, "your role no longer lets you write in to internal live chats")
		return false
	}
	return true
}
