package actors

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence"
)

// fakeConn stands in for a websocket: an actor.Process that hands every
// envelope to a callback, on the sender's goroutine.
type fakeConn struct {
	on func(*messages.Envelope)
}

func (f *fakeConn) SendUserMessage(_ *actor.PID, m interface{}) {
	switch m := actor.UnwrapEnvelopeMessage(m).(type) {
	case *messages.Envelope:
		f.on(m)
	case *messages.TracedEnvelope:
		f.on(m.GetEnvelope())
	case *messages.ReplayBatch:
		for _, ev := range m.GetEvents() {
			f.on(&messages.Envelope{Body: &messages.Envelope_Event{Event: ev}})
		}
	}
}
func (f *fakeConn) SendSystemMessage(*actor.PID, interface{}) {}
func (f *fakeConn) Stop(*actor.PID)                           {}

func attachConn(b *Broker, on func(*messages.Envelope)) *actor.PID {
	reg := b.System().ProcessRegistry
	pid, _ := reg.Add(&fakeConn{on: on}, "conn/"+reg.NextId())
	return pid
}

// benchBroker starts a broker on Pebble in b's temporary directory, with
// English and a department "d" (line limit 100,000); must runs an admin
// command on it. The broker stops when b ends.
func benchBroker(b *testing.B, m *Metrics) (*Broker, func(*messages.AdminCommand)) {
	return benchBrokerWith(b, m, persistence.Options{})
}

// benchBrokerWith is benchBroker on a store opened with opts.
func benchBrokerWith(b *testing.B, m *Metrics, opts persistence.Options) (*Broker, func(*messages.AdminCommand)) {
	return benchBrokerConfig(b, Config{Metrics: m}, opts)
}

// benchBrokerConfig is benchBroker built from cfg (its store and logger
// set here).
func benchBrokerConfig(b *testing.B, cfg Config, opts persistence.Options) (*Broker, func(*messages.AdminCommand)) {
	opts.Logger = slog.New(slog.DiscardHandler)
	store, err := persistence.Open(b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	cfg.Store, cfg.Logger = store, slog.New(slog.DiscardHandler)
	br, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		br.Shutdown()
		store.Close()
	})
	must := func(cmd *messages.AdminCommand) {
		cmd.By = CallerAdmin
		if err := br.Admin(context.Background(), cmd); err != nil {
			b.Fatal(err)
		}
	}
	must(&messages.AdminCommand{Body: &messages.AdminCommand_PutLanguage{PutLanguage: &messages.Language{Code: "en", Name: "English", ChatEnabled: true}}})
	must(&messages.AdminCommand{Body: &messages.AdminCommand_PutDepartment{PutDepartment: &messages.Department{
		Id: "d", Name: "D", ChatEnabled: true, QueueLimit: 100000}}})
	return br, must
}

// BenchmarkAssignment measures chat assignments through the actors, with
// real storage (Pebble, fsync per group commit) and no sockets: a visitor
// asks for a chat (visitor -> group -> queue -> chat, stored), the queue
// offers it to an agent, the agent accepts (chat stores the assignment),
// the visitor is told; then the visitor closes it, freeing the agent. One
// op is one whole assignment, 64 visitors at a time over 32 agents. With
// metrics on, the actors move their counters, gauges and histograms.
func BenchmarkAssignment(b *testing.B) {
	b.Run("metrics=off", func(b *testing.B) { benchAssignment(b, Config{}) })
	b.Run("metrics=on", func(b *testing.B) { benchAssignment(b, Config{Metrics: NewMetrics(prometheus.NewRegistry())}) })
	// Issue 20: the routing journal and decision records, against
	// metrics=off in the same run.
	b.Run("routing=on", func(b *testing.B) { benchAssignment(b, Config{RecordRouting: true}) })
}

func benchAssignment(b *testing.B, cfg Config) {
	br, must := benchBrokerConfig(b, cfg, persistence.Options{})
	const agents, visitors = 32, 64
	var ready sync.WaitGroup
	for i := 0; i < agents; i++ {
		id := fmt.Sprintf("ag%02d", i)
		must(&messages.AdminCommand{Body: &messages.AdminCommand_PutAgent{PutAgent: &messages.Agent{Id: id, Login: id + "@b",
			PasswordHash: "$argon2id$unused", DisplayName: id, Departments: []string{"d"}, Languages: []string{"en"}, MaxChats: 8, ChatAgent: true}}})
		var self *actor.PID
		ready.Add(1)
		self = attachConn(br, func(env *messages.Envelope) {
			switch {
			case env.GetOffer() != nil:
				br.Send(KindAgent, id, &messages.SessionCommand{Conn: self, Ref: 1,
					Body: &messages.SessionCommand_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: env.GetOffer().GetChatId()}}})
			case env.GetAck() != nil && env.GetRef() == 2:
				ready.Done() // available
			}
		})
		rec, _ := br.Agent(id)
		br.Send(KindAgent, id, &messages.ConnAttach{Conn: self, SessionEpoch: rec.GetSessionEpoch()})
		br.Send(KindAgent, id, &messages.SessionCommand{Conn: self, Ref: 2,
			Body: &messages.SessionCommand_SetStatus{SetStatus: &messages.SetStatus{Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}})
	}
	ready.Wait()

	var issued, assigned atomic.Int64
	done := make(chan struct{})
	failed := make(chan string, 1)
	request := func(id string, self *actor.PID) {
		if issued.Add(1) > int64(b.N) {
			return
		}
		br.Send(KindVisitor, id, &messages.SessionCommand{Conn: self, Ref: 1,
			Body: &messages.SessionCommand_RequestChat{RequestChat: &messages.RequestChat{Department: "d", Language: "en"}}})
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < visitors; i++ {
		id := NewID('v', time.Now())
		who := &messages.Participant{Kind: kindVisitor, Id: id}
		var self *actor.PID
		var mu sync.Mutex
		closing := map[string]bool{}
		self = attachConn(br, func(env *messages.Envelope) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case env.GetEvent().GetAssigned() != nil:
				chat := env.GetEvent().GetChatId()
				if closing[chat] {
					return
				}
				closing[chat] = true
				if assigned.Add(1) == int64(b.N) {
					close(done)
				}
				br.Send(KindChat, chat, &messages.ChatCommand{ChatId: chat, From: who, Conn: self, Ref: 3,
					Body: &messages.ChatCommand_Close{Close: &messages.CloseChat{ChatId: chat}}})
			case env.GetAck() != nil && env.GetRef() == 3:
				delete(closing, env.GetAck().GetChatId())
				request(id, self)
			case env.GetError() != nil, env.GetChatRefused() != nil:
				select {
				case failed <- fmt.Sprint(env):
				default:
				}
			}
		})
		br.Send(KindVisitor, id, &messages.ConnAttach{Conn: self})
		request(id, self)
	}
	select {
	case <-done:
	case msg := <-failed:
		b.Fatal(msg)
	case <-time.After(5 * time.Minute):
		b.Fatalf("only %d of %d chats assigned", assigned.Load(), b.N)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "assignments/s")
}
