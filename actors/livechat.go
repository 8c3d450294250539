package actors

import (
	"slices"
	"strings"

	"github.com/switchboard-chat/switchboard/messages"
)

// Live chats (issue 19): each department belongs to one live chat, the
// default external one ("main") when it names none. The directory keeps
// them (directory_livechats.go); this file holds the rules others follow:
// which live chat a department is in, who supervises a department, and
// who may write in to it.

// MainLiveChat is the default live chat's id (messages.MainLiveChat).
const MainLiveChat = messages.MainLiveChat

// mainLiveChatName is the default live chat's name when none is stored.
const mainLiveChatName = "Website"

// colleaguePrefix starts the visitor id of a staff member who writes in to
// an internal live chat ("staff-<agent id>"): anonymous visitors' ids are
// NewID('v', ...), which never start so.
const colleaguePrefix = "staff-"

// ColleagueVisitorID is the visitor id of staff member agentID's own
// customer-side session.
func ColleagueVisitorID(agentID string) string { return colleaguePrefix + agentID }

// ColleagueOf is the staff id a colleague's visitor id stands for, or ""
// for an anonymous visitor.
func ColleagueOf(visitorID string) string {
	id, _ := strings.CutPrefix(visitorID, colleaguePrefix)
	if id == visitorID {
		return ""
	}
	return id
}

// LiveChatOf is the id of the live chat department d belongs to.
func LiveChatOf(d *messages.Department) string {
	return messages.LiveChatOr(d.GetLiveChat())
}

// defaultLiveChat is "main" as it reads when none is stored.
func defaultLiveChat() *messages.LiveChat {
	return &messages.LiveChat{Id: MainLiveChat, Name: mainLiveChatName, Kind: messages.LiveChatKind_LIVE_CHAT_KIND_EXTERNAL}
}

// LiveChat returns a live chat by id ("main" always), or nil.
func (b *Broker) LiveChat(id string) (*messages.LiveChat, error) {
	x, err := b.store.LiveChat(id)
	if x == nil && err == nil && id == MainLiveChat {
		x = defaultLiveChat()
	}
	return x, err
}

// LiveChats returns every live chat, by id, "main" among them.
func (b *Broker) LiveChats() ([]*messages.LiveChat, error) {
	xs, err := b.store.LiveChats()
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(xs, func(x *messages.LiveChat) bool { return x.GetId() == MainLiveChat }) {
		xs = append(xs, defaultLiveChat())
		slices.SortFunc(xs, func(a, b *messages.LiveChat) int { return strings.Compare(a.GetId(), b.GetId()) })
	}
	return xs, nil
}

// SupervisorsOf is the one rule of who supervises department d: its own
// supervisors, and its live chat's. Monitoring, whispers, the statistics'
// scope and reading history all follow it. A live chat that cannot be
// read now adds nobody (its supervisors see less, never more).
func (b *Broker) SupervisorsOf(d *messages.Department) []string {
	lc, err := b.store.LiveChat(LiveChatOf(d))
	if err != nil || len(lc.GetSupervisors()) == 0 {
		return d.GetSupervisors()
	}
	out := slices.Clone(d.GetSupervisors())
	for _, id := range lc.GetSupervisors() {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// Supervises reports whether staff id supervises department d (by the
// rule of SupervisorsOf; the supervise permission is the caller's check).
func (b *Broker) Supervises(d *messages.Department, id string) bool {
	return slices.Contains(b.SupervisorsOf(d), id)
}

// isInternal reports whether live chat lc is internal (nil: external).
func isInternal(lc *messages.LiveChat) bool {
	return lc.GetKind() == messages.LiveChatKind_LIVE_CHAT_KIND_INTERNAL
}

// sideMatches is the one rule of who is the customer side of a live chat:
// staff colleagues (visitor id "staff-<id>") of internal ones; anonymous
// visitors and channels' conversations (any other visitor id, "" for a
// channel not yet in a conversation) of external ones. mayWriteIn applies
// it to a request and to a chat moving or reopening (queueOpen), the
// directory to channels and to departments and live chats that channels
// depend on (directory_livechats.go).
func sideMatches(visitorID string, lc *messages.LiveChat) bool {
	return (ColleagueOf(visitorID) != "") == isInternal(lc)
}

// mayWriteIn says whether the customer side of a session may ask
// department dept (sideMatches). An unknown department passes here: its
// group refuses it as ever.
func (b *Broker) mayWriteIn(visitorID, dept string) *messages.Error {
	d, err := b.store.Department(dept)
	if err != nil {
		return messages.TemporaryErrorf(codeUnavailable, "cannot read departments now")
	}
	if d == nil {
		return nil
	}
	lc, err := b.LiveChat(LiveChatOf(d))
	if err != nil {
		return messages.TemporaryErrorf(codeUnavailable, "cannot read live chats now")
	}
	if sideMatches(visitorID, lc) {
		return nil
	}
	if isInternal(lc) {
		return errorf(codeForbidden, "department %q is in an internal live chat: only signed-in staff with %s write in to it", dept, PermLiveChatInternal)
	}
	return errorf(codeForbidden, "as a colleague you write in to internal live chats only; %q is in the external live chat %q", dept, lc.GetId())
}

// AskedBy is the one rule of a colleague's own question (internal live
// chats): staff member staffID is the colleague who asked the chat whose
// visitor is visitorID. In it they take no staff role (offer, pick,
// assignment, invitation, transfer, join, take-over) and do not read it as
// staff (its whispers and internal notes): OwnQuestion says why.
func AskedBy(visitorID, staffID string) bool {
	return staffID != "" && ColleagueOf(visitorID) == staffID
}

// OwnQuestion is the refusal of AskedBy, or nil when staffID did not ask
// the chat chatID (whose visitor is visitorID).
func OwnQuestion(visitorID, staffID, chatID string) *messages.Error {
	if !AskedBy(visitorID, staffID) {
		return nil
	}
	return errorf(codeForbidden, "%s asked chat %s as a colleague: they take no staff part in it and do not read it as staff", staffID, chatID)
}
