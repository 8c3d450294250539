// The gateway's Prometheus metrics: connections, frames, errors, rate
// limits, message delivery latency (and the written stage of a message's
// breakdown, actors/stages.go) and the HTTP API's requests.

package gateway

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// Why a websocket was refused (switchboard_connections_refused_total's
// reason label).
const (
	refusedOrigin = iota
	refusedRateLimit
	refusedTooMany
	refusedAuth
	refusedBadRequest
	refusedReasons
)

var refusedNames = [refusedReasons]string{"origin", "rate_limit", "too_many", "auth", "bad_request"}

// Which limit refused a request (switchboard_rate_limited_total's limit
// label).
const (
	limitFrames = iota
	limitChatRequests
	limitHellos
	limitConnections
	limitLogins
	limitKinds
)

var limitNames = [limitKinds]string{"frames", "chat_requests", "hellos", "connections", "logins"}

// Metrics are the gateway's metrics. Every label value is bound once, in
// NewMetrics (the frame kinds and error codes from the protocol's
// descriptors), so counting a frame is an index and an atomic add. A nil
// *Metrics is off: every method returns at once.
type Metrics struct {
	open         [2]prometheus.Gauge // by role
	accepted     [2]prometheus.Counter
	refused      [refusedReasons]prometheus.Counter
	closed       *prometheus.CounterVec // by code: few distinct values, per socket
	framesIn     []prometheus.Counter   // by Envelope body field number; 0: bad
	framesOut    []prometheus.Counter   // by Envelope body field number
	errors       []prometheus.Counter   // by ErrorCode number
	errorOther   prometheus.Counter     // a code outside the enum
	limited      [limitKinds]prometheus.Counter
	delivery     prometheus.Observer
	stages       *actors.Stages // a message's latency breakdown (actors/stages.go)
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
}

// NewMetrics builds the gateway's metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := factory{reg}
	m := &Metrics{}
	open := f.gaugeVec("switchboard_connections_open", "Authenticated websockets open now, by kind.", "kind")
	acc := f.counterVec("switchboard_connections_accepted_total", "Websockets authenticated (Hello accepted), by kind.", "kind")
	for ro, kind := range [2]string{"visitor", "agent"} {
		m.open[ro], m.accepted[ro] = open.WithLabelValues(kind), acc.WithLabelValues(kind)
	}
	ref := f.counterVec("switchboard_connections_refused_total", "Websockets refused, by reason: a foreign origin, a rate limit, too many from one address, a refused Hello, not a websocket request.", "reason")
	for i, r := range refusedNames {
		m.refused[i] = ref.WithLabelValues(r)
	}
	m.closed = f.counterVec("switchboard_connections_closed_total", "Websockets closed, by close code (the client's, or the server's when it closed first; other: no close frame or a code outside the list).", "code")
	in := f.counterVec("switchboard_frames_in_total", "Frames received, by Envelope body (bad: undecodable, too large or empty).", "kind")
	out := f.counterVec("switchboard_frames_out_total", "Frames written to sockets, by Envelope body.", "kind")
	fields := envelopeBody.Fields()
	maxField := protoreflect.FieldNumber(0)
	for i := range fields.Len() {
		maxField = max(maxField, fields.Get(i).Number())
	}
	m.framesIn, m.framesOut = make([]prometheus.Counter, maxField+1), make([]prometheus.Counter, maxField+1)
	m.framesIn[0] = in.WithLabelValues("bad")
	for i := range fields.Len() {
		fd := fields.Get(i)
		m.framesIn[fd.Number()], m.framesOut[fd.Number()] = in.WithLabelValues(string(fd.Name())), out.WithLabelValues(string(fd.Name()))
	}
	errs := f.counterVec("switchboard_errors_sent_total", "Typed errors written to sockets, by code.", "code")
	codes := messages.ErrorCode(0).Descriptor().Values()
	for i := range codes.Len() {
		n := int(codes.Get(i).Number())
		for len(m.errors) <= n {
			m.errors = append(m.errors, nil)
		}
		m.errors[n] = errs.WithLabelValues(errorCodeLabel(codes.Get(i).Name()))
	}
	m.errorOther = errs.WithLabelValues("other")
	lim := f.counterVec("switchboard_rate_limited_total", "Requests refused by a limit: frames per connection, chat requests, new visitor sessions and connections per address, failed logins.", "limit")
	for i, l := range limitNames {
		m.limited[i] = lim.WithLabelValues(l)
	}
	m.delivery = f.histogram(prometheus.HistogramOpts{Name: "switchboard_message_delivery_seconds",
		Help:    "From a chat message's time stamp (at_ms, set when its write is submitted, so the fsync is included) to its frame handed to a socket, live delivery only (not replays).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}})
	m.httpRequests = f.counterVec("switchboard_http_requests_total", "HTTP API and admin requests answered, by route pattern and status class.", "route", "code")
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "switchboard_http_request_duration_seconds",
		Help: "How long HTTP API and admin requests took, by route pattern.", Buckets: prometheus.DefBuckets}, []string{"route"})
	reg.MustRegister(m.httpDuration)
	m.stages = actors.NewStages(reg)
	return m
}

// factory makes and registers metrics.
type factory struct{ reg prometheus.Registerer }

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(v)
	return v
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(v)
	return v
}

func (f factory) histogram(o prometheus.HistogramOpts) prometheus.Histogram {
	h := prometheus.NewHistogram(o)
	f.reg.MustRegister(h)
	return h
}

// errorCodeLabel is an ErrorCode's name without its prefix, lower case.
func errorCodeLabel(name protoreflect.Name) string {
	return strings.ToLower(strings.TrimPrefix(string(name), "ERROR_CODE_"))
}

// opened counts a socket authenticated as ro.
func (m *Metrics) opened(ro role) {
	if m == nil {
		return
	}
	m.accepted[ro].Inc()
	m.open[ro].Inc()
}

// closedConn counts a socket's end: code is its close code; authed as ro
// when it said Hello.
func (m *Metrics) closedConn(code websocket.StatusCode, authed bool, ro role) {
	if m == nil {
		return
	}
	if authed {
		m.open[ro].Dec()
	}
	label := "other"
	switch {
	case code == websocket.StatusNormalClosure || code == websocket.StatusGoingAway ||
		code == websocket.StatusPolicyViolation || code == websocket.StatusMessageTooBig:
		label = strconv.Itoa(int(code))
	case code >= 4000 && code <= 4999:
		label = strconv.Itoa(int(code))
	}
	m.closed.WithLabelValues(label).Inc()
}

func (m *Metrics) refuse(reason int) {
	if m != nil {
		m.refused[reason].Inc()
	}
}

func (m *Metrics) limit(l int) {
	if m != nil {
		m.limited[l].Inc()
	}
}

// frameIn counts a received frame; env nil: undecodable or too large.
func (m *Metrics) frameIn(env *messages.Envelope) {
	if m == nil {
		return
	}
	n := protoreflect.FieldNumber(0)
	if env != nil {
		if f := env.ProtoReflect().WhichOneof(envelopeBody); f != nil {
			n = f.Number()
		}
	}
	if c := m.framesIn[n]; c != nil {
		c.Inc()
	}
}

// frameOut counts a frame written to a socket, its error code if it is an
// error, and, for a live chat message, how long it took from durable to
// here (now on the broker's clock, read only when metrics are on).
func (m *Metrics) frameOut(env *messages.Envelope, live bool, now func() time.Time) {
	if m == nil {
		return
	}
	f := env.ProtoReflect().WhichOneof(envelopeBody)
	if f == nil {
		return
	}
	if c := m.framesOut[f.Number()]; c != nil {
		c.Inc()
	}
	switch b := env.GetBody().(type) {
	case *messages.Envelope_Error:
		n := int(b.Error.GetCode())
		if n >= 0 && n < len(m.errors) && m.errors[n] != nil {
			m.errors[n].Inc()
		} else {
			m.errorOther.Inc()
		}
	case *messages.Envelope_Event:
		if live && b.Event.GetMessage() != nil {
			d := now().Sub(time.UnixMilli(b.Event.GetAtMs()))
			m.delivery.Observe(max(d, 0).Seconds())
		}
	}
}

// timeSend stamps a message (cc carries a SendMessage) with when its frame
// was read, the start of its stage latencies; other commands, and all
// with metrics off, go unstamped.
func (m *Metrics) timeSend(cc *messages.ChatCommand, read time.Time) {
	if m != nil && cc.GetSend() != nil {
		cc.ReadUnixNano = read.UnixNano()
	}
}

// written observes the written stage of a timed message's event (read:
// when its frame was read) whose socket write completed at now, read from
// clock when zero; it returns now for the batch's next.
func (m *Metrics) written(read int64, now time.Time, clock func() time.Time) time.Time {
	if m == nil {
		return now
	}
	if now.IsZero() {
		now = clock()
	}
	m.stages.Observe(actors.StageWritten, read, now)
	return now
}

// routeMetrics are one route's prebound HTTP metrics.
type routeMetrics struct {
	codes    [6]prometheus.Counter // by status / 100; [0]: unused
	duration prometheus.Observer
}

// instrument wraps h with the request count and duration of pattern when
// metrics are on and it is an API or admin route; otherwise it returns h.
func (m *Metrics) instrument(pattern string, h http.HandlerFunc) http.HandlerFunc {
	_, path, _ := strings.Cut(pattern, " ")
	if m == nil || !strings.HasPrefix(path, "/api/") && !strings.HasPrefix(path, "/admin/") {
		return h
	}
	rm := &routeMetrics{duration: m.httpDuration.WithLabelValues(pattern)}
	for i := 1; i <= 5; i++ {
		rm.codes[i] = m.httpRequests.WithLabelValues(pattern, strconv.Itoa(i)+"xx")
	}
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusRecorder{ResponseWriter: w} // accesslog.go
		h(sw, r)
		rm.duration.Observe(time.Since(start).Seconds())
		class := sw.status / 100
		if sw.status == 0 {
			class = 2 // nothing written: net/http answers 200
		}
		if class >= 1 && class <= 5 {
			rm.codes[class].Inc()
		}
	}
}
