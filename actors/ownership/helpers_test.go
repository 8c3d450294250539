package ownership

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/switchboard-chat/switchboard/actors/ownership/etcdtest"
)

// testPrefix keeps the tests' keys apart from anything else in etcd.
const testPrefix = "/test/own/"

// tlogWriter routes the directory's logs to t.Log.
type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// ctxT is a context that bounds a whole test.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// open opens node's Directory on e (changed by mod) and closes it at the
// end of the test. Its calls may take 5 s, not the default 500 ms: a test
// about something else must not fail because a loaded machine made etcd
// slow; the tests of timeouts set their own.
func open(t testing.TB, e *etcdtest.Etcd, node string, mod ...func(*Config)) *Directory {
	t.Helper()
	cfg := Config{Endpoints: e.Endpoints(), Node: node, Prefix: testPrefix, Logger: testLogger(t), CallTimeout: 5 * time.Second}
	for _, f := range mod {
		f(&cfg)
	}
	d, err := Open(ctxT(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(context.Background()) })
	return d
}

// acquire is Acquire that must succeed.
func acquire(t testing.TB, d *Directory, kind, id string) Claim {
	t.Helper()
	c, err := d.Acquire(ctxT(t), kind, id)
	if err != nil {
		t.Fatalf("%s acquires %s/%s: %v", d.cfg.Node, kind, id, err)
	}
	return c
}

// mustOwn acquires kind/id on d and fails unless d got it.
func mustOwn(t testing.TB, d *Directory, kind, id string) Claim {
	t.Helper()
	c := acquire(t, d, kind, id)
	if !c.Mine || c.Owner != d.cfg.Node || c.Epoch <= 0 {
		t.Fatalf("%s acquires %s/%s: %+v, want it", d.cfg.Node, kind, id, c)
	}
	return c
}

// raw reads key (relative to testPrefix) straight from etcd: nil when
// absent.
func raw(t testing.TB, cli *clientv3.Client, key string) *clientv3.GetResponse {
	t.Helper()
	resp, err := cli.Get(ctxT(t), testPrefix+key)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// count is how many ownership keys etcd holds under testPrefix, and
// etcd's revision.
func count(t testing.TB, cli *clientv3.Client) (n, rev int64) {
	t.Helper()
	resp, err := cli.Get(ctxT(t), testPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Count, resp.Header.Revision
}

// eventually polls cond every few milliseconds until it holds, or fails
// the test after d.
func eventually(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		<-tick.C
	}
}

// closedWithin waits up to d for ch to close and says how long it took,
// or fails the test.
func closedWithin(t testing.TB, what string, ch <-chan struct{}, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	select {
	case <-ch:
		return time.Since(start)
	case <-time.After(d):
		t.Fatalf("%s: not within %s", what, d)
		return 0
	}
}

// isClosed reports whether ch is closed now.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// wantCode fails unless err is an *Error of op with code (errors.Is), and
// temporary as Temporary says.
func wantCode(t testing.TB, err error, op string, code error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, code) || e.Op != op {
		t.Fatalf("error %v (%T), want an *Error of %s with %v", err, err, op, code)
	}
	if Temporary(err) != (code == ErrUnavailable) || e.Temporary() != (code == ErrUnavailable) {
		t.Fatalf("error %v: Temporary %v, want %v", err, Temporary(err), code == ErrUnavailable)
	}
}
