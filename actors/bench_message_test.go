package actors

import (
	"strconv"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence"
)

// BenchmarkMessage measures messages through a chat actor, with real
// storage (Pebble, group commit) and no sockets: an agent sends into an
// assigned chat, up to 64 messages in flight, and each ack releases the
// next. One op is one message stored, acknowledged and fanned out to both
// sides. With metrics on, a message moves a prebound counter and
// histogram: allocs/op must be the same as with them off; and it carries
// its read time, as the gateway stamps it, for the stage latencies
// (stages.go), which wraps the event for the participants' actors and
// their connections (see the README's Performance section for the
// allocations that costs). history=off runs without the chat history
// index (no feed key per append, no indexer): against metrics=off, what
// indexing costs the message path. stats=off runs with the history index
// and without the statistics projection: against metrics=off, what the
// statistics cost.
func BenchmarkMessage(b *testing.B) {
	b.Run("metrics=off", func(b *testing.B) { benchMessages(b, nil, persistence.Options{}) })
	b.Run("metrics=on", func(b *testing.B) { benchMessages(b, NewMetrics(prometheus.NewRegistry()), persistence.Options{}) })
	b.Run("history=off", func(b *testing.B) { benchMessages(b, nil, persistence.Options{NoHistory: true}) })
	b.Run("stats=off", func(b *testing.B) { benchMessages(b, nil, persistence.Options{NoStats: true}) })
}

func benchMessages(b *testing.B, m *Metrics, opts persistence.Options) {
	br, must := benchBrokerWith(b, m, opts)
	must(&messages.AdminCommand{Body: &messages.AdminCommand_PutAgent{PutAgent: &messages.Agent{Id: "a", Login: "a@b",
		PasswordHash: "$argon2id$unused", DisplayName: "A", Departments: []string{"d"}, Languages: []string{"en"}, MaxChats: 1, ChatAgent: true}}})

	assigned := make(chan string, 1)
	acks := make(chan struct{}, 1024)
	var agentConn *actor.PID
	agentConn = attachConn(br, func(env *messages.Envelope) {
		switch {
		case env.GetOffer() != nil:
			br.Send(KindAgent, "a", &messages.SessionCommand{Conn: agentConn, Ref: 1,
				Body: &messages.SessionCommand_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: env.GetOffer().GetChatId()}}})
		case env.GetEvent().GetAssigned() != nil:
			assigned <- env.GetEvent().GetChatId()
		case env.GetAck() != nil && env.GetRef() >= 100:
			acks <- struct{}{}
		}
	})
	rec, _ := br.Agent("a")
	br.Send(KindAgent, "a", &messages.ConnAttach{Conn: agentConn, SessionEpoch: rec.GetSessionEpoch()})
	br.Send(KindAgent, "a", &messages.SessionCommand{Conn: agentConn, Ref: 2,
		Body: &messages.SessionCommand_SetStatus{SetStatus: &messages.SetStatus{Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}})
	visitor := NewID('v', time.Now())
	visitorConn := attachConn(br, func(*messages.Envelope) {})
	br.Send(KindVisitor, visitor, &messages.ConnAttach{Conn: visitorConn})
	br.Send(KindVisitor, visitor, &messages.SessionCommand{Conn: visitorConn, Ref: 1,
		Body: &messages.SessionCommand_RequestChat{RequestChat: &messages.RequestChat{Department: "d", Language: "en"}}})
	var chat string
	select {
	case chat = <-assigned:
	case <-time.After(time.Minute):
		b.Fatal("the chat was never assigned")
	}

	from := &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_AGENT, Id: "a", DisplayName: "A"}
	send := func(i int) {
		var read int64
		if m != nil {
			read = time.Now().UnixNano()
		}
		br.Send(KindChat, chat, &messages.ChatCommand{ChatId: chat, From: from, Conn: agentConn, Ref: uint64(100 + i), ReadUnixNano: read,
			Body: &messages.ChatCommand_Send{Send: &messages.SendMessage{ClientMsgId: strconv.Itoa(i), Text: "a message of an ordinary length"}}})
	}
	const window = 64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	sent := 0
	for ; sent < min(window, b.N); sent++ {
		send(sent)
	}
	for done := 0; done < b.N; done++ {
		select {
		case <-acks:
		case <-time.After(time.Minute):
			b.Fatalf("only %d of %d messages acknowledged", done, b.N)
		}
		if sent < b.N {
			send(sent)
			sent++
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "messages/s")
}
