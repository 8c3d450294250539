package actors

// The actors' Prometheus metrics (names in the README's metric list). Each
// number comes from the actor that is its authority: the queue for its
// line, waits and offers; the chat actor for what its log stores; the
// group (and the queue, for a full line) for refusals; the agent actor for
// its own status. A nil *Metrics is "off": every method returns at once.
//
// Hot paths do no label lookup: the queue and the group bind their
// department's series once (queueMetrics, refusalMetrics) and keep them;
// a stored message touches one counter and one histogram bound in
// NewMetrics. The chat actor looks its department's series up once per
// state change (created, assigned, closed, transferred), never per
// message. Labels are departments, statuses, reasons, results and kinds:
// never a chat, visitor or agent id.

import (
	"slices"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/switchboard-chat/switchboard/messages"
)

// Metrics are the actors' metrics. Build them with NewMetrics and give
// them to New in Config.Metrics; nil turns them off.
type Metrics struct {
	reg prometheus.Registerer

	requested, queued, assigned, closed, transferred *prometheus.CounterVec
	refused                                          *prometheus.CounterVec
	waiting, active                                  *prometheus.GaugeVec
	assignment, wait                                 *prometheus.HistogramVec
	offers                                           *prometheus.CounterVec
	agents                                           *prometheus.GaugeVec

	stored  prometheus.Counter
	durable prometheus.Observer
	stages  *Stages                     // a message's latency breakdown (stages.go)
	kinds   map[string]prometheus.Gauge // actors active, by kind (read only after NewMetrics)
}

// Label values of switchboard_offers_total's result.
const (
	offerMade = iota
	offerAccepted
	offerDeclined
	offerExpired
	offerWithdrawn
	offerResults
)

var offerResultNames = [offerResults]string{"made", "accepted", "declined", "expired", "withdrawn"}

// Buckets: a chat waits seconds to many minutes; a durable write takes
// about a millisecond to tens of them (one fsync per group commit).
var (
	waitBuckets    = []float64{1, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600}
	durableBuckets = []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5}
)

// NewMetrics builds the actors' metrics and registers them with reg.
// Registering twice with one registry panics (prometheus.MustRegister).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	dept := []string{"department"}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchboard_" + name, Help: help}, labels)
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_" + name, Help: help}, labels)
	}
	m := &Metrics{
		reg:         reg,
		requested:   counter("chats_requested_total", "Chats created: requests that passed the department's checks and found room in its line (a refused request counts in switchboard_chats_refused_total only).", dept...),
		refused:     counter("chats_refused_total", "Chat requests refused, by reason.", "department", "reason"),
		queued:      counter("chats_queued_total", "Chats put in a department's line (new, handed back or transferred there).", dept...),
		assigned:    counter("chats_assigned_total", "Chats given to an agent from the line (routed, picked or transferred; not taken over).", dept...),
		closed:      counter("chats_closed_total", "Chats closed.", dept...),
		transferred: counter("chats_transferred_total", "Chats transferred to this department.", dept...),
		waiting:     gauge("chats_waiting", "Chats waiting in the department's line now.", dept...),
		active:      gauge("chats_active", "Chats being handled by the department's agents now.", dept...),
		assignment: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "switchboard_assignment_seconds",
			Help: "From a chat's creation to its first assignment to an agent.", Buckets: waitBuckets}, dept),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "switchboard_wait_seconds",
			Help: "Time in a department's line: from joining it to being assigned or leaving it.", Buckets: waitBuckets}, dept),
		offers: counter("offers_total", "Offers of waiting chats to agents, by result.", "department", "result"),
		agents: gauge("agents", "Connected agents by department and status (busy: available with no free slot).", "department", "status"),
		stored: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_messages_stored_total", Help: "Chat messages stored (durable)."}),
		kinds:  map[string]prometheus.Gauge{},
	}
	durable := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "switchboard_message_durable_seconds",
		Help: "From the chat actor receiving a message to its write being durable (and back in the chat actor).", Buckets: durableBuckets})
	m.durable = durable
	actorsActive := gauge("actors_active", "Actors running, by kind.", "kind")
	for _, k := range []string{KindChat, KindQueue, KindGroup, KindAgent, KindVisitor, KindDirectory} {
		m.kinds[k] = actorsActive.WithLabelValues(k)
	}
	reg.MustRegister(m.requested, m.refused, m.queued, m.assigned, m.closed, m.transferred, m.waiting, m.active,
		m.assignment, m.wait, m.offers, m.agents, m.stored, durable, actorsActive)
	m.stages = NewStages(reg)
	return m
}

// refusalMetrics are one department's refusal counters, by reason, bound
// once (the reasons' numbers are not contiguous: a map).
type refusalMetrics struct {
	byReason map[messages.RefusalReason]prometheus.Counter
}

// refusals binds the refusal counters of dept (every reason, so each
// series exists from the start).
func (m *Metrics) refusals(dept string) *refusalMetrics {
	if m == nil {
		return nil
	}
	r := &refusalMetrics{byReason: make(map[messages.RefusalReason]prometheus.Counter, len(messages.RefusalReason_name))}
	for n := range messages.RefusalReason_name {
		reason := messages.RefusalReason(n)
		if reason == messages.RefusalReason_REFUSAL_REASON_UNSPECIFIED {
			continue // not a refusal: a storage error, counted where errors are sent
		}
		r.byReason[reason] = m.refused.WithLabelValues(dept, messages.RefusalName(reason))
	}
	return r
}

func (r *refusalMetrics) refused(reason messages.RefusalReason) {
	if r == nil || r.byReason[reason] == nil {
		return
	}
	r.byReason[reason].Inc()
}

// queueMetrics are what a department's queue actor moves, bound once.
type queueMetrics struct {
	refusals        *refusalMetrics
	queued          prometheus.Counter
	waiting, active prometheus.Gauge
	wait            prometheus.Observer
	oldest          *longestWait
	offers          [offerResults]prometheus.Counter
}

// queue binds the series of department dept for its queue actor; clock is
// what the longest wait is measured on.
func (m *Metrics) queue(dept string, clock Clock) *queueMetrics {
	if m == nil {
		return nil
	}
	q := &queueMetrics{refusals: m.refusals(dept), queued: m.queued.WithLabelValues(dept),
		waiting: m.waiting.WithLabelValues(dept), active: m.active.WithLabelValues(dept),
		wait: m.wait.WithLabelValues(dept), oldest: m.longestWait(dept, clock)}
	for i, r := range offerResultNames {
		q.offers[i] = m.offers.WithLabelValues(dept, r)
	}
	// The chat actor's series of the department exist from the start too.
	m.requested.WithLabelValues(dept)
	m.assigned.WithLabelValues(dept)
	m.closed.WithLabelValues(dept)
	m.transferred.WithLabelValues(dept)
	m.assignment.WithLabelValues(dept)
	return q
}

func (q *queueMetrics) refused(reason messages.RefusalReason) {
	if q != nil {
		q.refusals.refused(reason)
	}
}

func (q *queueMetrics) offer(result int) {
	if q != nil {
		q.offers[result].Inc()
	}
}

func (q *queueMetrics) enqueued() {
	if q != nil {
		q.queued.Inc()
	}
}

// line sets the line's gauges: how many wait, and since when the one who
// has waited longest has (zero: nobody).
func (q *queueMetrics) line(waiting int, oldest time.Time) {
	if q == nil {
		return
	}
	q.waiting.Set(float64(waiting))
	q.oldest.set(oldest)
}

// left observes the wait of a chat that left the line (assigned or gone).
func (q *queueMetrics) left(waited time.Duration) {
	if q != nil {
		q.wait.Observe(waited.Seconds())
	}
}

func (q *queueMetrics) handling(active int) {
	if q != nil {
		q.active.Set(float64(active))
	}
}

// stopped zeroes the gauges of a queue actor that stops or restarts: its
// line goes with it.
func (q *queueMetrics) stopped() {
	if q == nil {
		return
	}
	q.waiting.Set(0)
	q.active.Set(0)
	q.oldest.set(time.Time{})
}

// longestWait is switchboard_queue_longest_wait_seconds for one
// department: the queue actor sets since when its longest waiter has
// waited, and a scrape reads now minus that, so the value grows between
// the queue's messages. It is a Collector registered per department; the
// registry is what finds it again when the queue actor restarts.
type longestWait struct {
	desc  *prometheus.Desc
	since prometheus.Gauge // Unix seconds; 0: nobody waits
	clock Clock
}

func (m *Metrics) longestWait(dept string, clock Clock) *longestWait {
	l := &longestWait{clock: clock,
		desc: prometheus.NewDesc("switchboard_queue_longest_wait_seconds", "How long the chat that has waited longest in the department's line has waited, now.",
			nil, prometheus.Labels{"department": dept}),
		since: prometheus.NewGauge(prometheus.GaugeOpts{Name: "since"})}
	if err := m.reg.Register(l); err != nil {
		if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
			if old, ok := are.ExistingCollector.(*longestWait); ok {
				return old
			}
		}
		panic(err) // a name clash: a programming error, as MustRegister would
	}
	return l
}

func (l *longestWait) set(since time.Time) {
	v := 0.0
	if !since.IsZero() {
		v = float64(since.UnixNano()) / 1e9
	}
	l.since.Set(v)
}

// Describe implements prometheus.Collector.
func (l *longestWait) Describe(ch chan<- *prometheus.Desc) { ch <- l.desc } //lint:allow the Collector interface's signature

// Collect implements prometheus.Collector.
func (l *longestWait) Collect(ch chan<- prometheus.Metric) { //lint:allow the Collector interface's signature
	var d dto.Metric
	if err := l.since.Write(&d); err != nil {
		return
	}
	v := 0.0
	if since := d.GetGauge().GetValue(); since > 0 {
		v = max(float64(l.clock.Now().UnixNano())/1e9-since, 0)
	}
	ch <- prometheus.MustNewConstMetric(l.desc, prometheus.GaugeValue, v)
}

// Chat events, counted by the chat actor once they are durable.

func (m *Metrics) chatCreated(dept string) {
	if m != nil {
		m.requested.WithLabelValues(dept).Inc()
	}
}

// chatAssigned counts an assignment from the line; first (the chat's
// first assignment) also observes the time since the chat was created.
func (m *Metrics) chatAssigned(dept string, first bool, sinceCreated time.Duration) {
	if m == nil {
		return
	}
	m.assigned.WithLabelValues(dept).Inc()
	if first {
		m.assignment.WithLabelValues(dept).Observe(sinceCreated.Seconds())
	}
}

func (m *Metrics) chatClosed(dept string) {
	if m != nil {
		m.closed.WithLabelValues(dept).Inc()
	}
}

func (m *Metrics) chatTransferred(toDept string) {
	if m != nil {
		m.transferred.WithLabelValues(toDept).Inc()
	}
}

// messageStored counts a durable message and how long it took to be.
func (m *Metrics) messageStored(took time.Duration) {
	if m == nil {
		return
	}
	m.stored.Inc()
	m.durable.Observe(took.Seconds())
}

// actorGauge is switchboard_actors_active of kind (nil: metrics off, or a
// kind not counted).
func (m *Metrics) actorGauge(kind string) prometheus.Gauge {
	if m == nil {
		return nil
	}
	return m.kinds[kind]
}

// agentStatusName is the status label of a connected agent: busy is
// available with no free slot.
func agentStatusName(s messages.AgentStatus, full bool) string {
	if s == messages.AgentStatus_AGENT_STATUS_AVAILABLE && full {
		return "busy"
	}
	return strings.ToLower(strings.TrimPrefix(s.String(), "AGENT_STATUS_"))
}

// agentCount is what one agent actor adds to switchboard_agents: one for
// each of its departments, under its status, while it is connected. It
// moves on transitions only (inc the new series, dec the old), and the
// actor gives it all back (drop) when it stops or restarts, so a stopped
// or crashed agent actor leaves nothing counted.
type agentCount struct {
	status string
	depts  []string
	counts []prometheus.Gauge
}

// agentMoved sets what an agent counts: status in depts, or nothing when
// status is "" (not connected, or in no department).
func (m *Metrics) agentMoved(c *agentCount, status string, depts []string) {
	if m == nil || c.status == status && slices.Equal(c.depts, depts) {
		return
	}
	c.drop()
	if status == "" {
		return
	}
	c.status, c.depts = status, append(c.depts[:0], depts...)
	for _, d := range depts {
		g := m.agents.WithLabelValues(d, status)
		g.Inc()
		c.counts = append(c.counts, g)
	}
}

// drop takes back everything the agent counts.
func (c *agentCount) drop() {
	for _, g := range c.counts {
		g.Dec()
	}
	c.counts, c.status, c.depts = c.counts[:0], "", c.depts[:0]
}

// countedProducer makes p's actors count themselves in g while they run:
// one up on Started, one down when the instance ends (Stopped, or
// Restarting: the supervisor's next instance counts itself on its own
// Started). Only with metrics on; off, the actors run unwrapped.
func countedProducer(p actor.Producer, g prometheus.Gauge) actor.Producer {
	return func() actor.Actor { return &counted{Actor: p(), g: g} }
}

type counted struct {
	actor.Actor
	g    prometheus.Gauge
	live bool
}

func (c *counted) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		if !c.live {
			c.live = true
			c.g.Inc()
		}
	case *actor.Stopped, *actor.Restarting:
		if c.live {
			c.live = false
			c.g.Dec()
		}
	}
	c.Actor.Receive(ctx)
}
