package replica

import (
	"strconv"

	"github.com/hashicorp/raft"
)

// Status is what a node tells of the group (`switchboard cluster`).
type Status struct {
	ID, Addr string
	// State: Leader, Follower, Candidate or Shutdown.
	State              string
	LeaderID, LeaderAt string
	Term               uint64
	// CommitIndex is the last entry this node knows committed;
	// AppliedIndex the last its store applied.
	CommitIndex, AppliedIndex, LastLogIndex uint64
	Voters                                  []Peer
}

// Status reads the node's view of the group.
func (n *Node) Status() Status {
	st := n.raft.Stats()
	addr, id := n.raft.LeaderWithID()
	s := Status{ID: n.cfg.ID, Addr: n.cfg.Advertise, State: n.raft.State().String(), LeaderID: string(id), LeaderAt: string(addr),
		Term: parseUint(st["term"]), CommitIndex: parseUint(st["commit_index"]), LastLogIndex: parseUint(st["last_log_index"]),
		AppliedIndex: n.cfg.Store.AppliedIndex()}
	if f := n.raft.GetConfiguration(); f.Error() == nil {
		for _, srv := range f.Configuration().Servers {
			if srv.Suffrage == raft.Voter {
				s.Voters = append(s.Voters, Peer{ID: string(srv.ID), Addr: string(srv.Address)})
			}
		}
	}
	return s
}

// IsLeader reports whether this node leads the group now.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

func parseUint(s string) uint64 {
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
}
