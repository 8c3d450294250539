package actors

import (
	"slices"

	"github.com/switchboard-chat/switchboard/messages"
)

// candidate is one agent as a queue sees it: the agent's last report plus
// what the queue did since (offers it made).
type candidate struct {
	id           string
	name         string
	status       messages.AgentStatus
	connected    bool
	languages    []string
	max          uint32
	load         uint32
	lastAssigned int64
	hold         bool // declined as busy: skip until its next report
}

// eligible reports whether c can be offered a chat in lang: free, and
// speaks the language.
func (c *candidate) eligible(lang string) bool {
	return c.free() && slices.Contains(c.languages, lang)
}

// free reports whether c can be offered a chat in some language: online
// and available, connected, not holding off, below the limit.
func (c *candidate) free() bool { return c.busy() == "" }

// pickLeastLoaded returns the eligible agent with the lowest load relative
// to their limit; ties go to the one whose last assignment is oldest, then
// to the smallest id. excluded agents are skipped.
func pickLeastLoaded(cands []*candidate, lang string, excluded func(id string) bool) *candidate {
	var best *candidate
	for _, c := range cands {
		if !c.eligible(lang) || excluded(c.id) {
			continue
		}
		if best == nil || lessLoaded(c, best) {
			best = c
		}
	}
	return best
}

func lessLoaded(a, b *candidate) bool {
	// a.load/a.max < b.load/b.max without division.
	l, r := uint64(a.load)*uint64(b.max), uint64(b.load)*uint64(a.max)
	if l != r {
		return l < r
	}
	if a.lastAssigned != b.lastAssigned {
		return a.lastAssigned < b.lastAssigned
	}
	return a.id < b.id
}

// pickRoundRobin returns the first eligible agent after last in id order,
// wrapping around. cands must be sorted by id.
func pickRoundRobin(cands []*candidate, lang, last string, excluded func(id string) bool) *candidate {
	start, _ := slices.BinarySearchFunc(cands, last, func(c *candidate, id string) int {
		switch {
		case c.id < id:
			return -1
		case c.id > id:
			return 1
		}
		return 0
	})
	n := len(cands)
	var again *candidate // last, when it is eligible: their turn comes again if nobody else can take it
	for i := 0; i < n; i++ {
		c := cands[(start+i)%n]
		ok := c.eligible(lang) && !excluded(c.id)
		if c.id == last && n > 1 && i == 0 {
			if ok {
				again = c
			}
			continue
		}
		if ok {
			return c
		}
	}
	return again
}
