package persistence

import (
	"github.com/switchboard-chat/switchboard/messages"
)

// PutCanned durably creates or replaces a canned reply: a department's
// (department set) or an agent's own (agent_id set).
func (s *Store) PutCanned(r *messages.CannedReply, done func(error)) {
	s.putOne(cannedKey(r), r, done)
}

// DeleteCanned durably removes a canned reply (by its scope and shortcut).
func (s *Store) DeleteCanned(r *messages.CannedReply, done func(error)) {
	s.submit([]mutation{del(cannedKey(r))}, done)
}

// CannedReplies returns the canned replies of one department (agentID
// empty) or of one agent's own (department empty), by shortcut; both
// empty: every canned reply.
func (s *Store) CannedReplies(department, agentID string) ([]*messages.CannedReply, error) {
	return scanAll(s, cannedScope(department, agentID), func() *messages.CannedReply { return &messages.CannedReply{} })
}

// cannedDeletes deletes every canned reply of a scope, for the batch that
// deletes the department or account that owns them.
func (s *Store) cannedDeletes(department, agentID string) ([]mutation, error) {
	var muts []mutation
	err := s.scan(cannedScope(department, agentID), func(k, _ []byte) error {
		muts = append(muts, del(append([]byte(nil), k...)))
		return nil
	})
	return muts, err
}
