package actors

import (
	"slices"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// line is a department's line of waiting chats, a plain value the queue
// actor owns: the chats in ticket order (transfers first), the chats being
// created (admitted, they count toward the limit), the tickets, and each
// client address's share of the line.
type line struct {
	waiting   []*waiting // by ticket, transfers (head) first
	byChat    map[string]*waiting
	admitting map[string]bool
	lastTick  uint64
	// Each waiting (or admitted) chat's client address, and how many
	// chats each address has in line (Config.LinePerAddress).
	addrOf  map[string]string
	perAddr map[string]int
}

// waiting is one chat in line.
type waiting struct {
	chat     *messages.ChatSummary
	ticket   uint64
	offer    *offer
	declined map[string]time.Time // agent -> when they declined
	notified uint32               // position last told to the visitor
	etaTold  int64                // estimate last told, ms; -1: none
	// A transferred chat: ahead of the others, and offered to target first.
	head   bool
	target string
	// decisions: how many of its routing decisions were kept in this
	// stay (routing_record.go).
	decisions int
	whySig    uint64    // the reasons of its last WAITING decision
	whyAt     time.Time // when they were last looked at
	// since is when the chat joined this line (the queue sets it; after
	// a restart, its ticket's time), for the wait metrics.
	since time.Time
}

func newLine() line {
	return line{byChat: map[string]*waiting{}, admitting: map[string]bool{}, addrOf: map[string]string{}, perAddr: map[string]int{}}
}

// admit takes a chat about to be created from the client address addr (""
// when unknown) and gives it its ticket, unless the line holds limit
// chats or, perAddress > 0, addr has perAddress of them already: one
// address's share of the line is bounded too, so a few addresses cannot
// fill it.
func (l *line) admit(chatID, addr string, limit, perAddress int, now time.Time) (ticket uint64, ok bool) {
	if len(l.waiting)+len(l.admitting) >= limit {
		return 0, false
	}
	if addr != "" && perAddress > 0 && l.perAddr[addr] >= perAddress {
		return 0, false
	}
	if addr != "" {
		l.addrOf[chatID] = addr
		l.perAddr[addr]++
	}
	// Tickets come from a hybrid clock: wall time in nanoseconds, bumped
	// to stay increasing, so they keep increasing across restarts without
	// being stored anywhere but in the chats.
	t := uint64(now.UnixNano())
	if t <= l.lastTick {
		t = l.lastTick + 1
	}
	l.lastTick = t
	l.admitting[chatID] = true
	return t, true
}

// enqueue puts an admitted chat, now created, in line.
func (l *line) enqueue(s *messages.ChatSummary, ticket uint64, head bool, target string) {
	delete(l.admitting, s.GetChatId())
	l.insert(s, ticket, head, target)
}

// insert puts a chat in line by ticket; transferred chats (head) go
// before all others, by ticket among themselves. A chat in line already
// stays where it is.
func (l *line) insert(s *messages.ChatSummary, ticket uint64, head bool, target string) {
	if l.byChat[s.GetChatId()] != nil {
		return
	}
	if ticket > l.lastTick {
		l.lastTick = ticket
	}
	w := &waiting{chat: s, ticket: ticket, declined: map[string]time.Time{}, head: head, target: target, etaTold: -1}
	i := len(l.waiting)
	for i > 0 && (head && !l.waiting[i-1].head || l.waiting[i-1].head == head && l.waiting[i-1].ticket > ticket) {
		i--
	}
	l.waiting = slices.Insert(l.waiting, i, w)
	l.byChat[s.GetChatId()] = w
}

// withdraw lets go of a chat whose visitor left: an admitted one gives its
// place back; one in line is returned, for the queue to revoke its offer
// and remove.
func (l *line) withdraw(chatID string) *waiting {
	delete(l.admitting, chatID)
	w := l.byChat[chatID]
	if w == nil {
		l.leave(chatID)
	}
	return w
}

// leave gives a chat's place in its address's share back.
func (l *line) leave(chatID string) {
	addr, ok := l.addrOf[chatID]
	if !ok {
		return
	}
	delete(l.addrOf, chatID)
	if l.perAddr[addr]--; l.perAddr[addr] <= 0 {
		delete(l.perAddr, addr)
	}
}

// toHead moves w before every other chat in line; it reports whether it
// moved. (It is not marked head: it was not transferred. A chat
// transferred later still goes before it, as insert puts those first.)
func (l *line) toHead(w *waiting) bool {
	i := slices.Index(l.waiting, w)
	if i <= 0 {
		return false
	}
	l.waiting = slices.Insert(slices.Delete(l.waiting, i, i+1), 0, w)
	return true
}

func (l *line) remove(w *waiting) {
	l.leave(w.chat.GetChatId())
	delete(l.byChat, w.chat.GetChatId())
	if i := slices.Index(l.waiting, w); i >= 0 {
		l.waiting = slices.Delete(l.waiting, i, i+1)
	}
}

// list is the line as summaries with positions.
func (l *line) list(dept string) []*messages.ChatSummary {
	out := make([]*messages.ChatSummary, 0, len(l.waiting))
	for i, w := range l.waiting {
		s := w.chat
		out = append(out, &messages.ChatSummary{ChatId: s.GetChatId(), Department: dept, Language: s.GetLanguage(),
			State: stateQueued, VisitorId: s.GetVisitorId(), VisitorName: s.GetVisitorName(), CreatedAtMs: s.GetCreatedAtMs(),
			Position: uint32(i + 1), Guests: s.GetGuests()})
	}
	return out
}

// howFor says how a chat taken from the line was assigned.
func howFor(w *waiting) messages.AssignHow {
	if w.head {
		return messages.AssignHow_ASSIGN_HOW_TRANSFERRED
	}
	return messages.AssignHow_ASSIGN_HOW_ROUTED
}

// position is w's place in line (1: the head; 0: not in line).
func (l *line) position(w *waiting) uint32 {
	return uint32(slices.Index(l.waiting, w) + 1)
}
