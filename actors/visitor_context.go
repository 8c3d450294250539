package actors

// A visitor's context: the pages they report, their browser's user agent
// and language, and the custom fields the customer's site sets. The
// visitor's actor owns it, stores it (v/<visitor id>) before it
// acknowledges a change, and passes each change to the staff of the
// visitor's open chats (through the chats). Visitors never get it back.

import (
	"net/url"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// The limits of what a visitor reports.
const (
	MaxContextURLBytes   = 2048
	MaxContextTitleBytes = 512
	MaxVisitorFields     = 20
	MaxFieldKeyBytes     = 64
	MaxFieldValueBytes   = 256
	MaxContextAgentBytes = 512 // user agent
	MaxContextLangBytes  = 64  // Accept-Language, as kept
	MaxContextPages      = 20
	ContextReportsPerMin = 30
	contextReportsWindow = time.Minute
)

// visitorContext is the visitor actor's part for the context.
type visitorContext struct {
	info *messages.VisitorContext
	// reports in the current window (rate limit), and when it started.
	reports int
	window  time.Time
	token   uint64
	// dirty: the socket's user agent or language changed and are not
	// stored yet (they are stored with the next change, or once the
	// visitor has a chat: a visitor who never chats costs no write).
	dirty bool
	// pending: the command a write answers, by its token.
	pending map[uint64]pendingReply
}

type pendingReply struct {
	conn *actor.PID
	ref  uint64
}

// loadContext reads the stored context when the actor starts.
func (v *visitor) loadContext(ctx actor.Context) {
	if v.vc.pending == nil {
		v.vc.pending = map[uint64]pendingReply{}
	}
	info, err := v.b.store.VisitorContext(v.id)
	if err != nil {
		ctx.Logger().Warn("visitor: load context", "visitor", v.id, "err", err)
	}
	if info == nil {
		info = &messages.VisitorContext{VisitorId: v.id}
	}
	v.vc.info = info
}

// connContext keeps a socket's user agent and language, when they changed.
func (v *visitor) connContext(ctx actor.Context, m *messages.ConnAttach) {
	ua, lang := headerText(m.GetUserAgent(), MaxContextAgentBytes), headerText(m.GetLanguage(), MaxContextLangBytes)
	if ua == "" && lang == "" || ua == v.vc.info.GetUserAgent() && lang == v.vc.info.GetLanguage() {
		return
	}
	v.vc.info.UserAgent, v.vc.info.Language = ua, lang
	v.vc.dirty = true
	v.storeContextIfChatting(ctx)
}

// storeContextIfChatting stores what the sockets changed once the visitor
// has a chat (its staff read it).
func (v *visitor) storeContextIfChatting(ctx actor.Context) {
	if v.vc.dirty && len(v.chats) > 0 {
		v.changeContext(ctx, nil, 0, func(*messages.VisitorContext) {})
	}
}

// headerText is a header's value cut to n bytes, or "" when it holds
// what text may not (headers are the browser's, kept when sound).
func headerText(s string, n int) string {
	s = clip(s, n)
	if CheckText("", s, n) != nil {
		return ""
	}
	return s
}

// contextCommand handles ReportPage and SetVisitorFields; it reports
// whether m was one of them.
func (v *visitor) contextCommand(ctx actor.Context, m *messages.SessionCommand) bool {
	var change func(*messages.VisitorContext)
	var e *messages.Error
	switch body := m.GetBody().(type) {
	case *messages.SessionCommand_ReportPage:
		change, e = v.reportPage(body.ReportPage)
	case *messages.SessionCommand_SetVisitorFields:
		change, e = v.setFields(body.SetVisitorFields.GetFields())
	default:
		return false
	}
	if e == nil {
		e = v.allowReport()
	}
	if e != nil {
		sendErr(ctx, m.GetConn(), m.GetRef(), e)
		return true
	}
	v.changeContext(ctx, m.GetConn(), m.GetRef(), change)
	return true
}

// allowReport is the rate limit: ContextReportsPerMin a minute.
func (v *visitor) allowReport() *messages.Error {
	now := v.b.clock.Now()
	if now.Sub(v.vc.window) >= contextReportsWindow {
		v.vc.window, v.vc.reports = now, 0
	}
	if v.vc.reports >= ContextReportsPerMin {
		return messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_RATE_LIMITED, "at most %d page reports and field changes a minute", ContextReportsPerMin)
	}
	v.vc.reports++
	return nil
}

func fieldText(field, s string, max int) *messages.Error {
	if e := CheckText(field, s, max); e != nil {
		e.Field = field
		return e
	}
	return nil
}

// webURL checks an http(s) address (empty allowed unless required).
func webURL(field, s string, required bool) *messages.Error {
	if e := fieldText(field, s, MaxContextURLBytes); e != nil {
		return e
	}
	if s == "" && !required {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return messages.FieldErrorf(codeInvalid, field, "%s must be an http or https address", field)
	}
	return nil
}

func (v *visitor) reportPage(p *messages.ReportPage) (func(*messages.VisitorContext), *messages.Error) {
	if e := webURL("url", p.GetUrl(), true); e != nil {
		return nil, e
	}
	if e := webURL("referrer", p.GetReferrer(), false); e != nil {
		return nil, e
	}
	if e := fieldText("title", p.GetTitle(), MaxContextTitleBytes); e != nil {
		return nil, e
	}
	pv := &messages.PageView{Url: p.GetUrl(), Title: p.GetTitle(), Referrer: p.GetReferrer(), AtMs: v.b.clock.Now().UnixMilli()}
	return func(c *messages.VisitorContext) {
		c.Page = pv
		c.Pages = append([]*messages.PageView{pv}, c.GetPages()...)
		if len(c.Pages) > MaxContextPages {
			c.Pages = c.Pages[:MaxContextPages]
		}
	}, nil
}

// setFields merges fields into the visitor's; an empty value removes one.
func (v *visitor) setFields(fields map[string]string) (func(*messages.VisitorContext), *messages.Error) {
	merged := map[string]string{}
	for k, val := range v.vc.info.GetFields() {
		merged[k] = val
	}
	for k, val := range fields {
		if !validFieldKey(k) {
			return nil, messages.FieldErrorf(codeInvalid, "fields", "field name %q must be 1-%d of a-z A-Z 0-9 _ - .", clip(k, MaxFieldKeyBytes), MaxFieldKeyBytes)
		}
		if e := fieldText("fields."+k, val, MaxFieldValueBytes); e != nil {
			return nil, e
		}
		if val == "" {
			delete(merged, k)
		} else {
			merged[k] = val
		}
	}
	if len(merged) > MaxVisitorFields {
		return nil, messages.FieldErrorf(codeTooLarge, "fields", "at most %d fields", MaxVisitorFields)
	}
	return func(c *messages.VisitorContext) { c.Fields = merged }, nil
}

func validFieldKey(k string) bool {
	if k == "" || len(k) > MaxFieldKeyBytes {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// changeContext applies change, stores the context and, once stored,
// answers conn (if any) and tells the chats.
func (v *visitor) changeContext(ctx actor.Context, conn *actor.PID, ref uint64, change func(*messages.VisitorContext)) {
	change(v.vc.info)
	v.vc.dirty = false
	v.vc.info.UpdatedAtMs = v.b.clock.Now().UnixMilli()
	v.vc.token++
	v.vc.pending[v.vc.token] = pendingReply{conn: conn, ref: ref}
	v.b.store.PutVisitorContext(proto.Clone(v.vc.info).(*messages.VisitorContext), v.b.notifier(v.self, v.vc.token))
}

// contextStored answers the command a write was for and tells the staff;
// a failed write reads the stored context back (memory was ahead of it).
func (v *visitor) contextStored(ctx actor.Context, m *messages.Persisted) {
	p, ok := v.vc.pending[m.GetToken()]
	if !ok {
		return
	}
	delete(v.vc.pending, m.GetToken())
	if e := m.GetError(); e != nil {
		sendErr(ctx, p.conn, p.ref, e)
		ua, lang := v.vc.info.GetUserAgent(), v.vc.info.GetLanguage()
		v.loadContext(ctx)
		// What the sockets said stays, to be stored with the next change.
		v.vc.dirty = ua != v.vc.info.GetUserAgent() || lang != v.vc.info.GetLanguage()
		v.vc.info.UserAgent, v.vc.info.Language = ua, lang
		return
	}
	sendAck(ctx, p.conn, p.ref, &messages.Ack{})
	for id := range v.chats {
		v.b.Send(KindChat, id, &messages.VisitorContextChanged{ChatId: id, Context: proto.Clone(v.vc.info).(*messages.VisitorContext)})
	}
}
