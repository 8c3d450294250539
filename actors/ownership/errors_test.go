package ownership

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Which failures of etcd calls are worth a retry (ErrUnavailable), which
// mean the lease is gone for good, and which are neither.
func TestClassify(t *testing.T) {
	live := context.Background()
	gone, cancel := context.WithCancel(live)
	cancel()
	for _, c := range []struct {
		name string
		ctx  context.Context
		err  error
		want error
	}{
		{"the call timeout passed", live, context.DeadlineExceeded, ErrUnavailable},
		{"wrapped timeout", live, fmt.Errorf("txn: %w", context.DeadlineExceeded), ErrUnavailable},
		{"no leader", live, rpctypes.ErrNoLeader, ErrUnavailable},
		{"server timeout", live, rpctypes.ErrTimeout, ErrUnavailable},
		{"too many requests", live, rpctypes.ErrTooManyRequests, ErrUnavailable},
		{"connection down", live, status.Error(codes.Unavailable, "connection refused"), ErrUnavailable},
		{"lease not found", live, rpctypes.ErrLeaseNotFound, ErrLeaseLost},
		{"lease not found, as gRPC said it", live, rpctypes.Error(rpctypes.ErrGRPCLeaseNotFound), ErrLeaseLost},
		{"permission denied", live, rpctypes.ErrPermissionDenied, nil},
		{"something else", live, errors.New("boom"), nil},
		{"the caller gave up", gone, context.Canceled, nil},
		{"the caller gave up while etcd was down", gone, context.DeadlineExceeded, nil},
	} {
		if got := classify(c.ctx, c.err); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// An *Error answers errors.Is for its code and its cause, and says it is
// temporary only when etcd was unavailable.
func TestErrorWraps(t *testing.T) {
	err := error(&Error{Op: "acquire", Key: "/sb/own/chat/1", Code: ErrUnavailable, Cause: context.DeadlineExceeded})
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) || !Temporary(err) {
		t.Fatalf("%v: Is(ErrUnavailable) %v, Is(DeadlineExceeded) %v, Temporary %v", err,
			errors.Is(err, ErrUnavailable), errors.Is(err, context.DeadlineExceeded), Temporary(err))
	}
	if want := "ownership: acquire /sb/own/chat/1: etcd unavailable: context deadline exceeded"; err.Error() != want {
		t.Fatalf("message %q, want %q", err, want)
	}
	for _, code := range []error{ErrLeaseLost, ErrClosed, ErrInvalidKey, nil} {
		if err := fmt.Errorf("wrapped: %w", &Error{Op: "acquire", Code: code}); Temporary(err) {
			t.Errorf("code %v: temporary", code)
		}
	}
	if Temporary(ErrUnavailable) {
		t.Error("the bare sentinel is not an *Error: not temporary")
	}
}
