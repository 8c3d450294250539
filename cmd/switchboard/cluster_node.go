// A cluster node (issue 15). Every node keeps a full replica of the store
// under the Raft log (persistence/replica) and serves clients on its own
// address. One node at a time owns the actors: the one holding the etcd
// key broker/main (actors/ownership). It runs the broker (Main) on the
// shared store and writes as the owner at the key's epoch, so once another
// node took over, every write of the old owner is refused by the log
// (persistence.ErrFenced). The other nodes are standbys: they forward
// their clients, websockets included, to the owner (cluster_proxy.go),
// and compete for the key when it goes. A node that loses its lease, or
// sees the ownership fenced, stops serving and exits: its supervisor
// starts it again, and it joins as a standby.

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-chat/switchboard/actors/ownership"
	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/persistence"
	"github.com/switchboard-chat/switchboard/persistence/replica"
)

// The ownership key of the actors, and the store's entity it fences.
const (
	ownerKind   = "broker"
	ownerID     = "main"
	ownerEntity = ownerKind + "/" + ownerID
	// addrKind: each node announces its client address under addr/<name>.
	addrKind = "addr"
)

// How often a standby looks whether the owner is still there, and how
// often the owner checks that it still is.
const (
	campaignEvery = 200 * time.Millisecond
	watchEvery    = 100 * time.Millisecond
)

// errOwnershipLost ends an owner that must stop: its lease is gone, or a
// newer owner's claim reached the store.
var errOwnershipLost = errors.New("cluster: this node no longer owns the actors; it stops (a supervisor starts it again as a standby)")

// clusterNode is one node of a cluster: its store and replica, its etcd
// directory, and the broker while it owns the actors.
type clusterNode struct {
	cfg   Config
	store *persistence.Store
	// reg holds the store's metrics (nil: metrics off); the broker adds
	// its own when the node takes the actors over.
	reg *prometheus.Registry
	rep *replica.Node
	// dir is the node's etcd directory and lease; a standby that lost
	// its lease gets a new one (rejoin), so read it with directory().
	dir   atomic.Pointer[ownership.Directory]
	proxy *ownerProxy
	// front serves the clients while the node is a standby; nil once it
	// owns the actors (Main serves them then).
	front *http.Server
	addr  string

	mu    sync.Mutex
	main  *Main // set while the node owns the actors
	epoch int64
	role  atomic.Value // string: "standby" or "owner"
	// done is closed when the node stopped by itself; err says why.
	done     chan struct{}
	err      error
	stopOnce sync.Once
	// transferred: when this node, leading, last handed the leadership to
	// the owner (the members loop's own).
	transferred time.Time
	// cancel ends the node's loops; stopCampaign the campaign alone (a
	// leaving node).
	cancel, stopCampaign context.CancelFunc
}

// startCluster opens the node's store and replica, joins etcd, starts
// serving (as a standby) and competes for the actors in the background.
func startCluster(ctx context.Context, cfg Config) (*clusterNode, error) {
	n := &clusterNode{cfg: cfg, done: make(chan struct{})}
	n.role.Store("standby")
	if err := n.open(ctx); err != nil {
		n.closeParts()
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	cctx, stopCampaign := context.WithCancel(lctx)
	n.cancel, n.stopCampaign = cancel, stopCampaign
	go n.campaign(cctx)
	go n.members(lctx)
	return n, nil
}

func (n *clusterNode) open(ctx context.Context) error {
	c, log := n.cfg.Cluster, n.cfg.Logger
	if !n.cfg.NoMetrics {
		n.reg = buildRegistry()
	}
	opts := storeMetrics(n.cfg.storeOptions(), n.reg)
	opts.Replicated = true
	var err error
	if n.store, err = persistence.Open(n.cfg.DataDir, opts); err != nil {
		return err
	}
	n.rep, err = replica.Start(replica.Config{ID: c.Name, Bind: c.Bind, Advertise: c.Advertise, Peers: c.Peers,
		Dir: filepath.Join(n.cfg.DataDir, "raft"), ClusterKey: c.Key, Store: n.store, Logger: log,
		Fatal: func(err error) { n.stop(fmt.Errorf("cluster: the replica stopped: %w", err)) }})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", n.cfg.Addr)
	if err != nil {
		return err
	}
	n.addr = ln.Addr().String()
	// Main binds the same address when this node takes the actors over.
	n.cfg.Addr = n.addr
	d, err := n.openDirectory(ctx)
	if err != nil {
		ln.Close()
		return err
	}
	n.dir.Store(d)
	g := n.cfg.gatewayConfig().EnsureDefaults()
	fwd, err := gateway.NewForwarding(g.TrustedProxies, g.ForwardedHeader)
	if err != nil {
		ln.Close()
		return err
	}
	n.proxy = newOwnerProxy(n.directory, fwd, log)
	// As the gateway's server, but for the read and write timeouts: they
	// would cut the websockets the proxy carries.
	n.front = &http.Server{Handler: n.routes(n.proxy), ReadHeaderTimeout: g.ReadHeaderTimeout, IdleTimeout: g.IdleTimeout, MaxHeaderBytes: 64 << 10}
	go n.front.Serve(ln)
	log.Info("cluster node serving as a standby", "node", c.Name, "addr", n.addr, "cluster_port", n.rep.Status().Addr)
	fmt.Fprintf(n.cfg.Out, "Cluster node %s listening on http://%s\n", c.Name, n.addr)
	return nil
}

// directory is the node's current etcd directory.
func (n *clusterNode) directory() *ownership.Directory { return n.dir.Load() }

// openDirectory takes a lease and announces the node's client address
// and cluster port under it.
func (n *clusterNode) openDirectory(ctx context.Context) (*ownership.Directory, error) {
	c := n.cfg.Cluster
	d, err := ownership.Open(ctx, ownership.Config{Endpoints: c.Etcd, Node: c.Name, TTL: c.Lease, Logger: n.cfg.Logger})
	if err != nil {
		return nil, err
	}
	for kind, value := range map[string]string{addrKind: n.addr, raftKind: n.rep.Status().Addr} {
		if err := d.Announce(ctx, kind, c.Name, value); err != nil {
			d.Close(ctx)
			return nil, err
		}
	}
	return d, nil
}

// rejoin gives a standby that lost its lease (etcd did not answer in
// time) a new one. It owned no actors, so nothing of it is stale; until
// etcd answers, its clients are told to come back (503, temporary).
func (n *clusterNode) rejoin(ctx context.Context) error {
	n.proxy.follow(ctx, "")
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	n.directory().Close(cctx)
	cancel()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		d, err := n.openDirectory(ctx)
		if err == nil {
			n.dir.Store(d)
			n.cfg.Logger.Info("cluster: a new lease, after etcd came back")
			return nil
		}
		n.cfg.Logger.Warn("cluster: etcd does not answer; this standby waits for it", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// campaign competes for the actors until the node owns them, then
// watches that it still does.
func (n *clusterNode) campaign(ctx context.Context) {
	t := time.NewTicker(campaignEvery)
	defer t.Stop()
	for {
		claim, err := n.ask(ctx)
		if ctx.Err() != nil {
			return // leaving or closing
		}
		switch {
		case err == nil && claim.Mine:
			err := n.takeOver(ctx, claim.Epoch)
			if errors.Is(err, errStepBack) {
				n.cfg.Logger.Warn("cluster: could not take the actors; another node may", "err", err)
				break
			}
			if err != nil {
				n.stop(err)
				return
			}
			n.watch(ctx)
			return
		case err == nil && claim.Owner != "":
			n.proxy.follow(ctx, claim.Owner)
		case err == nil:
			// Not fit to own the actors now (see ask); the owner, if
			// any, is followed as etcd names it.
			if c, found, err := n.directory().Owner(ctx, ownerKind, ownerID); err == nil && found {
				n.proxy.follow(ctx, c.Owner)
			}
		case errors.Is(err, ownership.ErrLeaseLost):
			if err := n.rejoin(ctx); err != nil {
				return // closing
			}
			continue
		case !ownership.Temporary(err):
			n.stop(fmt.Errorf("cluster: %w", err))
			return
		default:
			// etcd does not answer: the owner serves on until its
			// lease's deadline, so its clients stay with it.
			n.cfg.Logger.Debug("cluster: asking for the actors", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-n.directory().Lost():
			if err := n.rejoin(ctx); err != nil {
				return // closing
			}
		case <-t.C:
		}
	}
}

// errStepBack: this node won the key but could not claim the actors in
// the store (no quorum it can reach, its disk low): it released the key
// for another node and goes on as a standby.
var errStepBack = errors.New("cluster: stepped back")

// claimFor bounds how long a node that won the key tries to claim the
// actors before it gives the key up.
const claimFor = 5 * time.Second

// ask asks etcd for the actors, when this node is fit to run them: a
// voter of the group, with a leader it knows, and its store writable. A
// node that is not fit gets an empty Claim and no error.
func (n *clusterNode) ask(ctx context.Context) (ownership.Claim, error) {
	st := n.rep.Status()
	if !containsPeer(st.Voters, n.cfg.Cluster.Name) || st.LeaderID == "" || n.store.Writable() != nil {
		return ownership.Claim{}, nil
	}
	return n.directory().Acquire(ctx, ownerKind, ownerID)
}

// takeOver makes this node the owner at epoch: its claim goes through the
// log, so once it is applied here this replica holds every write an
// earlier owner landed, and the earlier owner's later writes are refused.
// Then the broker starts on the store, as on one node.
func (n *clusterNode) takeOver(ctx context.Context, epoch int64) error {
	log := n.cfg.Logger
	start := time.Now()
	retry := time.NewTicker(campaignEvery)
	defer retry.Stop()
	for {
		err := waitErr(func(done func(error)) { n.store.Claim(ownerEntity, uint64(epoch), done) })
		if err == nil {
			break
		}
		if errors.Is(err, persistence.ErrFenced) {
			// Epochs are etcd revisions, which only grow, so a fence above
			// a fresh key's revision means etcd forgot its history.
			return fmt.Errorf("%w: claim at epoch %d refused (%v): if no other node owns the actors, etcd's data was lost or replaced "+
				"(its revisions restarted below the store's fence); restore etcd's data, or raise its revision above the fence shown by switchboard cluster -json",
				errOwnershipLost, epoch, err)
		}
		if !n.directory().Valid() {
			return fmt.Errorf("%w: claim at epoch %d: %v", errOwnershipLost, epoch, err)
		}
		if time.Since(start) > claimFor || ctx.Err() != nil {
			rctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, rerr := n.directory().Release(rctx, ownerKind, ownerID, epoch)
			cancel()
			return errors.Join(fmt.Errorf("%w: claim at epoch %d: %v", errStepBack, epoch, err), rerr)
		}
		log.Warn("cluster: claiming the actors", "epoch", epoch, "err", err)
		select {
		case <-retry.C:
		case <-ctx.Done():
		}
	}
	n.store.WriteAs(ownerEntity, uint64(epoch))
	// The standby's front stops; Main listens on the same address.
	sctx, cancel := context.WithTimeout(ctx, time.Second)
	n.front.Shutdown(sctx)
	cancel()
	n.proxy.close()
	m := NewMain(n.cfg)
	m.shared, m.sharedReg, m.wrap = n.store, n.reg, n.routes
	if err := m.Run(ctx); err != nil {
		m.Close()
		return fmt.Errorf("cluster: starting the broker: %w", err)
	}
	n.mu.Lock()
	n.main, n.epoch = m, epoch
	n.mu.Unlock()
	n.role.Store("owner")
	if ctx.Err() != nil {
		return n.handOff(context.Background()) // it began to leave meanwhile
	}
	log.Info("cluster: this node owns the actors", "node", n.cfg.Cluster.Name, "epoch", epoch, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// watch stops the owner once its lease is lost or a newer claim is in the
// store (a node paused past its lease learns it from its own replica).
func (n *clusterNode) watch(ctx context.Context) {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	dir := n.directory()
	for {
		select {
		case <-ctx.Done():
			return
		case <-dir.Lost():
			n.stop(fmt.Errorf("%w: %v", errOwnershipLost, dir.Err()))
			return
		case <-t.C:
			if !dir.Valid() {
				n.stop(fmt.Errorf("%w: the lease passed its deadline", errOwnershipLost))
				return
			}
			if f, err := n.store.Fence(ownerEntity); err == nil && f > uint64(n.epoch) {
				n.stop(fmt.Errorf("%w: a newer owner claimed it at epoch %d", errOwnershipLost, f))
				return
			}
		}
	}
}

// Done is closed when the node stopped by itself (Err says why).
func (n *clusterNode) Done() <-chan struct{} { return n.done }

// Err is why the node stopped by itself.
func (n *clusterNode) Err() error {
	select {
	case <-n.done:
		return n.err
	default:
		return nil
	}
}

// stop ends the node on a fault: sockets close at once (clients reconnect
// to another node), and nothing more is written.
func (n *clusterNode) stop(err error) {
	n.stopOnce.Do(func() {
		n.cfg.Logger.Error("cluster node stops", "err", err)
		n.err = err
		n.shutdown(false)
		close(n.done)
	})
}

// Close stops the node cleanly: the broker finishes its writes, the
// ownership is released at once (a standby takes over without waiting
// for the lease), then the replica leaves and the store closes.
func (n *clusterNode) Close() error {
	var err error
	n.stopOnce.Do(func() {
		err = n.shutdown(true)
		close(n.done)
	})
	return err
}

func (n *clusterNode) shutdown(clean bool) error {
	if n.cancel != nil {
		n.cancel()
	}
	var errs []error
	n.mu.Lock()
	m := n.main
	n.mu.Unlock()
	if m != nil {
		if clean {
			errs = append(errs, m.Close())
		} else {
			errs = append(errs, m.Abort())
		}
	}
	if n.front != nil {
		n.front.Close()
	}
	if n.proxy != nil {
		n.proxy.close()
	}
	errs = append(errs, n.closeParts())
	return errors.Join(errs...)
}

// closeParts closes the directory (revoking the lease: the actors' key
// goes at once), the replica and the store.
func (n *clusterNode) closeParts() error {
	var errs []error
	if d := n.directory(); d != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		errs = append(errs, d.Close(ctx))
		cancel()
	}
	if n.rep != nil {
		errs = append(errs, n.rep.Close())
	}
	if n.store != nil {
		errs = append(errs, n.store.Close())
	}
	return errors.Join(errs...)
}

// waitErr runs an asynchronous store call and waits for its result.
func waitErr(f func(done func(error))) error {
	ch := make(chan error, 1)
	f(func(err error) { ch <- err })
	return <-ch
}
