package actors

import (
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// The directory's department commands. A department's group and queue
// reload it once a change is stored.

func (d *directory) putDepartment(x *messages.Department) (*change, *messages.Error) {
	if e := d.checkDepartment(x); e != nil {
		return nil, e
	}
	if x.GetName() == "" {
		x.Name = x.GetId()
	}
	d.deps[x.GetId()] = x
	return &change{write: func(done func(error)) { d.b.store.PutDepartment(x, done) }, notify: departmentNames(x.GetId())}, nil
}

func (d *directory) checkDepartment(x *messages.Department) *messages.Error {
	if !ValidName(x.GetId()) {
		return refuse("id", codeInvalid, "department id must be 1-64 of a-z 0-9 - _ .")
	}
	if _, ok := messages.RoutingPolicy_name[int32(x.GetPolicy())]; !ok {
		return refuse("policy", codeInvalid, "unknown routing policy %d", x.GetPolicy())
	}
	if x.GetQueueLimit() > 100000 {
		return refuse("queue_limit", codeInvalid, "queue_limit is at most 100000")
	}
	if x.GetOfferTimeoutMs() > 3600000 {
		return refuse("offer_timeout_ms", codeInvalid, "offer_timeout_ms is at most 3600000")
	}
	if x.GetAnswerTargetS() > 86400 {
		return refuse("answer_target_s", codeInvalid, "answer_target_s is at most 86400 (a day)")
	}
	if x.GetRetentionDays() > maxRetentionDays {
		return refuse("retention_days", codeInvalid, "retention_days is at most %d (0: keep for ever)", maxRetentionDays)
	}
	if e := ValidateAccess(&messages.AccessRules{LoginHours: x.GetBusinessHours(), TimeZone: x.GetTimeZone()}); e != nil {
		return refuse(nested(e, "", "business_hours"), codeInvalid, "business hours: %s", e.GetMessage())
	}
	if e := CheckLook(x.GetLook()); e != nil {
		return e
	}
	if e := checkDepartmentTags(x); e != nil {
		return e
	}
	if e := d.checkDepartmentLiveChat(x); e != nil {
		return e
	}
	for _, f := range []struct {
		name string
		ids  []string
	}{{"supervisors", x.GetSupervisors()}, {"managers", x.GetManagers()}} {
		for _, id := range f.ids {
			if d.agents[id] == nil {
				return refuse(f.name, codeInvalid, "no agent %q (supervisors and managers are staff ids)", id)
			}
		}
	}
	return nil
}

func (d *directory) deleteDepartment(id string) (*change, *messages.Error) {
	if d.deps[id] == nil {
		return nil, refuse("", codeNotFound, "no department %q", id)
	}
	for _, a := range d.agents {
		if slices.Contains(a.GetDepartments(), id) {
			return nil, refuse("", codeConflict, "department %q still has members (%s); remove them first", id, a.GetId())
		}
	}
	if m := d.mappingOf(func(m *messages.GroupMapping) bool { return slices.Contains(m.GetDepartments(), id) }); m != "" {
		return nil, refuse("", codeConflict, "department %q is given by the sign-in group mapping of %q; change the mapping first", id, m)
	}
	if ch := d.channelOf(id); ch != "" {
		return nil, refuse("", codeConflict, "channel %q sends its conversations to department %q; change or delete the channel first", ch, id)
	}
	delete(d.deps, id)
	delete(d.canned, "dep/"+id) // the store deletes them with the department
	return &change{write: func(done func(error)) { d.b.store.DeleteDepartment(id, done) }, notify: departmentNames(id)}, nil
}

// setQueueOnline takes a department's queue online or offline; when it
// already is, nothing changes (nil, nil).
func (d *directory) setQueueOnline(x *messages.QueueOnlineChange) (*change, *messages.Error) {
	dep := d.deps[x.GetDepartment()]
	if dep == nil {
		return nil, refuse("", codeNotFound, "no department %q", x.GetDepartment())
	}
	if dep.GetChatEnabled() == x.GetOnline() {
		return nil, nil
	}
	next := proto.Clone(dep).(*messages.Department)
	next.ChatEnabled, next.OnlineChangedBy = x.GetOnline(), x.GetBy()
	d.deps[next.GetId()] = next
	return &change{write: func(done func(error)) { d.b.store.PutDepartment(next, done) }, notify: departmentNames(next.GetId())}, nil
}
