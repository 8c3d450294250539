// Cluster mode's settings (issue 15): where etcd is, this node's name,
// its cluster port and the Raft group's first voters.

package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/actors/ownership"
	"github.com/switchboard-chat/switchboard/persistence/replica"
)

// ClusterConfig turns cluster mode on when Etcd is set: the node joins
// the Raft group that replicates the store and competes, through etcd,
// for the ownership of the actors. Zero: one node, as always.
type ClusterConfig struct {
	// Etcd are etcd's client endpoints (-cluster-etcd).
	Etcd []string
	// Name is this node's name in the cluster (-cluster-name): its Raft
	// id and the owner etcd records. Required in cluster mode.
	Name string
	// Bind is the cluster port (-cluster-bind): Raft and forwarded
	// writes. Advertise is how the other nodes reach it (default Bind).
	Bind, Advertise string
	// Peers are the Raft group's first voters, this node among them
	// (-cluster-peers name=host:port,...); every node of a new cluster
	// is started with the same list. None: the node joins a running
	// cluster (the leader adds every node that announced itself).
	Peers []replica.Peer
	// Key is the cluster key every node shares (SWITCHBOARD_CLUSTER_KEY,
	// never a flag: command lines are visible to every local user).
	Key string
	// Lease is how long a silent node keeps the actors' ownership
	// (default ownership.DefaultTTL, 2 s): the time a failover waits.
	Lease time.Duration
}

// on reports whether cluster mode is asked for.
func (c *ClusterConfig) on() bool { return len(c.Etcd) > 0 }

// clusterFlags are the flags whose values need a conversion.
type clusterFlags struct{ etcd, peers string }

func bindCluster(fs *flag.FlagSet, e *environ, c *ClusterConfig, f *clusterFlags) {
	fs.StringVar(&f.etcd, "cluster-etcd", e.string("SWITCHBOARD_CLUSTER_ETCD", ""), "cluster mode: comma-separated etcd client endpoints, e.g. http://127.0.0.1:2379; empty: one node (env SWITCHBOARD_CLUSTER_ETCD)")
	fs.StringVar(&c.Name, "cluster-name", e.string("SWITCHBOARD_CLUSTER_NAME", ""), "cluster mode: this node's name, unique in the cluster (env SWITCHBOARD_CLUSTER_NAME)")
	fs.StringVar(&c.Bind, "cluster-bind", e.string("SWITCHBOARD_CLUSTER_BIND", ""), "cluster mode: the cluster port (replication), host:port; keep it on a private network (env SWITCHBOARD_CLUSTER_BIND)")
	fs.StringVar(&c.Advertise, "cluster-advertise", e.string("SWITCHBOARD_CLUSTER_ADVERTISE", ""), "cluster mode: how the other nodes reach the cluster port; default -cluster-bind (env SWITCHBOARD_CLUSTER_ADVERTISE)")
	fs.StringVar(&f.peers, "cluster-peers", e.string("SWITCHBOARD_CLUSTER_PEERS", ""), "cluster mode: the first voters, name=host:port,... with this node among them, the same on every node of a new cluster; empty: join a running cluster (env SWITCHBOARD_CLUSTER_PEERS)")
	fs.DurationVar(&c.Lease, "cluster-lease", e.duration("SWITCHBOARD_CLUSTER_LEASE", ownership.DefaultTTL), "cluster mode: how long a silent node keeps the actors before another takes them over (env SWITCHBOARD_CLUSTER_LEASE)")
}

// apply converts the lists and reads the key from the environment.
func (f *clusterFlags) apply(c *ClusterConfig, e *environ) error {
	c.Etcd = splitList(f.etcd)
	c.Key = e.value("SWITCHBOARD_CLUSTER_KEY")
	peers, err := parsePeers(f.peers)
	if err != nil {
		return err
	}
	c.Peers = peers
	return c.validate()
}

// parsePeers reads name=host:port,...
func parsePeers(s string) ([]replica.Peer, error) {
	var out []replica.Peer
	seen := map[string]bool{}
	for _, p := range splitList(s) {
		name, addr, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("-cluster-peers %q: want name=host:port", p)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("-cluster-peers %q: %v", p, err)
		}
		if seen[name] {
			return nil, fmt.Errorf("-cluster-peers: %q is named twice", name)
		}
		seen[name] = true
		out = append(out, replica.Peer{ID: name, Addr: addr})
	}
	return out, nil
}

// validate says what cluster mode is missing; nothing when it is off.
func (c *ClusterConfig) validate() error {
	if !c.on() {
		if c.Name != "" || len(c.Peers) > 0 {
			return errors.New("-cluster-name and -cluster-peers need -cluster-etcd (cluster mode)")
		}
		return nil
	}
	switch {
	case c.Name == "" || strings.ContainsAny(c.Name, "/= ,"):
		return fmt.Errorf("-cluster-name %q: cluster mode needs a name without / = , or spaces", c.Name)
	case c.Bind == "":
		return errors.New("-cluster-bind: cluster mode needs the cluster port (host:port)")
	case len(c.Key) < replica.MinClusterKey:
		return fmt.Errorf("SWITCHBOARD_CLUSTER_KEY: cluster mode needs the cluster key, at least %d characters, the same on every node", replica.MinClusterKey)
	case c.Lease < time.Second:
		return fmt.Errorf("-cluster-lease %s: at least 1s (etcd counts whole seconds)", c.Lease)
	}
	if len(c.Peers) == 0 {
		return nil // it joins a running cluster: the leader adds it
	}
	for _, p := range c.Peers {
		if p.ID == c.Name {
			return nil
		}
	}
	return fmt.Errorf("-cluster-peers: this node (%q) must be among the first voters (or give none to join a running cluster)", c.Name)
}
