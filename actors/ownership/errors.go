package ownership

import (
	"context"
	"errors"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The codes of an *Error, checked with errors.Is.
var (
	// ErrUnavailable: etcd did not answer within the call's timeout, or
	// said it cannot serve now (no leader, too many requests), or the key
	// is still held by an earlier run of this node. Retrying later may
	// help: claims already made stay valid until Deadline.
	ErrUnavailable = errors.New("etcd unavailable")
	// ErrLeaseLost: the node's lease is gone (revoked, expired, or not
	// renewed in time). Retrying never helps: the node must stop its
	// actors and exit (see Directory.Lost).
	ErrLeaseLost = errors.New("lease lost")
	// ErrClosed: the Directory was closed.
	ErrClosed = errors.New("directory closed")
	// ErrInvalidKey: a kind or id that cannot name a key (empty, or a
	// kind with a "/"). Nothing was sent to etcd.
	ErrInvalidKey = errors.New("invalid kind or id")
)

// Error is what the Directory's calls return when they fail: which call
// on which key, a code a caller can act on, and the cause etcd or the
// client gave. Callers test the code with errors.Is (ErrUnavailable,
// ErrLeaseLost, ...) and ask Temporary whether a retry may help, rather
// than reading the message: the message is for logs only.
type Error struct {
	Op    string // "open", "acquire", "owner", "release", "close" or "lease"
	Key   string // the ownership key, when the call had one
	Code  error  // ErrUnavailable, ErrLeaseLost, ErrClosed, ErrInvalidKey, or nil for anything else
	Cause error  // what went wrong underneath, if anything
}

func (e *Error) Error() string {
	s := "ownership: " + e.Op
	if e.Key != "" {
		s += " " + e.Key
	}
	if e.Code != nil {
		s += ": " + e.Code.Error()
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap gives both the code and the cause to errors.Is and errors.As:
// errors.Is(err, ErrUnavailable) and errors.Is(err,
// context.DeadlineExceeded) can both hold.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Code != nil {
		errs = append(errs, e.Code)
	}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

// Temporary reports whether retrying the call later may succeed: only
// when etcd was unavailable.
func (e *Error) Temporary() bool { return e.Code == ErrUnavailable }

// Temporary reports whether err is an *Error whose call may succeed if
// retried later (etcd was unavailable). A lost lease, a closed directory
// or an invalid key is never temporary.
func Temporary(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Temporary()
}

// leaseGone reports whether etcd said the lease does not exist: it was
// revoked, or it expired on the server.
func leaseGone(err error) bool { return errors.Is(err, rpctypes.ErrLeaseNotFound) }

// unavailable reports whether err means etcd could not serve the call
// now: the per-call timeout passed, the connection is down, or the
// server said so (no leader, timeouts, too many requests: etcd's gRPC
// codes Unavailable and ResourceExhausted).
func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var code codes.Code
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		code = ee.Code()
	} else {
		code = status.Code(err)
	}
	return code == codes.Unavailable || code == codes.DeadlineExceeded || code == codes.ResourceExhausted
}

// classify is the code of a failed etcd call made under ctx (the
// caller's context, before the call timeout): nil when the caller gave
// up or for a failure retrying will not mend.
func classify(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return nil
	case leaseGone(err):
		return ErrLeaseLost
	case unavailable(err):
		return ErrUnavailable
	}
	return nil
}
