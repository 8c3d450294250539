package actors

// The actors' metrics, through the harness: every actor real, a chat from
// request to close and a few refusals, and the numbers read back from the
// registry. (The stories run with metrics off: nil Metrics.)

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/switchboard-chat/switchboard/messages"
)

var allKinds = []string{KindChat, KindQueue, KindGroup, KindAgent, KindVisitor, KindDirectory}

// newMetricsHarness is newHarness with metrics on, in a registry of their
// own. Actors read the broker's metrics when they are spawned, so setting
// them before the first message is enough.
func newMetricsHarness(t *testing.T, real ...string) (*harness, *Metrics, *prometheus.Registry) {
	t.Helper()
	h := newHarness(t, real...)
	reg := prometheus.NewRegistry()
	h.b.metrics = NewMetrics(reg)
	return h, h.b.metrics, reg
}

// series is the series of family name with exactly these labels
// (name=value pairs), or nil.
func series(t *testing.T, reg *prometheus.Registry, name string, labels ...string) *dto.Metric {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			if f.GetName() == name && hasLabels(m, labels) {
				return m
			}
		}
	}
	return nil
}

// value is a series' value (a histogram's count), or -1 when there is
// no such series.
func value(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	m := series(t, reg, name, labels...)
	switch {
	case m == nil:
		return -1
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	default:
		return float64(m.GetHistogram().GetSampleCount())
	}
}

// sum is a histogram series' sum of observations.
func sum(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	return series(t, reg, name, labels...).GetHistogram().GetSampleSum()
}

func hasLabels(m *dto.Metric, labels []string) bool {
	if len(m.GetLabel()) != len(labels)/2 {
		return false
	}
	for i := 0; i < len(labels); i += 2 {
		if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool {
			return l.GetName() == labels[i] && l.GetValue() == labels[i+1]
		}) {
			return false
		}
	}
	return true
}

func metricsSeed(h *harness) {
	h.seed(&messages.DirectoryView{
		Languages: []*messages.Language{{Code: "en", Name: "English", ChatEnabled: true}},
		Departments: []*messages.Department{{Id: "sales", Name: "Sales", ChatEnabled: true, QueueLimit: 1},
			{Id: "closed", Name: "Closed", ChatEnabled: false}, {Id: "support", Name: "Support", ChatEnabled: true}},
		Agents: []*messages.Agent{{Id: "a1", Login: "a1@x", DisplayName: "Alice", Departments: []string{"sales"},
			Languages: []string{"en"}, MaxChats: 1, ChatAgent: true, Role: "agent"}},
	})
}

// chatIDOf is the chat id of the first ack among ds.
func chatIDOf(t *testing.T, ds []delivery) string {
	t.Helper()
	for _, d := range ds {
		if env, ok := d.msg.(*messages.Envelope); ok && env.GetAck().GetChatId() != "" {
			return env.GetAck().GetChatId()
		}
	}
	t.Fatalf("no ack with a chat id in %v", ds)
	return ""
}

// offered: agent a1 connects and is available, visitor v1 asks sales for
// a chat, and it is offered to a1; it returns a1's connection and the
// chat's id.
func offered(t *testing.T, h *harness) (*actor.PID, string) {
	t.Helper()
	a1 := h.conn("a1")
	h.send(KindAgent, "a1", &messages.ConnAttach{Conn: a1, Ref: 1}, nil)
	h.send(KindAgent, "a1", &messages.SessionCommand{Conn: a1, Ref: 2, Body: &messages.SessionCommand_SetStatus{
		SetStatus: &messages.SetStatus{Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}}, nil)
	requestChat(h, "v1", "sales", 2)
	return a1, chatIDOf(t, h.take())
}

func requestChat(h *harness, visitor, dept string, ref uint64) {
	conn := h.conn(visitor)
	h.send(KindVisitor, visitor, &messages.ConnAttach{Conn: conn, Ref: 1}, nil)
	h.send(KindVisitor, visitor, &messages.SessionCommand{Conn: conn, Ref: ref, Body: &messages.SessionCommand_RequestChat{
		RequestChat: &messages.RequestChat{Department: dept, Language: "en", Name: "Vera", FirstMessage: "Hello?"}}}, nil)
}

func TestMetricsChatLife(t *testing.T) {
	h, _, reg := newMetricsHarness(t, allKinds...)
	metricsSeed(h)
	check := func(want float64, name string, labels ...string) {
		t.Helper()
		if got := value(t, reg, name, labels...); got != want {
			t.Errorf("%s%v = %v, want %v", name, labels, got, want)
		}
	}

	// An agent comes in and is available.
	a1 := h.conn("a1")
	h.send(KindAgent, "a1", &messages.ConnAttach{Conn: a1, Ref: 1}, nil)
	check(1, "switchboard_agents", "department", "sales", "status", "offline")
	h.send(KindAgent, "a1", &messages.SessionCommand{Conn: a1, Ref: 2, Body: &messages.SessionCommand_SetStatus{
		SetStatus: &messages.SetStatus{Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}}, nil)
	check(0, "switchboard_agents", "department", "sales", "status", "offline")
	check(1, "switchboard_agents", "department", "sales", "status", "available")

	// A visitor asks: the chat is created, queued and offered; the offer
	// takes the agent's one slot (busy).
	requestChat(h, "v1", "sales", 2)
	chatID := chatIDOf(t, h.take())
	check(1, "switchboard_chats_requested_total", "department", "sales")
	check(1, "switchboard_chats_queued_total", "department", "sales")
	check(1, "switchboard_chats_waiting", "department", "sales")
	check(1, "switchboard_offers_total", "department", "sales", "result", "made")
	check(1, "switchboard_agents", "department", "sales", "status", "busy")
	check(0, "switchboard_agents", "department", "sales", "status", "available")
	check(1, "switchboard_messages_stored_total") // the first message

	// The line is full now (limit 1): a second visitor is refused.
	requestChat(h, "v2", "sales", 2)
	check(1, "switchboard_chats_refused_total", "department", "sales", "reason", "queue_full")

	// The longest wait grows with the clock, between the queue's messages.
	h.advance(5 * time.Second)
	check(5, "switchboard_queue_longest_wait_seconds", "department", "sales")

	h.send(KindAgent, "a1", &messages.SessionCommand{Conn: a1, Ref: 3, Body: &messages.SessionCommand_AcceptOffer{
		AcceptOffer: &messages.AcceptOffer{ChatId: chatID}}}, nil)
	check(1, "switchboard_offers_total", "department", "sales", "result", "accepted")
	check(0, "switchboard_chats_waiting", "department", "sales")
	check(0, "switchboard_queue_longest_wait_seconds", "department", "sales")
	check(1, "switchboard_chats_assigned_total", "department", "sales")
	check(1, "switchboard_chats_active", "department", "sales")
	check(1, "switchboard_assignment_seconds", "department", "sales")
	check(1, "switchboard_wait_seconds", "department", "sales")
	if s := sum(t, reg, "switchboard_assignment_seconds", "department", "sales"); s != 5 {
		t.Errorf("assignment took %vs, want 5", s)
	}
	if s := sum(t, reg, "switchboard_wait_seconds", "department", "sales"); s != 5 {
		t.Errorf("wait was %vs, want 5", s)
	}

	// Two messages, then the agent closes the chat.
	agent := &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_AGENT, Id: "a1", DisplayName: "Alice"}
	h.send(KindChat, chatID, &messages.ChatCommand{ChatId: chatID, From: agent, Conn: a1, Ref: 4,
		Body: &messages.ChatCommand_Send{Send: &messages.SendMessage{ClientMsgId: "m1", Text: "Hi Vera"}}}, nil)
	h.send(KindVisitor, "v1", &messages.ChatCommand{ChatId: chatID, Conn: h.conn("v1"), Ref: 3,
		From: &messages.Participant{Kind: kindVisitor, Id: "v1"},
		Body: &messages.ChatCommand_Send{Send: &messages.SendMessage{ClientMsgId: "m1", Text: "My order is late"}}}, nil)
	check(3, "switchboard_messages_stored_total")
	check(3, "switchboard_message_durable_seconds")
	// The agent sends the chat on to support, where nobody can take it;
	// the visitor gives up and closes it.
	h.send(KindChat, chatID, &messages.ChatCommand{ChatId: chatID, From: agent, Conn: a1, Ref: 5,
		Body: &messages.ChatCommand_Transfer{Transfer: &messages.TransferChat{ChatId: chatID, ToDepartment: "support"}}}, nil)
	check(1, "switchboard_chats_transferred_total", "department", "support")
	check(0, "switchboard_chats_transferred_total", "department", "sales")
	check(0, "switchboard_chats_active", "department", "sales")
	check(1, "switchboard_chats_queued_total", "department", "support")
	check(1, "switchboard_chats_waiting", "department", "support")
	check(1, "switchboard_agents", "department", "sales", "status", "available")
	check(0, "switchboard_agents", "department", "sales", "status", "busy")
	h.advance(2 * time.Second)
	h.send(KindVisitor, "v1", &messages.ChatCommand{ChatId: chatID, Conn: h.conn("v1"), Ref: 4,
		From: &messages.Participant{Kind: kindVisitor, Id: "v1"}, Body: &messages.ChatCommand_Close{Close: &messages.CloseChat{}}}, nil)
	check(1, "switchboard_chats_closed_total", "department", "support")
	check(0, "switchboard_chats_waiting", "department", "support")
	check(1, "switchboard_wait_seconds", "department", "support")
	if s := sum(t, reg, "switchboard_wait_seconds", "department", "support"); s != 2 {
		t.Errorf("wait in support was %vs, want 2", s)
	}
	check(1, "switchboard_assignment_seconds", "department", "sales") // once: the first assignment

	// Refusals by the group: a closed department, one that does not exist
	// (counted under no department: any name can be asked for).
	requestChat(h, "v3", "closed", 2)
	check(1, "switchboard_chats_refused_total", "department", "closed", "reason", "department_closed")
	requestChat(h, "v4", "no-such-place", 2)
	check(1, "switchboard_chats_refused_total", "department", "", "reason", "unknown_department")
	if n := testutil.CollectAndCount(h.b.metrics.offers); n != 10 {
		t.Errorf("%d offer series, want 10 (one per result, for sales and support)", n)
	}
	if n := testutil.ToFloat64(h.b.metrics.stored); n != 3 {
		t.Errorf("stored %v, want 3", n)
	}

	check(1, "switchboard_actors_active", "kind", "chat")
	check(1, "switchboard_actors_active", "kind", "agent")
	check(4, "switchboard_actors_active", "kind", "visitor")
	check(3, "switchboard_actors_active", "kind", "group") // sales, closed, no-such-place
	check(2, "switchboard_actors_active", "kind", "queue") // sales, support

	noIDsInLabels(t, reg, chatID, "v1", "v2", "v3", "v4", "a1")

	// An agent actor that stops takes its count with it.
	h.stop(KindAgent, "a1")
	check(0, "switchboard_agents", "department", "sales", "status", "available")
	check(0, "switchboard_actors_active", "kind", "agent")
	h.stop(KindChat, chatID)
	check(0, "switchboard_actors_active", "kind", "chat")

	// A queue actor that comes back finds its longest-wait series again.
	h.stop(KindQueue, "sales")
	check(1, "switchboard_actors_active", "kind", "queue")
	requestChat(h, "v5", "sales", 2)
	check(1, "switchboard_chats_waiting", "department", "sales")
	check(2, "switchboard_actors_active", "kind", "queue")
	h.advance(3 * time.Second)
	check(3, "switchboard_queue_longest_wait_seconds", "department", "sales")
}

// noIDsInLabels checks that every label is one of the bounded ones and
// that no label value is a chat, visitor or agent id.
func noIDsInLabels(t *testing.T, reg *prometheus.Registry, ids ...string) {
	t.Helper()
	allowed := []string{"department", "reason", "result", "status", "kind", "stage"}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if !strings.HasPrefix(f.GetName(), "switchboard_") {
			t.Errorf("metric %s: not under switchboard_", f.GetName())
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if !slices.Contains(allowed, l.GetName()) {
					t.Errorf("%s: label %s is not a bounded one", f.GetName(), l.GetName())
				}
				for _, id := range ids {
					if strings.Contains(l.GetValue(), id) {
						t.Errorf("%s: label %s=%q carries the id %s", f.GetName(), l.GetName(), l.GetValue(), id)
					}
				}
			}
		}
	}
}

// panicOnce makes the next read of an agent record panic, as a bug in a
// handler would: the agent actor is restarted by its supervisor.
type panicOnce struct {
	Store
	armed bool
}

func (p *panicOnce) Agent(id string) (*messages.Agent, error) {
	if p.armed {
		p.armed = false
		panic("harness: agent read")
	}
	return p.Store.Agent(id)
}

// A restarted agent actor gives back what the old instance counted: its
// connections went with it.
func TestMetricsAgentRestart(t *testing.T) {
	h, _, reg := newMetricsHarness(t, allKinds...)
	metricsSeed(h)
	ps := &panicOnce{Store: h.b.store}
	h.b.store = ps
	a1 := h.conn("a1")
	h.send(KindAgent, "a1", &messages.ConnAttach{Conn: a1, Ref: 1}, nil)
	h.send(KindAgent, "a1", &messages.SessionCommand{Conn: a1, Ref: 2, Body: &messages.SessionCommand_SetStatus{
		SetStatus: &messages.SetStatus{Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}}, nil)
	if v := value(t, reg, "switchboard_agents", "department", "sales", "status", "available"); v != 1 {
		t.Fatalf("available agents %v, want 1", v)
	}
	ps.armed = true
	h.send(KindAgent, "a1", &messages.DirectoryChanged{}, nil)
	if ps.armed {
		t.Fatal("the agent actor did not read its record")
	}
	for _, st := range []string{"available", "offline", "away", "busy", "draining"} {
		if v := value(t, reg, "switchboard_agents", "department", "sales", "status", st); v > 0 {
			t.Errorf("%s agents %v after the restart, want 0", st, v)
		}
	}
	if v := value(t, reg, "switchboard_actors_active", "kind", "agent"); v != 1 {
		t.Errorf("agent actors %v after the restart, want 1", v)
	}
	// Connected again, counted once.
	h.send(KindAgent, "a1", &messages.ConnAttach{Conn: a1, Ref: 3}, nil)
	h.send(KindAgent, "a1", &messages.SessionCommand{Conn: a1, Ref: 4, Body: &messages.SessionCommand_SetStatus{
		SetStatus: &messages.SetStatus{Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}}, nil)
	if v := value(t, reg, "switchboard_agents", "department", "sales", "status", "available"); v != 1 {
		t.Errorf("available agents %v, want 1", v)
	}
}

// Off is off: a nil *Metrics takes every call.
func TestMetricsNil(t *testing.T) {
	var m *Metrics
	m.chatCreated("d")
	m.chatAssigned("d", true, time.Second)
	m.chatClosed("d")
	m.chatTransferred("d")
	m.messageStored(time.Millisecond)
	if m.actorGauge(KindChat) != nil || m.queue("d", systemClock{}) != nil || m.refusals("d") != nil {
		t.Error("nil metrics bound something")
	}
	var q *queueMetrics
	q.offer(offerMade)
	q.enqueued()
	q.line(1, time.Now())
	q.left(time.Second)
	q.handling(1)
	q.stopped()
	q.refused(messages.RefusalReason_REFUSAL_REASON_QUEUE_FULL)
	var c agentCount
	m.agentMoved(&c, "available", []string{"d"})
	c.drop()
}

// Offers by result: one declined, one let expire, one withdrawn when the
// visitor left while it was out.
func TestMetricsOffers(t *testing.T) {
	h, _, reg := newMetricsHarness(t, allKinds...)
	metricsSeed(h)
	offers := func(result string) float64 {
		return value(t, reg, "switchboard_offers_total", "department", "sales", "result", result)
	}
	a1, chatID := offered(t, h)
	h.send(KindAgent, "a1", &messages.SessionCommand{Conn: a1, Ref: 3, Body: &messages.SessionCommand_DeclineOffer{
		DeclineOffer: &messages.DeclineOffer{ChatId: chatID}}}, nil)
	if offers("made") != 1 || offers("declined") != 1 {
		t.Errorf("made %v, declined %v; want 1, 1", offers("made"), offers("declined"))
	}
	// After the cool-down the only agent is offered it again, and lets
	// the offer expire; then once more, and the visitor leaves.
	h.advance(declineCooldown)
	h.advance(DefaultOfferTimeout)
	if offers("made") != 2 || offers("expired") != 1 {
		t.Errorf("made %v, expired %v; want 2, 1", offers("made"), offers("expired"))
	}
	h.advance(declineCooldown)
	h.send(KindVisitor, "v1", &messages.ChatCommand{ChatId: chatID, Conn: h.conn("v1"), Ref: 4,
		From: &messages.Participant{Kind: kindVisitor, Id: "v1"}, Body: &messages.ChatCommand_Close{Close: &messages.CloseChat{}}}, nil)
	if offers("made") != 3 || offers("withdrawn") != 1 || offers("accepted") != 0 {
		t.Errorf("made %v, withdrawn %v, accepted %v; want 3, 1, 0", offers("made"), offers("withdrawn"), offers("accepted"))
	}
	if v := value(t, reg, "switchboard_chats_waiting", "department", "sales"); v != 0 {
		t.Errorf("waiting %v, want 0", v)
	}
}
