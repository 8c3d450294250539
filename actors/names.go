package actors

// Name is an actor's name: its kind (KindChat, KindAgent, ...) and its id
// within the kind. Its String, "<kind>/<id>", is the name the actor is
// registered under; code that needs to address an actor later keeps the
// Name, never the string.
type Name struct{ Kind, ID string }

func (n Name) String() string { return n.Kind + "/" + n.ID }

// departmentNames are the actors that follow a department's record: its
// group and its queue.
func departmentNames(id string) []Name {
	return []Name{{KindGroup, id}, {KindQueue, id}}
}

// agentNames are the agent actors of these staff ids.
func agentNames(ids ...string) []Name {
	out := make([]Name, len(ids))
	for i, id := range ids {
		out[i] = Name{KindAgent, id}
	}
	return out
}
