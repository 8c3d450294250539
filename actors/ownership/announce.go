package ownership

import (
	"context"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Announce records value under kind/id, bound to the node's lease, so it
// vanishes with the node: a node's client address ("addr/<node>"), where
// the other nodes send the clients of the actors it owns. It overwrites
// an earlier value. Errors as for Acquire.
func (d *Directory) Announce(ctx context.Context, kind, id, value string) error {
	k, err := key(d.cfg.Prefix, "announce", kind, id)
	if err != nil {
		return err
	}
	if err := d.usable("announce", k); err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, d.cfg.CallTimeout)
	defer cancel()
	if _, err := d.cli.Put(cctx, k, value, clientv3.WithLease(d.lease.id)); err != nil {
		return d.fail(ctx, "announce", k, err)
	}
	return nil
}

// Lookup reads what Announce recorded under kind/id; found is false when
// nothing is (the node is gone). Errors as for Owner.
func (d *Directory) Lookup(ctx context.Context, kind, id string) (value string, found bool, err error) {
	c, found, err := d.Owner(ctx, kind, id)
	return c.Owner, found, err
}

// Withdraw deletes what this node announced under kind/id (if the value
// there is still its own, as given). Errors as for Release.
func (d *Directory) Withdraw(ctx context.Context, kind, id, value string) error {
	k, err := key(d.cfg.Prefix, "withdraw", kind, id)
	if err != nil {
		return err
	}
	if d.closed.Load() {
		return &Error{Op: "withdraw", Key: k, Code: ErrClosed}
	}
	cctx, cancel := context.WithTimeout(ctx, d.cfg.CallTimeout)
	defer cancel()
	_, err = d.cli.Txn(cctx).If(clientv3.Compare(clientv3.Value(k), "=", value)).Then(clientv3.OpDelete(k)).Commit()
	if err != nil {
		return d.fail(ctx, "withdraw", k, err)
	}
	return nil
}

// List reads every value announced under kind, by id. Errors as for
// Owner.
func (d *Directory) List(ctx context.Context, kind string) (map[string]string, error) {
	k, err := key(d.cfg.Prefix, "list", kind, "x")
	if err != nil {
		return nil, err
	}
	prefix := strings.TrimSuffix(k, "x")
	if d.closed.Load() {
		return nil, &Error{Op: "list", Key: prefix, Code: ErrClosed}
	}
	cctx, cancel := context.WithTimeout(ctx, d.cfg.CallTimeout)
	defer cancel()
	resp, err := d.cli.Get(cctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, d.fail(ctx, "list", prefix, err)
	}
	out := make(map[string]string, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out[strings.TrimPrefix(string(kv.Key), prefix)] = string(kv.Value)
	}
	return out, nil
}
