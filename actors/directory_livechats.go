package actors

import (
	"slices"
	"strings"

	"github.com/switchboard-chat/switchboard/messages"
)

// The directory's live chat commands. Departments name their live chat;
// the default one, "main", is made up when none is stored, so it needs no
// write to exist, and cannot be deleted or made internal.

// maxLiveChatNameBytes bounds a live chat's name.
const maxLiveChatNameBytes = 80

func (d *directory) putLiveChat(x *messages.LiveChat) (*change, *messages.Error) {
	if e := d.checkLiveChat(x); e != nil {
		return nil, e
	}
	if x.GetName() == "" {
		x.Name = x.GetId()
		if x.GetId() == MainLiveChat {
			x.Name = mainLiveChatName
		}
	}
	d.liveChats[x.GetId()] = x
	// No running actor keeps a live chat: each reads it when it needs it
	// (a request, a supervisor's check).
	return &change{write: func(done func(error)) { d.b.store.PutLiveChat(x, done) }}, nil
}

func (d *directory) checkLiveChat(x *messages.LiveChat) *messages.Error {
	if !ValidName(x.GetId()) {
		return refuse("id", codeInvalid, "live chat id must be 1-64 of a-z 0-9 - _ .")
	}
	if _, ok := messages.LiveChatKind_name[int32(x.GetKind())]; !ok {
		return refuse("kind", codeInvalid, "kind is LIVE_CHAT_KIND_EXTERNAL or LIVE_CHAT_KIND_INTERNAL")
	}
	if x.GetId() == MainLiveChat && x.GetKind() != messages.LiveChatKind_LIVE_CHAT_KIND_EXTERNAL {
		return refuse("kind", codeInvalid, "the default live chat %q is external (customers write in to it)", MainLiveChat)
	}
	if e := CheckText("name", x.GetName(), maxLiveChatNameBytes); e != nil {
		return refuse("name", codeInvalid, "%s", e.GetMessage())
	}
	if e := CheckLook(x.GetLook()); e != nil {
		return e
	}
	for _, id := range x.GetSupervisors() {
		if d.agents[id] == nil {
			return refuse("supervisors", codeInvalid, "no agent %q (supervisors are staff ids)", id)
		}
	}
	for _, ch := range d.sortedChannels() {
		if dep := d.deps[ch.GetDepartment()]; dep != nil && LiveChatOf(dep) == x.GetId() && !sideMatches("", x) {
			return refuse("kind", codeConflict, "channel %q brings outside customers to department %q of live chat %q: it cannot become internal", ch.GetId(), dep.GetId(), x.GetId())
		}
	}
	return nil
}

// liveChatOf is the live chat department x is in, as the directory has
// it ("main" when none is stored).
func (d *directory) liveChatOf(x *messages.Department) *messages.LiveChat {
	if lc := d.liveChats[LiveChatOf(x)]; lc != nil {
		return lc
	}
	return defaultLiveChat()
}

// sortedChannels lists the channels by id (a refusal names the same one
// each time).
func (d *directory) sortedChannels() []*messages.Channel {
	out := make([]*messages.Channel, 0, len(d.channels))
	for _, ch := range d.channels {
		out = append(out, ch)
	}
	slices.SortFunc(out, func(a, b *messages.Channel) int { return strings.Compare(a.GetId(), b.GetId()) })
	return out
}

// deleteLiveChat deletes a live chat that no department belongs to
// (channels belong to departments, so none is left either).
func (d *directory) deleteLiveChat(id string) (*change, *messages.Error) {
	if id == MainLiveChat {
		return nil, refuse("", codeConflict, "the default live chat %q cannot be deleted", MainLiveChat)
	}
	if d.liveChats[id] == nil {
		return nil, refuse("", codeNotFound, "no live chat %q", id)
	}
	for _, dep := range d.deps {
		if dep.GetLiveChat() == id {
			return nil, refuse("", codeConflict, "live chat %q still has departments (%s); move or delete them first", id, dep.GetId())
		}
	}
	delete(d.liveChats, id)
	return &change{write: func(done func(error)) { d.b.store.DeleteLiveChat(id, done) }}, nil
}

// checkDepartmentLiveChat: a department names a live chat that exists
// ("" and "main": the default one), and one whose customers its channels'
// conversations can be (sideMatches).
func (d *directory) checkDepartmentLiveChat(x *messages.Department) *messages.Error {
	if lc := x.GetLiveChat(); lc != "" && lc != MainLiveChat && d.liveChats[lc] == nil {
		return refuse("live_chat", codeInvalid, "no live chat %q", lc)
	}
	if lc := d.liveChatOf(x); !sideMatches("", lc) {
		for _, ch := range d.sortedChannels() {
			if ch.GetDepartment() == x.GetId() {
				return refuse("live_chat", codeConflict, "channel %q brings outside customers to department %q: it cannot move into the internal live chat %q", ch.GetId(), x.GetId(), lc.GetId())
			}
		}
	}
	return nil
}
