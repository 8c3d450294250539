package actors

import (
	"github.com/switchboard-chat/switchboard/messages"
)

// The directory's canned replies: a department's, kept by administrators
// and its managers, and each agent's own (the gateway checked the
// caller). The directory keeps which shortcuts each scope has, for its
// limit; the replies themselves are read from the store.

// cannedScopeOf names a reply's scope in d.canned.
func cannedScopeOf(r *messages.CannedReply) string {
	if r.GetDepartment() != "" {
		return "dep/" + r.GetDepartment()
	}
	return "agent/" + r.GetAgentId()
}

func (d *directory) loadCanned() error {
	d.canned = map[string]map[string]bool{}
	rs, err := d.b.store.CannedReplies("", "")
	for _, r := range rs {
		d.cannedSet(r)[r.GetShortcut()] = true
	}
	return err
}

func (d *directory) cannedSet(r *messages.CannedReply) map[string]bool {
	scope := cannedScopeOf(r)
	if d.canned[scope] == nil {
		d.canned[scope] = map[string]bool{}
	}
	return d.canned[scope]
}

func (d *directory) putCanned(r *messages.CannedReply) (*change, *messages.Error) {
	if e := CheckCanned(r); e != nil {
		return nil, e
	}
	switch {
	case r.GetDepartment() != "" && d.deps[r.GetDepartment()] == nil:
		return nil, refuse("department", codeNotFound, "no department %q", r.GetDepartment())
	case r.GetAgentId() != "" && d.agents[r.GetAgentId()] == nil:
		return nil, refuse("agent_id", codeNotFound, "no agent %q", r.GetAgentId())
	}
	set := d.cannedSet(r)
	if !set[r.GetShortcut()] && len(set) >= MaxCannedPerScope {
		return nil, refuse("shortcut", codeConflict, "at most %d canned replies each; delete one first", MaxCannedPerScope)
	}
	set[r.GetShortcut()] = true
	return &change{write: func(done func(error)) { d.b.store.PutCanned(r, done) }}, nil
}

func (d *directory) deleteCanned(r *messages.CannedReply) (*change, *messages.Error) {
	set := d.canned[cannedScopeOf(r)]
	if !set[r.GetShortcut()] {
		return nil, refuse("shortcut", codeNotFound, "no canned reply #%s", r.GetShortcut())
	}
	delete(set, r.GetShortcut())
	return &change{write: func(done func(error)) { d.b.store.DeleteCanned(r, done) }}, nil
}
