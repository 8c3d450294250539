package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence"
)

// simulateCmd runs `switchboard simulate args...` and returns its output.
func simulateCmd(args ...string) (string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"simulate"}, args...), strings.NewReader(""), &out, &errOut)
	return out.String() + errOut.String(), err
}

// recordTraffic runs a real broker through offers accepted, declined and
// expired, a transfer to another department and a visitor who leaves the
// line, then stops it: its data folder holds the routing journal.
func recordTraffic(t *testing.T) string {
	dir := t.TempDir()
	m := startBroker(t, dir)
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/departments/sales", map[string]any{"name": "Sales", "chat_enabled": true, "offer_timeout_ms": 300})

	v1, _ := newVisitor(t, addr, false)
	c1 := mustChatID(t, requestChat(t, v1, "sales", "en", "first"))
	v2, _ := newVisitor(t, addr, false)
	c2 := mustChatID(t, requestChat(t, v2, "sales", "en", "second"))
	// Carmen declines c1 and lets c2 expire; Alice takes both.
	carmen, _ := newAgent(t, addr, "carmen@demo", "carmen-demo-pw", true)
	awaitOffer(t, carmen)
	awaitOffer(t, carmen)
	mustCall(t, carmen, &messages.Envelope{Body: &messages.Envelope_DeclineOffer{DeclineOffer: &messages.DeclineOffer{ChatId: c1}}})
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	took := map[string]bool{}
	for len(took) < 2 {
		o := awaitOffer(t, alice)
		accept(t, alice, o.GetChatId())
		took[o.GetChatId()] = true
	}
	if !took[c1] || !took[c2] {
		t.Fatalf("alice took %v, want %s and %s", took, c1, c2)
	}
	setStatus(t, carmen, messages.AgentStatus_AGENT_STATUS_AWAY)
	// Alice transfers c1 to Support, where Bob takes it.
	bob, _ := newAgent(t, addr, "bob@demo", "bob-demo-pw", true)
	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_TransferChat{TransferChat: &messages.TransferChat{ChatId: c1, ToDepartment: "support"}}})
	if o := awaitOffer(t, bob); o.GetChatId() != c1 {
		t.Fatalf("bob offered %s, want %s", o.GetChatId(), c1)
	}
	accept(t, bob, c1)
	// A visitor gives up waiting in Support while Bob is away.
	setStatus(t, bob, messages.AgentStatus_AGENT_STATUS_AWAY)
	v3, _ := newVisitor(t, addr, false)
	c3 := mustChatID(t, requestChat(t, v3, "support", "en", "anyone?"))
	mustCall(t, v3, &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: c3}}})
	for _, c := range []struct {
		a    *gateway.Client
		chat string
	}{{bob, c1}, {alice, c2}} {
		mustCall(t, c.a, &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: c.chat}}})
	}
	// The data folder is the running broker's: simulate says so.
	if out, err := simulateCmd("-data", dir, "-check"); err == nil || !strings.Contains(err.Error(), "is its broker still running") {
		t.Fatalf("simulate on a running broker's folder: %v %s", err, out)
	}
	m.Close()
	return dir
}

// decisionKinds tallies the journal's decisions by kind.
func decisionKinds(t *testing.T, dir string) map[string]int {
	st, err := persistence.Open(dir, persistence.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	kinds := map[string]int{}
	err = st.EachRoutingInput(time.Time{}, time.Time{}, func(_ uint64, in *messages.RoutingInput) bool {
		for _, d := range in.GetDecisions() {
			kinds[strings.TrimPrefix(d.GetKind().String(), "ROUTING_DECISION_KIND_")]++
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return kinds
}

// TestSimulateCheckReproducesARealBroker: every decision a real broker
// recorded (offers, a decline, an expiry, assignments, a transfer, a
// visitor leaving) is reproduced by replaying its journal, from the data
// folder and from an exported traffic file; the what-if run of the same
// traffic unchanged reports the same assignments.
func TestSimulateCheckReproducesARealBroker(t *testing.T) {
	dir := recordTraffic(t)
	kinds := decisionKinds(t, dir)
	for _, k := range []string{"OFFERED", "DECLINED", "EXPIRED", "ASSIGNED", "LEFT", "QUEUED"} {
		if kinds[k] == 0 {
			t.Fatalf("no %s decision recorded: %v", k, kinds)
		}
	}
	total := 0
	for _, n := range kinds {
		total += n
	}
	out, err := simulateCmd("-data", dir, "-check")
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	if want := "reproduced " + strconv.Itoa(total) + " of " + strconv.Itoa(total) + " decisions"; !strings.Contains(out, want) {
		t.Fatalf("check said %q, want %q", out, want)
	}
	file := filepath.Join(t.TempDir(), "traffic.jsonl")
	if out, err := simulateCmd("-data", dir, "-export", file); err != nil || !strings.Contains(out, "and 3 chats") {
		t.Fatalf("export: %v %s", err, out)
	}
	if out, err := simulateCmd("-traffic", file, "-check"); err != nil || !strings.Contains(out, "reproduced "+strconv.Itoa(total)) {
		t.Fatalf("check of the export: %v %s", err, out)
	}
	t.Run("what-if as recorded", func(t *testing.T) {
		rep := simulateJSON(t, "-traffic", file)
		for _, r := range rep.Rows {
			if r.Hour == "" && r.Agent == "" && (r.Simulated.Assigned != r.Recorded.Assigned || r.Simulated.Missed != r.Recorded.Missed) {
				t.Errorf("%s: recorded %+v, simulated %+v", r.Department, r.Recorded, r.Simulated)
			}
		}
	})
}

// simulateJSON runs simulate with -format json and decodes its report.
func simulateJSON(t *testing.T, args ...string) *simulateReport {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), append(append([]string{"simulate"}, args...), "-format", "json"), strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("simulate %v: %v\n%s", args, err, errOut.String())
	}
	rep := &simulateReport{}
	if err := json.Unmarshal(out.Bytes(), rep); err != nil {
		t.Fatalf("decode %s: %v", out.String(), err)
	}
	return rep
}
