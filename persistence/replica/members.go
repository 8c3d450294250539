package replica

import (
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// membershipTimeout bounds one change of the group's voters.
const membershipTimeout = 10 * time.Second

// ErrNotLeader: a change of the group's voters must be made on its leader.
var ErrNotLeader = errors.New("replica: only the leader changes the voters")

// AddVoter adds a node to the group, at its cluster port; it catches up
// from the log (or a snapshot) and then votes. A node started with no
// Peers waits to be added. Leader only.
func (n *Node) AddVoter(id, addr string) error {
	if !n.IsLeader() {
		return ErrNotLeader
	}
	if err := n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, membershipTimeout).Error(); err != nil {
		return fmt.Errorf("replica: add %s at %s: %w", id, addr, err)
	}
	return nil
}

// RemoveVoter takes a node out of the group (it left cleanly). Leader
// only; a leader that removes itself steps down once that committed.
func (n *Node) RemoveVoter(id string) error {
	if !n.IsLeader() {
		return ErrNotLeader
	}
	if err := n.raft.RemoveServer(raft.ServerID(id), 0, membershipTimeout).Error(); err != nil {
		return fmt.Errorf("replica: remove %s: %w", id, err)
	}
	return nil
}
