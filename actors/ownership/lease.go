package ownership

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// retryPause is the least time between two renewals when one failed
// quickly, so that a failing etcd is not asked in a tight loop. Slow
// failures (etcd paused) are already spaced by the call timeout.
const retryPause = 50 * time.Millisecond

// lease is the node's etcd lease and the goroutine that keeps it.
//
// It renews with one KeepAliveOnce per interval (TTL/3) under the call
// timeout rather than through clientv3's KeepAlive stream, for two
// reasons. The deadline must never be later than etcd's own expiry, so it
// is counted from when a renewal was sent (etcd renewed it after that),
// which the stream does not tell. And a renewal that gets no answer must
// fail within the call timeout, so that the loss is declared on time
// while etcd is paused or unreachable, not whenever the stream notices.
//
// deadline is a time.Time read from time.Now, so it carries the monotonic
// clock: comparisons ignore wall-clock jumps.
type lease struct {
	id          clientv3.LeaseID
	cli         clientv3.Lease
	ttl         time.Duration // as etcd granted it
	interval    time.Duration
	callTimeout time.Duration
	log         *slog.Logger

	ctx    context.Context // cancelled by stop: ends a renewal in flight
	cancel context.CancelFunc
	done   chan struct{} // closed when keep returns

	lost chan struct{} // closed by lose

	mu       sync.Mutex
	deadline time.Time // last renewal's send time + TTL
	err      error     // why the lease is gone (an *Error); nil while held
}

// grant asks etcd for a lease of cfg's TTL and starts keeping it.
func grant(ctx context.Context, cli clientv3.Lease, cfg Config) (*lease, error) {
	sent := time.Now()
	resp, err := cli.Grant(ctx, cfg.ttlSeconds())
	if err != nil {
		return nil, err
	}
	ttl := time.Duration(resp.TTL) * time.Second
	l := &lease{
		id:          resp.ID,
		cli:         cli,
		ttl:         ttl,
		interval:    ttl / 3,
		callTimeout: cfg.CallTimeout,
		log:         cfg.Logger.With("lease", fmt.Sprintf("%x", int64(resp.ID)), "node", cfg.Node),
		done:        make(chan struct{}),
		lost:        make(chan struct{}),
		deadline:    sent.Add(ttl),
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	go l.keep()
	return l, nil
}

// keep renews the lease every interval, retries a failed renewal at
// once (after retryPause), and always wakes by the deadline so that a
// lease nobody could renew is declared lost on time. It returns when the
// lease is lost or stop is called.
func (l *lease) keep() {
	defer close(l.done)
	timer := time.NewTimer(l.interval)
	defer timer.Stop()
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-l.lost:
			return
		case <-timer.C:
		}
		wait := l.interval
		if !l.renew() {
			wait = retryPause
		}
		if l.check() != nil {
			return
		}
		timer.Reset(max(min(wait, time.Until(l.Deadline())), 0))
	}
}

// renew sends one renewal and moves the deadline on success. It declares
// the lease lost when etcd says it no longer exists, or when the deadline
// passed without a renewal.
func (l *lease) renew() bool {
	sent := time.Now()
	left := l.Deadline().Sub(sent)
	if left <= 0 {
		l.lose(ErrLeaseLost, errors.New("not renewed within its TTL"))
		return false
	}
	ctx, cancel := context.WithTimeout(l.ctx, min(l.callTimeout, left))
	resp, err := l.cli.KeepAliveOnce(ctx, l.id)
	cancel()
	switch {
	case err == nil:
		l.extend(sent.Add(time.Duration(resp.TTL) * time.Second))
		return true
	case l.ctx.Err() != nil:
		// Stopping: Close revokes the lease.
	case leaseGone(err):
		l.lose(ErrLeaseLost, fmt.Errorf("etcd no longer has the lease (revoked or expired): %w", err))
	default:
		l.log.Warn("ownership lease not renewed; retrying", "err", err, "left", time.Until(l.Deadline()).Round(time.Millisecond))
		if !time.Now().Before(l.Deadline()) {
			l.lose(ErrLeaseLost, fmt.Errorf("not renewed within its TTL: %w", err))
		}
	}
	return false
}

// extend moves the deadline to dl if that is later.
func (l *lease) extend(dl time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil && dl.After(l.deadline) {
		l.deadline = dl
	}
}

// Deadline is when the lease runs out unless renewed; the zero time once
// it is gone.
func (l *lease) Deadline() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return time.Time{}
	}
	return l.deadline
}

// check returns nil while the lease is held and its deadline is ahead,
// and otherwise why not. A deadline found passed is declared lost here
// too, so no caller acts on a lease the keeper has not caught up with.
func (l *lease) check() error {
	l.mu.Lock()
	err, dl := l.err, l.deadline
	l.mu.Unlock()
	if err != nil {
		return err
	}
	if !time.Now().Before(dl) {
		l.lose(ErrLeaseLost, errors.New("not renewed within its TTL"))
		return l.Err()
	}
	return nil
}

// Err is why the lease is gone, nil while it is held.
func (l *lease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// lose records why the lease is gone (code ErrLeaseLost or ErrClosed)
// and closes lost; only the first call counts.
func (l *lease) lose(code, cause error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return
	}
	l.err = &Error{Op: "lease", Code: code, Cause: cause}
	close(l.lost)
	if code == ErrLeaseLost {
		l.log.Error("ownership lease lost: the node must stop its actors and exit", "cause", cause)
	}
}

// stop ends the keeper and waits for it.
func (l *lease) stop() {
	l.cancel()
	<-l.done
}
