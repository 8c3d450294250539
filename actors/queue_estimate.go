package actors

import (
	"slices"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// The wait estimate: the mean of the last handledKeep handling times, or
// DefaultHandlingTime before there are any. A visitor is told again when
// their position changes or their estimate moves by etaResend or more.
const (
	handledKeep         = 20
	DefaultHandlingTime = 3 * time.Minute
	etaResend           = 15 * time.Second
)

// estimator follows a department's chats being handled (for its monitors)
// and the recent handling times (for the wait estimate). A plain value the
// queue actor owns.
type estimator struct {
	active  map[string]*handled
	handled []time.Duration // the last handledKeep, oldest first
}

type handled struct {
	chat  *messages.ChatSummary
	since time.Time
}

func newEstimator() estimator { return estimator{active: map[string]*handled{}} }

// restore follows a chat handled before a restart, from now.
func (e *estimator) restore(s *messages.ChatSummary, now time.Time) {
	e.active[s.GetChatId()] = &handled{chat: s, since: now}
}

// update follows a chat being handled, from when it was first seen here,
// until it ends. A chat that closes adds its handling time; update reports
// whether it did.
func (e *estimator) update(s *messages.ChatSummary, ended bool, now time.Time) (added bool) {
	id := s.GetChatId()
	h := e.active[id]
	if !ended {
		if h == nil {
			h = &handled{since: now}
			e.active[id] = h
		}
		h.chat = s
		return false
	}
	if h == nil {
		return false
	}
	delete(e.active, id)
	if s.GetState() != stateClosed {
		return false
	}
	e.handled = append(e.handled, now.Sub(h.since))
	if len(e.handled) > handledKeep {
		e.handled = e.handled[1:]
	}
	return true
}

// mean is the mean of the recent handling times.
func (e *estimator) mean() time.Duration {
	if len(e.handled) == 0 {
		return DefaultHandlingTime
	}
	var sum time.Duration
	for _, d := range e.handled {
		sum += d
	}
	return sum / time.Duration(len(e.handled))
}

// chats are the chats being handled, oldest first.
func (e *estimator) chats() []*messages.ChatSummary {
	var out []*messages.ChatSummary
	for _, h := range e.active {
		out = append(out, h.chat)
	}
	slices.SortFunc(out, func(x, y *messages.ChatSummary) int { return int(x.GetCreatedAtMs() - y.GetCreatedAtMs()) })
	return out
}

// estimate is the wait in ms of the chat at position pos: none (-1) when no
// agent is available; 0 when a free slot awaits it; else, since a slot
// frees every mean/capacity on average, (pos - free) * mean / capacity.
func estimate(pos, capacity, free uint32, mean time.Duration) int64 {
	switch {
	case capacity == 0:
		return -1
	case pos <= free:
		return 0
	}
	return int64(time.Duration(pos-free) * mean / time.Duration(capacity) / time.Millisecond)
}

// retell reports whether a visitor last told position told and estimate
// toldEta (-1: none) is told position pos and estimate eta.
func retell(told uint32, toldEta int64, pos uint32, eta int64) bool {
	return told != pos || (eta < 0) != (toldEta < 0) || time.Duration(abs(eta-toldEta))*time.Millisecond >= etaResend
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// capacityOf sums the limits of the connected, available agents, and
// their free slots.
func capacityOf(roster map[string]*candidate) (capacity, free uint32) {
	for _, c := range roster {
		if c.status == statusAvailable && c.connected {
			capacity += c.max
			if c.load < c.max {
				free += c.max - c.load
			}
		}
	}
	return capacity, free
}
