package ownership

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

// Directory is one node's view of the ownership records: it holds the
// node's lease and makes, reads and releases the keys bound to it. Open
// one per node; its methods are safe from any goroutine.
type Directory struct {
	cfg   Config
	cli   *clientv3.Client
	lease *lease

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Claim is who owns an actor, as etcd recorded it.
type Claim struct {
	// Owner is the owning node's name: where a caller that is not the
	// owner redirects.
	Owner string
	// Epoch is the key's create revision. etcd's revisions only grow, so
	// each new owner of an actor has a higher epoch than every earlier
	// one: it is the fencing token the owner's durable writes carry.
	Epoch int64
	// Mine is true when this node holds the key under its current lease
	// and that lease is still held.
	Mine bool
}

// Open connects to etcd, grants the node's lease (Config.TTL) and starts
// keeping it alive. It fails when etcd does not answer within
// Config.DialTimeout (or ctx ends first).
func Open(ctx context.Context, cfg Config) (*Directory, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, &Error{Op: "open", Cause: err}
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   cfg.Endpoints,
		DialTimeout: cfg.DialTimeout,
		// The client's own zap logs would go to stderr; what matters is
		// logged through cfg.Logger.
		Logger:      zap.NewNop(),
		DialOptions: []grpc.DialOption{reconnect(cfg)},
	})
	if err != nil {
		return nil, &Error{Op: "open", Cause: err}
	}
	gctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	l, err := grant(gctx, cli.Lease, cfg)
	if err != nil {
		cli.Close()
		return nil, &Error{Op: "open", Code: classify(ctx, err), Cause: err}
	}
	cfg.Logger.Debug("ownership lease granted", "lease", fmt.Sprintf("%x", int64(l.id)), "node", cfg.Node, "ttl", l.ttl)
	return &Directory{cfg: cfg, cli: cli, lease: l}, nil
}

// Acquire makes this node the owner of kind/id if nobody is: it creates
// the key only if it is absent, bound to the node's lease, in one etcd
// transaction, so of any number of nodes racing for it exactly one wins.
//
// If another node owns it, the Claim says who (Mine false) and err is
// nil: the caller redirects to that owner. If this node owns it already,
// it returns the same Claim again (idempotent). A key held under this
// node's name by another lease (an earlier run of this node, not yet
// expired) gives ErrUnavailable: it vanishes within a TTL, and the node
// must not take it over, or the earlier run's writes would carry the same
// epoch.
//
// Errors: ErrInvalidKey; ErrUnavailable (Temporary) when etcd did not
// answer within Config.CallTimeout; ErrLeaseLost once the lease is gone
// or past its deadline (for good: see Lost); ErrClosed after Close.
func (d *Directory) Acquire(ctx context.Context, kind, id string) (Claim, error) {
	k, err := key(d.cfg.Prefix, "acquire", kind, id)
	if err != nil {
		return Claim{}, err
	}
	if err := d.usable("acquire", k); err != nil {
		return Claim{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, d.cfg.CallTimeout)
	defer cancel()
	resp, err := d.cli.Txn(cctx).
		If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
		Then(clientv3.OpPut(k, d.cfg.Node, clientv3.WithLease(d.lease.id))).
		Else(clientv3.OpGet(k)).
		Commit()
	if err != nil {
		return Claim{}, d.fail(ctx, "acquire", k, err)
	}
	// The put's revision is the new key's create revision.
	c := Claim{Owner: d.cfg.Node, Epoch: resp.Header.Revision, Mine: true}
	if !resp.Succeeded {
		kvs := resp.Responses[0].GetResponseRange().GetKvs()
		if len(kvs) == 0 {
			// The compare saw the key, so the get in the same
			// transaction does too; this is etcd breaking its word.
			return Claim{}, &Error{Op: "acquire", Key: k, Cause: errors.New("the key exists but reads as absent")}
		}
		c = d.claim(kvs[0])
		if c.Owner == d.cfg.Node && !c.Mine {
			return Claim{}, &Error{Op: "acquire", Key: k, Code: ErrUnavailable,
				Cause: fmt.Errorf("held by an earlier run of node %q (lease %x) until its lease expires", c.Owner, kvs[0].Lease)}
		}
	}
	// A claim is only as good as the lease: one that ran out while the
	// transaction was in flight must not be served on.
	if err := d.usable("acquire", k); err != nil {
		return Claim{}, err
	}
	return c, nil
}

// Owner reads who owns kind/id, without taking it: found is false when
// nobody does. The read is linearizable (it goes through etcd's leader),
// so a redirect never follows an owner older than the last acquire that
// completed. A key held under this node's name by an earlier run of the
// node is found but not Mine. Errors as for Acquire, but a lost lease
// does not stop a lookup.
func (d *Directory) Owner(ctx context.Context, kind, id string) (c Claim, found bool, err error) {
	k, err := key(d.cfg.Prefix, "owner", kind, id)
	if err != nil {
		return Claim{}, false, err
	}
	if d.closed.Load() {
		return Claim{}, false, &Error{Op: "owner", Key: k, Code: ErrClosed}
	}
	cctx, cancel := context.WithTimeout(ctx, d.cfg.CallTimeout)
	defer cancel()
	resp, err := d.cli.Get(cctx, k)
	if err != nil {
		return Claim{}, false, d.fail(ctx, "owner", k, err)
	}
	if len(resp.Kvs) == 0 {
		return Claim{}, false, nil
	}
	return d.claim(resp.Kvs[0]), true, nil
}

// Release deletes kind/id's key if it is still this node's with that
// epoch (its create revision): an actor that stops gives its ownership
// up, and a late release can never delete a newer owner's key. It
// reports whether it deleted; a key that is gone or not ours is not an
// error. Errors: ErrInvalidKey, ErrUnavailable, ErrClosed.
func (d *Directory) Release(ctx context.Context, kind, id string, epoch int64) (deleted bool, err error) {
	k, err := key(d.cfg.Prefix, "release", kind, id)
	if err != nil {
		return false, err
	}
	if d.closed.Load() {
		return false, &Error{Op: "release", Key: k, Code: ErrClosed}
	}
	cctx, cancel := context.WithTimeout(ctx, d.cfg.CallTimeout)
	defer cancel()
	resp, err := d.cli.Txn(cctx).
		If(clientv3.Compare(clientv3.CreateRevision(k), "=", epoch),
			clientv3.Compare(clientv3.Value(k), "=", d.cfg.Node)).
		Then(clientv3.OpDelete(k)).
		Commit()
	if err != nil {
		return false, d.fail(ctx, "release", k, err)
	}
	return resp.Succeeded && resp.Responses[0].GetResponseDeleteRange().GetDeleted() > 0, nil
}

// Lost is closed once the node's lease is gone: etcd revoked it or let
// it expire, or it could not be renewed before its deadline, or Close
// ran. From then on every Acquire fails with ErrLeaseLost (ErrClosed
// after Close), and etcd has dropped, or will drop within a TTL, every
// key of the node, so other nodes take its actors over.
//
// A node that sees Lost close without having called Close must stop all
// its actors at once (their writes are fenced off anyway), close its
// client sockets with "moved, reconnect" and exit; a supervisor restarts
// it, and it joins anew with a new lease. It must not try to carry on
// with a new lease: its actors' state may already be another node's.
func (d *Directory) Lost() <-chan struct{} { return d.lease.lost }

// Err is why Lost closed (an *Error with code ErrLeaseLost or ErrClosed),
// nil while the lease is held.
func (d *Directory) Err() error { return d.lease.Err() }

// Valid reports whether the node may still serve the actors it owns:
// its lease is held and its deadline is ahead. While etcd is unreachable
// new acquires fail, but claims already made stay valid until Deadline.
func (d *Directory) Valid() bool { return d.lease.check() == nil }

// Deadline is until when the node may keep serving its actors without
// another renewal: the send time of the last successful renewal plus the
// TTL, read on the monotonic clock. etcd renewed the lease after that
// send time, so etcd's own expiry is never earlier. It is the zero time
// once the lease is gone.
func (d *Directory) Deadline() time.Time { return d.lease.Deadline() }

// Close revokes the node's lease, so every key it holds vanishes at
// once and other nodes can take its actors over immediately, and stops
// the keeper; Lost closes. It waits at most Config.CallTimeout (or until
// ctx ends) for etcd; if the revoke fails, the keys vanish when the
// lease expires, and Close says why. Later calls do nothing and return
// the first call's result.
func (d *Directory) Close(ctx context.Context) error {
	d.closeOnce.Do(func() {
		d.closed.Store(true)
		d.lease.stop()
		cctx, cancel := context.WithTimeout(ctx, d.cfg.CallTimeout)
		defer cancel()
		_, err := d.cli.Revoke(cctx, d.lease.id)
		if err != nil && !leaseGone(err) {
			d.closeErr = &Error{Op: "close", Code: classify(ctx, err), Cause: err}
		}
		d.lease.lose(ErrClosed, nil)
		// Close reports the context it cancels: nothing to act on.
		d.cli.Close()
	})
	return d.closeErr
}

// reconnect makes gRPC try to reach etcd again soon after it was lost:
// at 100 ms, then backing off to at most the call timeout. gRPC's default
// backs off from 1 s to 2 minutes, so after etcd came back from an outage
// of a few seconds the node could stay disconnected past its lease's
// deadline and lose the lease for nothing.
func reconnect(cfg Config) grpc.DialOption {
	return grpc.WithConnectParams(grpc.ConnectParams{
		Backoff: backoff.Config{
			BaseDelay:  100 * time.Millisecond,
			Multiplier: 1.6,
			Jitter:     0.2,
			MaxDelay:   max(cfg.CallTimeout, 100*time.Millisecond),
		},
		MinConnectTimeout: cfg.DialTimeout,
	})
}

// usable returns nil when an acquire may be made: not closed, and the
// lease held with its deadline ahead.
func (d *Directory) usable(op, k string) error {
	if d.closed.Load() {
		return &Error{Op: op, Key: k, Code: ErrClosed}
	}
	if err := d.lease.check(); err != nil {
		var e *Error
		errors.As(err, &e)
		return &Error{Op: op, Key: k, Code: e.Code, Cause: e.Cause}
	}
	return nil
}

// claim reads a key's record.
func (d *Directory) claim(kv *mvccpb.KeyValue) Claim {
	owner := string(kv.Value)
	mine := owner == d.cfg.Node && clientv3.LeaseID(kv.Lease) == d.lease.id && d.lease.check() == nil
	return Claim{Owner: owner, Epoch: kv.CreateRevision, Mine: mine}
}

// fail turns a failed etcd call into an *Error with the code the caller
// acts on. etcd saying the lease is gone means it is lost for good.
func (d *Directory) fail(ctx context.Context, op, k string, err error) error {
	code := classify(ctx, err)
	if d.closed.Load() {
		code = ErrClosed
	}
	if code == ErrLeaseLost {
		d.lease.lose(ErrLeaseLost, err)
	}
	return &Error{Op: op, Key: k, Code: code, Cause: err}
}
