package gateway

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// Chat history over HTTP (GET /api/chats) and a visitor's past chats over
// the protocol (ListPastChats). The store keeps the index
// (persistence/history_*.go); this file decides what a caller may see.

// maxQueryWords bounds the words of one search.
const maxQueryWords = 10

// historyParams are GET /api/chats' query parameters.
var historyParams = map[string]bool{"department": true, "agent": true, "visitor": true, "from": true, "to": true,
	"state": true, "tag": true, "rating": true, "q": true, "cursor": true, "limit": true}

var historyStates = map[string]messages.ChatState{"queued": messages.ChatState_CHAT_STATE_QUEUED,
	"active": messages.ChatState_CHAT_STATE_ACTIVE, "closed": messages.ChatState_CHAT_STATE_CLOSED}

var historyRatings = map[string]messages.RatingScore{"good": messages.RatingScore_RATING_SCORE_GOOD,
	"bad": messages.RatingScore_RATING_SCORE_BAD}

// chatList lists the chats the caller may read, newest first, filtered
// and searched, a page at a time.
func (s *Server) chatList(w http.ResponseWriter, r *http.Request) {
	c, e := s.staffCaller(r)
	if e != nil {
		writeError(w, e)
		return
	}
	everything := c.admin || readsEverything(c.perms)
	if !everything && !c.perms.Has(actors.PermViewChats) && !c.perms.Has(actors.PermSupervise) && !c.perms.Has(actors.PermManageQueues) {
		e := errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "your role may not read chats (chats.view)")
		s.audit(s.clientAddr(r), "permission.denied", c.agent.GetId(), r.Method+" "+r.URL.Path, e.GetMessage(), false)
		writeError(w, e)
		return
	}
	q, e := historyQuery(r)
	if e != nil {
		writeError(w, e)
		return
	}
	// Never a colleague's own question (actors.AskedBy), whatever one reads.
	allow := func(e *messages.ChatHistoryEntry) bool { return !actors.AskedBy(e.GetVisitorId(), c.agent.GetId()) }
	if !everything {
		// The scope: chats of the departments one reads, and one's own.
		rd, err := s.b.ReaderOf(c.agent, c.perms)
		if err != nil {
			writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read departments now"))
			return
		}
		for _, d := range rd.Departments {
			q.Any = append(q.Any, messages.HistoryDepartment(d))
		}
		if rd.Own {
			q.Any = append(q.Any, messages.HistoryAgent(rd.ID))
		}
		allow = func(e *messages.ChatHistoryEntry) bool {
			return rd.May(e.GetVisitorId(), e.GetDepartments(), e.GetAgents())
		}
		if len(q.Any) == 0 { // nothing one may read: no scan of every chat
			writeProto(w, http.StatusOK, &messages.ChatHistoryPage{})
			return
		}
	}
	page, err := s.b.SearchChats(q, allow)
	if err != nil {
		writeError(w, typedOr(err, func(error) *messages.Error {
			return messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot search the chats now")
		}))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeProto(w, http.StatusOK, page)
}

// historyQuery reads GET /api/chats' parameters; a bad one is a typed
// error naming it.
func historyQuery(r *http.Request) (*messages.ChatHistoryQuery, *messages.Error) {
	v := r.URL.Query()
	bad := func(field, format string, args ...any) (*messages.ChatHistoryQuery, *messages.Error) {
		return nil, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, field, format, args...)
	}
	for k, vs := range v {
		if !historyParams[k] {
			return bad(k, "unknown parameter %q", k)
		}
		if len(vs) > 1 {
			return bad(k, "%s is given more than once", k)
		}
	}
	q := &messages.ChatHistoryQuery{Cursor: v.Get("cursor")}
	var e *messages.Error
	if q.All, e = historyFacets(v); e != nil {
		return nil, e
	}
	if q.FromMs, e = historyTime(v.Get("from"), "from"); e != nil {
		return nil, e
	}
	if q.ToMs, e = historyTime(v.Get("to"), "to"); e != nil {
		return nil, e
	}
	if q.FromMs != 0 && q.ToMs != 0 && q.ToMs <= q.FromMs {
		return bad("to", "to must be after from")
	}
	if x := v.Get("limit"); x != "" {
		n, err := strconv.ParseUint(x, 10, 32)
		if err != nil || n == 0 || n > 200 {
			return bad("limit", "limit is 1 to 200")
		}
		q.Limit = uint32(n)
	}
	return q, nil
}

// historyFacets are the posting lists the filters and q name: a chat must
// be in every one.
func historyFacets(v url.Values) ([]string, *messages.Error) {
	bad := func(field, format string, args ...any) ([]string, *messages.Error) {
		return nil, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, field, format, args...)
	}
	var all []string
	for name, facet := range map[string]func(string) string{"department": messages.HistoryDepartment,
		"agent": messages.HistoryAgent, "visitor": messages.HistoryVisitor, "tag": messages.HistoryTag} {
		if x := v.Get(name); x != "" {
			all = append(all, facet(x))
		}
	}
	if x := v.Get("state"); x != "" {
		st, ok := historyStates[x]
		if !ok {
			return bad("state", "state is queued, active or closed")
		}
		all = append(all, messages.HistoryState(st))
	}
	if x := v.Get("rating"); x != "" {
		rt, ok := historyRatings[x]
		if !ok {
			return bad("rating", "rating is good or bad")
		}
		all = append(all, messages.HistoryRating(rt))
	}
	if x := strings.TrimSpace(v.Get("q")); x != "" {
		ws := messages.HistoryQueryWords(x)
		switch {
		case len(ws) == 0:
			return bad("q", "q has no word to search for (letters or digits)")
		case len(ws) > maxQueryWords:
			return bad("q", "q has more than %d words", maxQueryWords)
		}
		for _, w := range ws {
			all = append(all, messages.HistoryWord(w))
		}
	}
	return all, nil
}

// historyTime reads a period bound: RFC 3339, or a date (YYYY-MM-DD, UTC
// midnight). Empty: no bound.
func historyTime(x, field string) (int64, *messages.Error) {
	if x == "" {
		return 0, nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, x); err == nil && t.UnixMilli() > 0 {
			return t.UnixMilli(), nil
		}
	}
	return 0, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, field, "%s is a time (RFC 3339) or a date (YYYY-MM-DD)", field)
}

// pastChats answers ListPastChats: the visitor's own chats, from what
// they saw.
func (c *wsConn) pastChats(in incoming) {
	m, _ := in.body.Interface().(*messages.ListPastChats)
	list, err := c.s.b.PastChats(c.who.GetId(), int(m.GetLimit()))
	if err != nil {
		c.fail(in.ref, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read your past chats now"))
		return
	}
	c.reply(in.ref, &messages.Envelope{Body: &messages.Envelope_PastChats{PastChats: list}})
}
