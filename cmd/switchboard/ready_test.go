package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence/faultfs"
)

// probe GETs path and returns the status and the readiness body's reason.
func probe(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	res, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	var body struct{ Status, Reason string }
	if path == "/readyz" {
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatalf("GET /readyz: %d, body not JSON: %v", res.StatusCode, err)
		}
		if (res.StatusCode == http.StatusOK) != (body.Status == "ready") {
			t.Fatalf("GET /readyz: %d with status %q", res.StatusCode, body.Status)
		}
	}
	return res.StatusCode, body.Reason
}

// readyIs reports whether /readyz answers status with a reason holding
// want.
func readyIs(t *testing.T, addr string, status int, want string) func() bool {
	return func() bool {
		code, reason := probe(t, addr, "/readyz")
		return code == status && strings.Contains(reason, want)
	}
}

// /readyz is 200 once the broker serves, 503 while a storage fault stops
// writes, and 200 again once storage works, with no write needed to bring
// it back (a node out of its load balancer gets none). /healthz, the
// liveness probe, stays 200 throughout.
func TestReadyzFollowsStorageFaults(t *testing.T) {
	ffs := faultfs.New(vfs.Default)
	m := startBroker(t, t.TempDir(), func(c *Config) { c.StoreFS = ffs })
	addr := m.Addr()
	if code, _ := probe(t, addr, "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz after start: %d", code)
	}
	ffs.Fail(true)
	v, _ := newVisitor(t, addr, false)
	var e *messages.Error
	if _, err := v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{Department: "sales", Language: "en"}}}); !errors.As(err, &e) || e.GetCode() != messages.ErrorCode_ERROR_CODE_UNAVAILABLE {
		t.Fatalf("a chat request during the fault: %v, want UNAVAILABLE", err)
	}
	eventually(t, "/readyz to say storage is unavailable", readyIs(t, addr, http.StatusServiceUnavailable, "storage"))
	if code, _ := probe(t, addr, "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz during a storage fault: %d, want 200 (alive, not ready)", code)
	}
	ffs.Fail(false)
	eventually(t, "/readyz to be 200 again", readyIs(t, addr, http.StatusOK, ""))
	requestChat(t, v, "sales", "en", "back")
}

// While the disk is low /readyz is 503 and says so; with space back, 200.
func TestReadyzFollowsLowDisk(t *testing.T) {
	m, free := diskBroker(t)
	eventually(t, "ready", readyIs(t, m.Addr(), http.StatusOK, ""))
	free.Store(100 << 20)
	eventually(t, "/readyz to say the disk is low", readyIs(t, m.Addr(), http.StatusServiceUnavailable, "disk"))
	free.Store(10 << 30)
	eventually(t, "/readyz to be 200 again", readyIs(t, m.Addr(), http.StatusOK, ""))
}

// Close turns /readyz to 503 first, then (after DrainWait) closes the
// sockets: during the drain the node is alive (/healthz 200), not ready,
// and its open sockets still work.
func TestReadyzDrainsOnClose(t *testing.T) {
	m := startBroker(t, t.TempDir(), func(c *Config) { c.DrainWait = 3 * time.Second })
	addr := m.Addr()
	v, _ := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "support", "en", "hello"))
	if code, _ := probe(t, addr, "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz after start: %d", code)
	}
	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()
	eventually(t, "/readyz to say it is shutting down", readyIs(t, addr, http.StatusServiceUnavailable, "shutting down"))
	if code, _ := probe(t, addr, "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz during the drain: %d, want 200", code)
	}
	send(t, v, chat, "drain", "still here")
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	// Once closed, the handler still answers 503 to anyone holding it.
	rec := httptest.NewRecorder()
	m.Gateway().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz after Close: %d", rec.Code)
	}
}
