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

// TransferLeadership hands the group's leadership to the voter id (the
// node that owns the actors writes the most: as leader its batches skip a
// forwarding hop and learn of their commit an append sooner). Leader
// only; it returns once the transfer ended.
func (n *Node) TransferLeadership(id string) error {
	if !n.IsLeader() {
		return ErrNotLeader
	}
	for _, v := range n.Status().Voters {
		if v.ID == id {
			if err := n.raft.LeadershipTransferToServer(raft.ServerID(id), raft.ServerAddress(v.Addr)).Error(); err != nil {
				return fmt.Errorf("replica: hand the leadership to %s: %w", id, err)
			}
			return nil
		}
	}
	return fmt.Errorf("replica: hand the leadership to %s: not a voter", id)
}
