package actors

import "time"

// viewEvery is the most often a department's monitors get its live view.
const viewEvery = 250 * time.Millisecond

// viewThrottle is who follows a department's live view, and when it was
// last pushed: a change is pushed at once when the last push is viewEvery
// old, else once the timer the queue arms runs out (FlushViews). A plain
// value the queue actor owns.
type viewThrottle struct {
	watchers map[string]bool // agent ids
	dirty    bool            // changed since the last push
	armed    bool            // a FlushViews is on its way
	lastPush time.Time
}

func newViewThrottle() viewThrottle { return viewThrottle{watchers: map[string]bool{}} }

// watch adds or removes a watcher; a new one gets a view at the next
// change, whenever the last push was.
func (t *viewThrottle) watch(agent string, on bool) {
	if !on {
		delete(t.watchers, agent)
		return
	}
	t.watchers[agent] = true
	t.lastPush = time.Time{}
}

// changed notes that the view changed at now: push says to push it now;
// else a wait above 0 says to arm the timer for that long.
func (t *viewThrottle) changed(now time.Time) (push bool, wait time.Duration) {
	if len(t.watchers) == 0 {
		return false, 0
	}
	t.dirty = true
	if t.armed {
		return false, 0
	}
	since := now.Sub(t.lastPush)
	if since >= viewEvery {
		return true, 0
	}
	t.armed = true
	return false, viewEvery - since
}

// flush is the armed timer running out: it says whether to push.
func (t *viewThrottle) flush() (push bool) {
	t.armed = false
	return t.dirty
}

// pushed notes a push at now.
func (t *viewThrottle) pushed(now time.Time) {
	t.dirty = false
	t.lastPush = now
}
