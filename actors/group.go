package actors

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// group is the actor of one routing group ("group/<department>"): it holds
// the department's settings and decides whether the department takes a
// chat request at all (it exists, it is chat-enabled, the language is
// offered) before its queue admits it.
type group struct {
	b    *Broker
	id   string
	dept *messages.Department
	// m counts refusals under the department, or under "" while there is
	// no such department (a visitor may ask for any name: labels stay
	// bounded). nil: metrics off.
	m *refusalMetrics
}

func (g *group) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		g.reload(ctx)
	case *actor.Stopping, *actor.Stopped, *actor.Restarting:
	case *messages.DirectoryChanged:
		g.reload(ctx)
	case *messages.StartChat:
		g.start(ctx, m)
	default:
		ctx.Logger().Warn("group: unexpected message", "department", g.id, "type", fmt.Sprintf("%T", m))
	}
}

func (g *group) reload(ctx actor.Context) {
	d, err := g.b.store.Department(g.id)
	if err != nil {
		ctx.Logger().Error("group: load department", "department", g.id, "err", err)
		return
	}
	g.dept = d
	if g.b.metrics != nil {
		label := g.id
		if d == nil {
			label = ""
		}
		g.m = g.b.metrics.refusals(label)
	}
}

// refused counts a refusal, in the metrics and the statistics (under the
// department when it exists).
func (g *group) refused(reason messages.RefusalReason) {
	g.m.refused(reason)
	dept := g.id
	if g.dept == nil {
		dept = ""
	}
	g.b.statsRefused(dept, reason)
}

func (g *group) start(ctx actor.Context, m *messages.StartChat) {
	refuse := func(reason messages.RefusalReason, format string, args ...any) {
		g.b.routed(m, g.id, reasonOf(reason))
		g.refused(reason)
		g.b.Send(KindVisitor, m.GetVisitorId(), &messages.StartRefused{ChatId: m.GetChatId(), Conn: m.GetConn(), Ref: m.GetRef(),
			Refusal: &messages.ChatRefused{Reason: reason, Department: g.id, Message: fmt.Sprintf(format, args...)}})
	}
	lang := m.GetRequest().GetLanguage()
	// The site-wide switch is read per request, like languages: switching
	// live chat off refuses the next request at once.
	settings, err := g.b.store.Settings()
	if err != nil {
		ctx.Logger().Error("group: load settings", "err", err)
		g.b.Send(KindVisitor, m.GetVisitorId(), &messages.StartRefused{ChatId: m.GetChatId(), Conn: m.GetConn(), Ref: m.GetRef()})
		return
	}
	if settings.GetLiveChatOff() {
		refuse(messages.RefusalReason_REFUSAL_REASON_LIVE_CHAT_OFF, "live chat is switched off right now")
		return
	}
	switch {
	case g.dept == nil:
		refuse(messages.RefusalReason_REFUSAL_REASON_UNKNOWN_DEPARTMENT, "there is no department %q", g.id)
		return
	case !g.dept.GetChatEnabled():
		refuse(messages.RefusalReason_REFUSAL_REASON_DEPARTMENT_CLOSED, "%s is not taking chats right now", g.dept.GetName())
		return
	}
	if open, next := BusinessHours(g.dept.GetBusinessHours(), g.dept.GetTimeZone(), g.b.clock.Now()); !open {
		g.refused(messages.RefusalReason_REFUSAL_REASON_OUTSIDE_BUSINESS_HOURS)
		msg := fmt.Sprintf("%s is closed now", g.dept.GetName())
		g.b.routed(m, g.id, reasonOf(messages.RefusalReason_REFUSAL_REASON_OUTSIDE_BUSINESS_HOURS))
		if !next.IsZero() {
			msg += "; it opens " + next.Format("Mon 2 Jan 15:04 MST")
		}
		g.b.Send(KindVisitor, m.GetVisitorId(), &messages.StartRefused{ChatId: m.GetChatId(), Conn: m.GetConn(), Ref: m.GetRef(),
			Refusal: &messages.ChatRefused{Reason: messages.RefusalReason_REFUSAL_REASON_OUTSIDE_BUSINESS_HOURS, Department: g.id,
				Message: msg, OpensAtMs: next.UnixMilli()}})
		return
	}
	// Languages are read per request: they are few, and a language switched
	// off must refuse the next request at once.
	l, err := g.b.store.Language(lang)
	if err != nil {
		// Storage cannot be read now: a temporary error, not a refusal.
		ctx.Logger().Error("group: load language", "language", lang, "err", err)
		g.b.Send(KindVisitor, m.GetVisitorId(), &messages.StartRefused{ChatId: m.GetChatId(), Conn: m.GetConn(), Ref: m.GetRef()})
		return
	}
	if l == nil || !l.GetChatEnabled() {
		refuse(messages.RefusalReason_REFUSAL_REASON_LANGUAGE_NOT_OFFERED, "chat in %q is not offered", lang)
		return
	}
	m.LiveChat = LiveChatOf(g.dept)
	m.Trace = g.b.routed(m, g.id, ResultRouted)
	g.b.Send(KindQueue, g.id, m)
}
