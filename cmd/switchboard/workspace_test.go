package main

import (
	"net/http"
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
	var view map[string]any
	eventually(t, "the broker to come back empty", func() bool {
		view = nil
		res, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK && admin(t, addr, "GET", "/admin/directory", nil, &view) == http.StatusOK
	})
	if view["departments"] != nil || view["agents"] != nil {
		t.Fatalf("after the deletion: %v", view)
	}
	if code := admin(t, addr, "GET", "/api/chats/"+chat, nil, nil); code != http.StatusNotFound {
		t.Fatalf("the old chat after the deletion: %d", code)
	}
}
