package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence/faultfs"
)

// TestDiskFaultRefusesThenRecovers: while Pebble cannot write, the broker
// acknowledges nothing and tells senders so with a typed, temporary
// UNAVAILABLE error; once the disk works again it recovers by itself, a
// resent message is stored once, and every acknowledged message is in the
// transcript in order.
func TestDiskFaultRefusesThenRecovers(t *testing.T) {
	ffs := faultfs.New(vfs.Default)
	m := startBroker(t, t.TempDir(), func(c *Config) { c.StoreFS = ffs })
	addr := m.Addr()
	v, _ := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", ""))
	a, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	accept(t, a, awaitOffer(t, a).GetChatId())
	var acked []string
	for i := 0; i < 5; i++ {
		send(t, v, chat, fmt.Sprintf("v%d", i), fmt.Sprintf("before %d", i))
		acked = append(acked, fmt.Sprintf("v%d", i))
	}

	ffs.Fail(true)
	unavailable := func(err error) bool {
		var e *messages.Error
		return errors.As(err, &e) && e.GetCode() == messages.ErrorCode_ERROR_CODE_UNAVAILABLE && e.GetTemporary()
	}
	for i := 0; i < 3; i++ {
		_, err := v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, ClientMsgId: "during", Text: "during the fault"}}})
		if !unavailable(err) {
			t.Fatalf("send during the fault: %v, want a temporary UNAVAILABLE", err)
		}
	}
	v2, _ := newVisitor(t, addr, false)
	if _, err := v2.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{Department: "sales", Language: "en"}}}); !unavailable(err) {
		t.Fatalf("chat request during the fault: %v, want a temporary UNAVAILABLE", err)
	}

	ffs.Fail(false)
	eventually(t, "the broker to store again", func() bool {
		_, err := v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, ClientMsgId: "during", Text: "during the fault"}}})
		return err == nil
	})
	acked = append(acked, "during")
	send(t, a, chat, "a-after", "after the fault")
	acked = append(acked, "a-after")

	rec, err := m.broker.ChatRecord(chat)
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for i, ev := range rec.GetTranscript() {
		if ev.GetSeq() != uint64(i+1) {
			t.Fatalf("transcript position %d has seq %d", i, ev.GetSeq())
		}
		if msg := ev.GetMessage(); msg != nil {
			stored = append(stored, msg.GetClientMsgId())
		}
	}
	if fmt.Sprint(stored) != fmt.Sprint(acked) {
		t.Fatalf("stored messages %v, acknowledged %v", stored, acked)
	}
	// And the chat goes on for both sides.
	awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "after the fault" })
}
