package actors

// The everyday desk on the agent's side: tagging a chat (the chat checks
// who may), and canned replies, listed and expanded for a chat from what
// the directory stored.

import (
	"slices"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// tagOrCanned handles the agent's tag and canned-reply commands; it
// reports whether m was one of them.
func (a *agent) tagOrCanned(ctx actor.Context, m *messages.SessionCommand) bool {
	switch body := m.GetBody().(type) {
	case *messages.SessionCommand_TagChat:
		a.toChat(m, body.TagChat.GetChatId(), &messages.ChatCommand{Body: &messages.ChatCommand_Tag{Tag: body.TagChat}})
	case *messages.SessionCommand_ListCanned:
		a.listCanned(ctx, m, body.ListCanned.GetDepartment())
	case *messages.SessionCommand_ExpandCanned:
		a.expandCanned(ctx, m, body.ExpandCanned)
	default:
		return false
	}
	return true
}

// listCanned answers the canned replies the agent may use: in one
// department, their own and the department's (their own replacing a
// department's of the same shortcut); without one, their own and those
// of every department they are in, supervise or manage.
func (a *agent) listCanned(ctx actor.Context, m *messages.SessionCommand, dept string) {
	conn, ref := m.GetConn(), m.GetRef()
	deps, err := a.b.cannedDepartments(a.rec)
	if err != nil {
		sendErr(ctx, conn, ref, messages.TemporaryErrorf(codeUnavailable, "cannot read canned replies now"))
		return
	}
	if dept != "" && !slices.Contains(deps, dept) {
		sendErr(ctx, conn, ref, messages.FieldErrorf(codeForbidden, "department", "you are not in department %q", dept))
		return
	}
	out, err := cannedList(a.b.store, a.id, deps, dept)
	if err != nil {
		sendErr(ctx, conn, ref, messages.TemporaryErrorf(codeUnavailable, "cannot read canned replies now"))
		return
	}
	ctx.Send(conn, &messages.Envelope{Ref: ref, Body: &messages.Envelope_CannedReplies{CannedReplies: &messages.CannedReplies{Replies: out}}})
}

// cannedList reads an agent's own replies and those of dept (effective:
// their own replace the department's), or of every one of deps.
func cannedList(store Store, agentID string, deps []string, dept string) ([]*messages.CannedReply, error) {
	own, err := store.CannedReplies("", agentID)
	if err != nil {
		return nil, err
	}
	if dept != "" {
		theirs, err := store.CannedReplies(dept, "")
		return effectiveCanned(own, theirs), err
	}
	for _, d := range deps {
		rs, err := store.CannedReplies(d, "")
		if err != nil {
			return nil, err
		}
		own = append(own, rs...)
	}
	return own, nil
}

// cannedDepartments are the departments whose canned replies an agent
// uses: those they are in, supervise or manage.
func (b *Broker) cannedDepartments(a *messages.Agent) ([]string, error) {
	out := slices.Clone(a.GetDepartments())
	all, err := b.store.Departments()
	for _, d := range all {
		if !slices.Contains(out, d.GetId()) && (b.Supervises(d, a.GetId()) || slices.Contains(d.GetManagers(), a.GetId())) {
			out = append(out, d.GetId())
		}
	}
	return out, err
}

// expandCanned answers a canned reply's text filled in for one of the
// agent's chats: the agent's own reply of that shortcut, else the chat's
// department's.
func (a *agent) expandCanned(ctx actor.Context, m *messages.SessionCommand, x *messages.ExpandCanned) {
	conn, ref, id := m.GetConn(), m.GetRef(), x.GetChatId()
	s := a.active[id]
	if s == nil {
		s = a.joined[id]
	}
	if s == nil {
		sendErr(ctx, conn, ref, errorf(codeNotFound, "you are not in chat %s", id))
		return
	}
	shortcut := strings.TrimPrefix(x.GetShortcut(), "#")
	r, dept, err := a.cannedFor(s.GetDepartment(), shortcut)
	switch {
	case err != nil:
		sendErr(ctx, conn, ref, messages.TemporaryErrorf(codeUnavailable, "cannot read canned replies now"))
		return
	case r == nil:
		sendErr(ctx, conn, ref, messages.FieldErrorf(codeNotFound, "shortcut", "no canned reply #%s for chat %s", shortcut, id))
		return
	}
	text := ExpandCanned(r.GetText(), CannedVars{Visitor: s.GetVisitorName(), Agent: a.rec.GetDisplayName(), Department: dept})
	if len(text) > MaxMessageBytes {
		sendErr(ctx, conn, ref, errorf(codeTooLarge, "#%s filled in is %d bytes, more than a message may hold (%d)", shortcut, len(text), MaxMessageBytes))
		return
	}
	ctx.Send(conn, &messages.Envelope{Ref: ref, Body: &messages.Envelope_CannedExpansion{CannedExpansion: &messages.CannedExpansion{
		ChatId: id, Shortcut: shortcut, Text: text, Reply: r}}})
}

// cannedFor finds the reply of shortcut the agent uses in department
// dept, and the department's name.
func (a *agent) cannedFor(dept, shortcut string) (*messages.CannedReply, string, error) {
	d, err := a.b.store.Department(dept)
	if err != nil {
		return nil, "", err
	}
	name := d.GetName()
	if name == "" {
		name = dept
	}
	for _, scope := range [][2]string{{"", a.id}, {dept, ""}} {
		rs, err := a.b.store.CannedReplies(scope[0], scope[1])
		if err != nil {
			return nil, "", err
		}
		for _, r := range rs {
			if r.GetShortcut() == shortcut {
				return r, name, nil
			}
		}
	}
	return nil, name, nil
}
