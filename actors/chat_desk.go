package actors

// The everyday desk in a chat: tags (staff-only events, a department may
// require one before its agent closes the chat) and the visitor's rating
// of a closed chat.

import (
	"slices"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// Limits on ratings: a comment is at most MaxRatingCommentBytes; a chat
// takes at most MaxRatings ratings (each later one replaces the earlier).
const (
	MaxRatingCommentBytes = 1000
	MaxRatings            = 10
)

// tag adds a tag to the chat or removes one, by staff in the chat or a
// supervisor or manager of its department; open or closed chats alike.
// Adding a tag it has, or removing one it has not, changes nothing.
func (c *chat) tag(ctx actor.Context, x cmd, t *messages.TagChat) {
	if e := c.mayTag(x); e != nil {
		sendErr(ctx, x.GetConn(), x.GetRef(), e)
		return
	}
	tag, remove := t.GetTag(), t.GetRemove()
	if e := checkTag("tag", tag); e != nil {
		sendErr(ctx, x.GetConn(), x.GetRef(), e)
		return
	}
	if slices.Contains(c.sum.GetTags(), tag) != remove {
		x.ackNow(ctx, c.id)
		return
	}
	if !remove {
		if e := c.tagAllowed(tag); e != nil {
			sendErr(ctx, x.GetConn(), x.GetRef(), e)
			return
		}
	}
	ev := &messages.ChatEvent{Kind: &messages.ChatEvent_Tagged{Tagged: &messages.ChatTagged{Tag: tag, Removed: remove, By: x.who}}, Internal: true}
	kind := "chat.tag"
	if remove {
		kind = "chat.untag"
	}
	c.write([]*messages.ChatEvent{ev}, c.audit(auditOf(x.ChatCommand, kind, tag)), c.pushEvent(ev, c.outside(x.who.GetId())...), c.answered(x.ChatCommand))
}

// mayTag says why the sender may not tag this chat, if so: they need
// chats.tag, and to be in the chat, or to supervise or manage its
// department.
func (c *chat) mayTag(x cmd) *messages.Error {
	perms := permsOf(&messages.Role{Permissions: x.GetPerms()})
	if !perms.Has(PermTag) {
		return errorf(codeForbidden, "your role does not allow this (%s)", PermTag)
	}
	switch x.r {
	case roleOwner, roleGuest, roleWatcher:
		return nil
	}
	d, err := c.b.store.Department(c.sum.GetDepartment())
	if err != nil {
		return c.unavailable()
	}
	id := x.GetFrom().GetId()
	if perms.Has(PermSupervise) && c.b.Supervises(d, id) || perms.Has(PermManageQueues) && slices.Contains(d.GetManagers(), id) {
		return nil
	}
	return errorf(codeForbidden, "you are not in chat %s, nor a supervisor or manager of its department", c.id)
}

// tagAllowed says why tag cannot be added, if so: it must be one of the
// department's tags, and the chat has room for it.
func (c *chat) tagAllowed(tag string) *messages.Error {
	d, err := c.b.store.Department(c.sum.GetDepartment())
	switch {
	case err != nil:
		return c.unavailable()
	case !slices.Contains(d.GetTags(), tag):
		return messages.FieldErrorf(codeInvalid, "tag", "%q is not one of the tags of department %s (%s)", tag, c.sum.GetDepartment(), tagList(d))
	case len(c.sum.GetTags()) >= MaxChatTags:
		return messages.FieldErrorf(codeTooLarge, "tag", "a chat has at most %d tags", MaxChatTags)
	}
	return nil
}

func tagList(d *messages.Department) string {
	if len(d.GetTags()) == 0 {
		return "it has none"
	}
	return strings.Join(d.GetTags(), ", ")
}

// untaggedClose says why the chat's agent may not close it yet, if so:
// its department requires a tag (require_tag) and it has none.
func (c *chat) untaggedClose() *messages.Error {
	d, err := c.b.store.Department(c.sum.GetDepartment())
	switch {
	case err != nil:
		return c.unavailable()
	case d.GetRequireTag() && len(c.sum.GetTags()) == 0:
		return errorf(codeConflict, "department %s requires a tag before a chat closes (require_tag): tag it first (%s)", c.sum.GetDepartment(), tagList(d))
	}
	return nil
}

// rate records the visitor's rating of the chat once it is closed. A later
// rating replaces the earlier one: a visitor who clicked the wrong face,
// or thought again, corrects it, and reports take the last (at most
// MaxRatings per chat, and comments count toward MaxVisitorBytes).
func (c *chat) rate(ctx actor.Context, x cmd, r *messages.RateChat) {
	if e := c.rateError(x, r); e != nil {
		sendErr(ctx, x.GetConn(), x.GetRef(), e)
		return
	}
	rated := &messages.ChatRated{Score: r.GetScore(), Comment: r.GetComment(), AgentId: c.lastAgent, Department: c.sum.GetDepartment()}
	ev := &messages.ChatEvent{Kind: &messages.ChatEvent_Rated{Rated: rated}}
	a := &messages.Ack{ChatId: c.id, Seq: c.last + 1, VisitorSeq: c.vlast + 1}
	c.write([]*messages.ChatEvent{ev}, c.audit(auditOf(x.ChatCommand, "chat.rate", r.GetScore().String())),
		c.pushEvent(ev, c.raters()...), ack(x.GetConn(), x.GetRef(), a))
}

func (c *chat) rateError(x cmd, r *messages.RateChat) *messages.Error {
	switch {
	case x.r != roleVisitor:
		return errorf(codeForbidden, "only the chat's visitor rates it")
	case c.sum.GetState() != stateClosed:
		return errorf(codeConflict, "chat %s is still open: rate it once it has closed", c.id)
	case c.lastAgent == "":
		return errorf(codeConflict, "nobody answered chat %s: there is nothing to rate", c.id)
	case r.GetScore() != messages.RatingScore_RATING_SCORE_GOOD && r.GetScore() != messages.RatingScore_RATING_SCORE_BAD:
		return messages.FieldErrorf(codeInvalid, "score", "score is RATING_SCORE_GOOD or RATING_SCORE_BAD")
	case c.ratings >= MaxRatings:
		return errorf(codeConflict, "chat %s was rated %d times; the last rating stands", c.id, c.ratings)
	case c.visitorSent+visitorCost(r.GetComment()) > MaxVisitorBytes:
		return messages.FieldErrorf(codeTooLarge, "comment", "this chat holds what a visitor may write in one chat")
	}
	if e := CheckText("comment", r.GetComment(), MaxRatingCommentBytes); e != nil {
		e.Field = "comment"
		return e
	}
	return nil
}

// raters are who hear of a rating: the agent the chat was with, and the
// supervisors of its department.
func (c *chat) raters() []string {
	ids := []string{c.lastAgent}
	if d, err := c.b.store.Department(c.sum.GetDepartment()); err == nil {
		for _, id := range c.b.SupervisorsOf(d) {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// outside is id when the chat's fan-out does not reach them (a supervisor
// not in the chat, or anyone once it is closed), else nothing.
func (c *chat) outside(id string) []string {
	if c.sum.GetState() == stateClosed || !slices.Contains(c.staff(), id) {
		return []string{id}
	}
	return nil
}

// pushEvent hands a durable event to staff the fan-out does not reach
// (their agent actor no longer holds the chat): every socket of theirs
// gets it as a push.
func (c *chat) pushEvent(ev *messages.ChatEvent, ids ...string) step {
	if len(ids) == 0 {
		return step{}
	}
	return step{done: func(actor.Context, *stored) {
		env := &messages.Envelope{Body: &messages.Envelope_Event{Event: ev}}
		for _, id := range ids {
			c.b.Send(KindAgent, id, env)
		}
	}}
}
