// The cluster's voters: a node announces its cluster port in etcd, and
// the Raft leader adds every announced node that is not a voter yet, so a
// new node joins a running cluster by starting (with no -cluster-peers).
// A node leaves cleanly on POST /cluster/leave: its actors move to
// another node first, then the leader takes it out of the group, then it
// stops.

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/switchboard-chat/switchboard/persistence/replica"
)

const (
	// raftKind: raft/<name> is a node's cluster port, while it is (or
	// wants to be) a voter.
	raftKind = "raft"
	// leaveKind: leave/<name> says the node is leaving the group.
	leaveKind = "leave"
	// membersEvery: how often the leader compares the group with etcd.
	membersEvery = time.Second
	// leaveTimeout bounds a leave's wait for the leader to remove it.
	leaveTimeout = 30 * time.Second
	// transferEvery: how often a leader may hand its leadership to the
	// owner of the actors.
	transferEvery = 5 * time.Second
)

// members runs on every node; only the Raft leader acts.
func (n *clusterNode) members(ctx context.Context) {
	t := time.NewTicker(membersEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n.rep.IsLeader() {
				n.reconcile(ctx)
			}
		}
	}
}

// reconcile adds the announced nodes that are not voters and removes the
// voters that are leaving.
func (n *clusterNode) reconcile(ctx context.Context) {
	log := n.cfg.Logger
	joined, err := n.directory().List(ctx, raftKind)
	if err != nil {
		return
	}
	leaving, err := n.directory().List(ctx, leaveKind)
	if err != nil {
		return
	}
	voters := map[string]bool{}
	for _, v := range n.rep.Status().Voters {
		voters[v.ID] = true
	}
	for name, addr := range joined {
		if !voters[name] && leaving[name] == "" {
			log.Info("cluster: adding a node to the group", "node", name, "cluster_port", addr)
			if err := n.rep.AddVoter(name, addr); err != nil {
				log.Warn("cluster: adding a node", "node", name, "err", err)
			}
		}
	}
	for name := range leaving {
		if voters[name] {
			log.Info("cluster: a node leaves the group", "node", name)
			if err := n.rep.RemoveVoter(name); err != nil {
				log.Warn("cluster: removing a node", "node", name, "err", err)
			}
		}
	}
	n.leadToOwner(ctx, voters, leaving)
}

// leadToOwner hands the Raft leadership to the node that owns the actors:
// it writes nearly everything, and a leader's own batches skip the
// forwarding hop and learn of their commit an append sooner (the bench
// measured half the rates when the owner did not lead). At most once per
// transferEvery, so a transfer that failed is not retried in a storm.
func (n *clusterNode) leadToOwner(ctx context.Context, voters map[string]bool, leaving map[string]string) {
	c, found, err := n.directory().Owner(ctx, ownerKind, ownerID)
	if err != nil || !found || c.Owner == n.cfg.Cluster.Name || !voters[c.Owner] || leaving[c.Owner] != "" {
		return
	}
	if time.Since(n.transferred) < transferEvery {
		return
	}
	n.transferred = time.Now()
	n.cfg.Logger.Info("cluster: handing the Raft leadership to the owner of the actors", "owner", c.Owner)
	if err := n.rep.TransferLeadership(c.Owner); err != nil {
		n.cfg.Logger.Warn("cluster: handing the Raft leadership on", "owner", c.Owner, "err", err)
	}
}

// serveLeave starts the node's clean leave (cluster key required); the
// process exits once it is out of the group.
func (n *clusterNode) serveLeave(w http.ResponseWriter, r *http.Request) {
	if !n.authorized(w, r) {
		return
	}
	go func() {
		err := n.leave()
		if err != nil {
			n.stop(err)
			return
		}
		n.Close()
	}()
	writeClusterJSON(w, http.StatusAccepted, map[string]string{"message": "leaving: the actors move, then the node leaves the group and stops"})
}

// leave withdraws the node from the group: no more campaigning, its
// actors (if it owns them) handed to another node, then its removal by
// the leader awaited.
func (n *clusterNode) leave() error {
	ctx := context.Background()
	name, log := n.cfg.Cluster.Name, n.cfg.Logger
	if err := n.directory().Withdraw(ctx, raftKind, name, n.rep.Status().Addr); err != nil {
		return fmt.Errorf("cluster: leave: %w", err)
	}
	n.stopCampaign()
	n.role.Store("leaving")
	// The actors move first, while this node still votes: its broker's
	// last writes land, then the key goes and a standby takes over.
	if err := n.handOff(ctx); err != nil {
		return err
	}
	if err := n.directory().Announce(ctx, leaveKind, name, "leaving"); err != nil {
		return fmt.Errorf("cluster: leave: %w", err)
	}
	log.Info("cluster: left the actors; waiting for the leader to take this node out of the group")
	deadline := time.Now().Add(leaveTimeout)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for range t.C {
		if out, err := n.removed(ctx); err == nil && out {
			log.Info("cluster: this node left the group")
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("cluster: leave: the leader did not remove this node in time; it stops anyway")
		}
	}
	return nil
}

// handOff stops the broker, if this node runs it (its actors halted, its
// writes done, the store sealed: Main.handOn), and releases the actors'
// key so that a standby takes them over at once.
func (n *clusterNode) handOff(ctx context.Context) error {
	n.mu.Lock()
	m, epoch := n.main, n.epoch
	n.main = nil
	n.mu.Unlock()
	if m == nil {
		return nil
	}
	err := m.Close()
	if _, rerr := n.directory().Release(ctx, ownerKind, ownerID, epoch); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}

// removed reports whether the group no longer holds this node, as a
// leader other than this node tells it (a leader that removed itself
// steps down and hears no more of the group, so it asks the others).
func (n *clusterNode) removed(ctx context.Context) (bool, error) {
	me := n.cfg.Cluster.Name
	addrs, err := n.directory().List(ctx, addrKind)
	if err != nil {
		return false, err
	}
	for name, addr := range addrs {
		if name == me {
			continue
		}
		st, err := fetchStatus(ctx, addr, n.cfg.Cluster.Key, "")
		if err != nil || st.Raft.LeaderID == "" || st.Raft.LeaderID == me {
			continue
		}
		return !containsPeer(st.Raft.Voters, me), nil
	}
	return false, nil
}

func containsPeer(ps []replica.Peer, id string) bool {
	for _, p := range ps {
		if p.ID == id {
			return true
		}
	}
	return false
}
