package actors

// What the chat knows of channels (issue 19), without knowing any channel:
// its ChatCreated may carry a reply window (staff write to the visitor
// only within it after the visitor's last message, or send a template),
// and a channel's reports on delivered events are recorded as internal
// ChatDelivered events.

import (
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// Template limits: WhatsApp's template names are lower-case letters,
// digits and underscores; a template has a few body parameters.
const (
	maxTemplateName   = 512
	maxTemplateParams = 20
)

// replyWindowError is why staff may not write to the visitor now (nil:
// they may): the chat has a reply window and the visitor's last message
// (or the chat's start, before any) is older than it.
func (c *chat) replyWindowError() *messages.Error {
	w := c.created.GetReplyWindowMs()
	if w <= 0 {
		return nil
	}
	last := c.visitorAt
	if last == 0 {
		last = c.sum.GetCreatedAtMs()
	}
	if c.b.clock.Now().UnixMilli()-last <= w {
		return nil
	}
	return errorf(messages.ErrorCode_ERROR_CODE_REPLY_WINDOW_CLOSED,
		"the visitor's last message is older than this chat's reply window (%d h): only a template message may be sent", w/3_600_000)
}

// checkTemplate checks a template message's template.
func checkTemplate(t *messages.MessageTemplate) *messages.Error {
	n := t.GetName()
	switch {
	case n == "" || len(n) > maxTemplateName || strings.Trim(n, "abcdefghijklmnopqrstuvwxyz0123456789_") != "":
		return refuse("template.name", codeInvalid, "a template's name is 1-%d of a-z 0-9 _", maxTemplateName)
	case t.GetLanguage() == "" || len(t.GetLanguage()) > 16 || strings.ContainsAny(t.GetLanguage(), "/ "):
		return refuse("template.language", codeInvalid, "a template's language is a code such as en_US")
	case len(t.GetParams()) > maxTemplateParams:
		return refuse("template.params", codeInvalid, "a template has at most %d parameters", maxTemplateParams)
	}
	for _, p := range t.GetParams() {
		if e := CheckText("template.params", p, MaxNameBytes*4); e != nil {
			return refuse("template.params", e.GetCode(), "%s", e.GetMessage())
		}
	}
	return nil
}

// templateText is what a template message reads when staff gave no text.
func templateText(t *messages.MessageTemplate) string {
	if len(t.GetParams()) == 0 {
		return "[template " + t.GetName() + "]"
	}
	return "[template " + t.GetName() + ": " + strings.Join(t.GetParams(), ", ") + "]"
}

// deliveredRank orders a channel's delivery states: a state is recorded
// once, and not after a later one (a late "delivered" after "read").
func deliveredRank(state string) int {
	switch state {
	case "sent":
		return 1
	case "delivered":
		return 2
	case "read":
		return 3
	case "failed":
		return 4
	}
	return 0
}

// delivered records what a channel said of one of the chat's events.
func (c *chat) delivered(ctx actor.Context, m *messages.RecordDelivered) {
	d := m.GetDelivered()
	rank := deliveredRank(d.GetState())
	switch {
	case rank == 0:
		sendErr(ctx, m.GetConn(), 0, refuse("state", codeInvalid, "state is sent, delivered, read or failed"))
		return
	case d.GetOfSeq() == 0 || d.GetOfSeq() > c.last:
		sendErr(ctx, m.GetConn(), 0, errorf(codeNotFound, "chat %s has no event %d", c.id, d.GetOfSeq()))
		return
	case rank <= c.deliveredRank[d.GetOfSeq()]:
		sendAck(ctx, m.GetConn(), 0, &messages.Ack{ChatId: c.id})
		return
	}
	ev := &messages.ChatEvent{Kind: &messages.ChatEvent_Delivered{Delivered: d}, Internal: true}
	c.write([]*messages.ChatEvent{ev}, ack(m.GetConn(), 0, &messages.Ack{ChatId: c.id}))
}
