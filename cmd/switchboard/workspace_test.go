package main

import (
	"bytes"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// Only the owner, with the confirmation phrase, deletes the workspace:
// every socket closes, and the broker comes back on the same address with
// nothing but its secrets (the admin credential still works).
func TestOwnerDeletesTheWorkspace(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/agents/olivia", map[string]any{"login": "olivia@x", "password": "olivia-password", "role": "owner"})
	mustAdmin(t, addr, "PUT", "/admin/agents/adam", map[string]any{"login": "adam@x", "password": "adam-password", "role": "administrator"})
	v, _ := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", ""))
	const confirm = `{"confirm":"delete every chat, account and setting"}`

	if code, body := staffHTTP(t, addr, loginToken(t, addr, "adam@x", "adam-password"), "DELETE", "/admin/workspace", confirm); code != http.StatusForbidden {
		t.Fatalf("an administrator deleting the workspace: %d %s", code, body)
	}
	owner := loginToken(t, addr, "olivia@x", "olivia-password")
	if code, body := staffHTTP(t, addr, owner, "DELETE", "/admin/workspace", `{"confirm":"yes"}`); code != http.StatusBadRequest {
		t.Fatalf("without the confirmation phrase: %d %s", code, body)
	}
	if rec, _ := m.broker.ChatRecord(chat); rec == nil {
		t.Fatal("a refused deletion deleted something")
	}
	if code, body := staffHTTP(t, addr, owner, "DELETE", "/admin/workspace", confirm); code != http.StatusAccepted {
		t.Fatalf("the owner deleting the workspace: %d %s", code, body)
	}
	_, err := v.Await(ctxT(t), func(*messages.Envelope) bool { return false })
	if code := gateway.CloseCode(err); code != gateway.CloseGoingAway {
		t.Fatalf("the visitor's socket ended with %v (%v)", code, err)
	}
	view := awaitRestart(t, addr)
	if view["departments"] != nil || view["agents"] != nil {
		t.Fatalf("after the deletion: %v", view)
	}
	if code := admin(t, addr, "GET", "/api/chats/"+chat, nil, nil); code != http.StatusNotFound {
		t.Fatalf("the old chat after the deletion: %d", code)
	}
}

// Deleting the workspace leaves nothing of the old data readable in the
// data folder (not even after a restart), and ends every session and
// resume token issued before it.
func TestWorkspaceDeletionLeavesNothingReadable(t *testing.T) {
	dir := t.TempDir()
	m := startBroker(t, dir)
	addr := m.Addr()
	const needle = "needle-login-5b1e9c@example.org"
	mustAdmin(t, addr, "PUT", "/admin/agents/olivia", map[string]any{"login": needle, "password": "olivia-password", "role": "owner"})
	a, _ := m.broker.Agent("olivia")
	hash := a.GetPasswordHash()
	// A restart moves what the log holds into table files.
	m.Close()
	m = startBroker(t, dir)
	addr = m.Addr()
	if !folderHas(t, dir, needle) {
		t.Fatal("the needle is not in the data folder before the deletion: the test proves nothing")
	}
	_, welcome := newVisitor(t, addr, false)
	owner := loginToken(t, addr, needle, "olivia-password")
	if code, body := staffHTTP(t, addr, owner, "DELETE", "/admin/workspace", `{"confirm":"delete every chat, account and setting"}`); code != http.StatusAccepted {
		t.Fatalf("delete: %d %s", code, body)
	}
	awaitRestart(t, addr)
	// The same account again: the old session still must not work.
	mustAdmin(t, addr, "PUT", "/admin/agents/olivia", map[string]any{"login": "olivia@x", "password": "olivia-password", "role": "owner"})
	if code, body := staffHTTP(t, addr, owner, "GET", "/admin/directory", ""); code != http.StatusUnauthorized {
		t.Fatalf("a session from before the deletion: %d %s", code, body)
	}
	if _, err := dial(t, addr, "visitor", false).Hello(ctxT(t), &messages.Hello{ResumeToken: welcome.GetResumeToken()}); errCode(err) != messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED {
		t.Errorf("a resume token from before the deletion: %v", err)
	}
	for _, when := range []string{"after the deletion", "after the deletion and a restart"} {
		for _, s := range []string{needle, hash} {
			if folderHas(t, dir, s) {
				t.Errorf("%q is still in the data folder %s", s, when)
			}
		}
		m.Close()
		m = startBroker(t, dir)
	}
}

// folderHas reports whether any file under dir holds s's bytes.
func folderHas(t *testing.T, dir, s string) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte(s)) {
			t.Logf("%s holds %q", path, s)
			found = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// awaitRestart waits for the broker to answer again after a workspace
// deletion and returns its directory.
func awaitRestart(t *testing.T, addr string) (view map[string]any) {
	t.Helper()
	eventually(t, "the broker to come back empty", func() bool {
		view = nil
		res, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK && admin(t, addr, "GET", "/admin/directory", nil, &view) == http.StatusOK
	})
	return view
}
