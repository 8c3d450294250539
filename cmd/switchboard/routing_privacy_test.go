package main

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/switchboard-chat/switchboard/messages"
)

// The routing journal and a chat's decisions hold no visitor's name,
// words or address: a chat asked with a name and a first message, offered
// and assigned, leaves none of them in either.
func TestRoutingRecordsHoldNoVisitorData(t *testing.T) {
	m := startBroker(t, t.TempDir())
	alice, _ := newAgent(t, m.Addr(), "alice@demo", "alice-demo-pw", true)
	v, _ := newVisitor(t, m.Addr(), false)
	env, err := v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{
		Department: "sales", Language: "en", Name: "Zelda Quuxworth", Email: "zelda@quux.example", FirstMessage: "my card is 4242-9999"}}})
	if err != nil {
		t.Fatal(err)
	}
	chat := mustChatID(t, env)
	accept(t, alice, awaitOffer(t, alice).GetChatId())
	send(t, v, chat, "z-1", "call me on 555-0199")
	var all strings.Builder
	eventually(t, "the chat's assignment in its routing decisions", func() bool {
		ds, err := m.store.RoutingDecisions(chat)
		return err == nil && len(ds) > 0 && ds[len(ds)-1].GetKind() == messages.RoutingDecisionKind_ROUTING_DECISION_KIND_ASSIGNED
	})
	ds, _ := m.store.RoutingDecisions(chat)
	for _, d := range ds {
		all.WriteString(protojson.Format(d))
	}
	n := 0
	if err := m.store.EachRoutingInput(time.Time{}, time.Time{}, func(_ uint64, in *messages.RoutingInput) bool {
		n++
		all.WriteString(protojson.Format(in))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(all.String(), chat) || n == 0 {
		t.Fatalf("no journal entry about %s in %d entries", chat, n)
	}
	for _, secret := range []string{"Zelda", "Quuxworth", "zelda@quux", "4242", "555-0199", "127.0.0.1"} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("the routing records hold %q", secret)
		}
	}
}
