package ownership

import (
	"context"

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
