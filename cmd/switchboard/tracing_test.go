package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// tracedBroker starts the broker tracing every request into an in-memory
// exporter.
func tracedBroker(t *testing.T) (*Main, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	t.Cleanup(func() { tp.Shutdown(ctxT(t)) })
	m := startBroker(t, t.TempDir(), func(c *Config) { c.TracerProvider = tp })
	return m, exp
}

// spansByName waits until every name has a span and returns them by name
// (the last of each).
func spansByName(t *testing.T, exp *tracetest.InMemoryExporter, names ...string) map[string]tracetest.SpanStub {
	t.Helper()
	var got map[string]tracetest.SpanStub
	defer func() {
		if t.Failed() {
			for _, s := range exp.GetSpans() {
				t.Log(s.Name, s.Attributes)
			}
		}
	}()
	eventually(t, "spans "+strings.Join(names, ", "), func() bool {
		got = map[string]tracetest.SpanStub{}
		for _, s := range exp.GetSpans() {
			got[s.Name] = s
		}
		for _, n := range names {
			if _, ok := got[n]; !ok {
				return false
			}
		}
		return true
	})
	return got
}

func attr(s tracetest.SpanStub, k attribute.Key) string {
	for _, a := range s.Attributes {
		if a.Key == k {
			return a.Value.Emit()
		}
	}
	return ""
}

// childOf fails unless child's parent is parent, in the same trace.
func childOf(t *testing.T, child, parent tracetest.SpanStub) {
	t.Helper()
	if child.Parent.TraceID() != parent.SpanContext.TraceID() || child.Parent.SpanID() != parent.SpanContext.SpanID() {
		t.Errorf("%s's parent is %s/%s, want %s (%s/%s)", child.Name, child.Parent.TraceID(), child.Parent.SpanID(),
			parent.Name, parent.SpanContext.TraceID(), parent.SpanContext.SpanID())
	}
}

// TestTracesAcrossActors: a chat request is one trace from the gateway
// through the group, the queue and the wait to the assignment; a message
// one from the gateway through its durable write to the other side's
// socket; each with the department and the result, and nothing a person
// wrote.
func TestTracesAcrossActors(t *testing.T) {
	m, exp := tracedBroker(t)
	addr := m.Addr()
	v, _ := newVisitor(t, addr, true)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", ""))
	a, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	if o := awaitOffer(t, a); o.GetChatId() != chat {
		t.Fatalf("offer for %s, want %s", o.GetChatId(), chat)
	}
	accept(t, a, chat)
	const secret = "my card number is 4111"
	send(t, v, chat, "m1", secret)
	awaitEvent(t, a, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == secret })

	s := spansByName(t, exp, gateway.SpanChatRequest, actors.SpanChatRoute, actors.SpanChatAdmit, actors.SpanQueueWait,
		actors.SpanChatAssign, gateway.SpanMessageSend, actors.SpanMessageStore, gateway.SpanMessageDeliver)
	req := s[gateway.SpanChatRequest]
	childOf(t, s[actors.SpanChatRoute], req)
	childOf(t, s[actors.SpanChatAdmit], s[actors.SpanChatRoute])
	childOf(t, s[actors.SpanQueueWait], s[actors.SpanChatAdmit])
	childOf(t, s[actors.SpanChatAssign], s[actors.SpanQueueWait])
	childOf(t, s[actors.SpanMessageStore], s[gateway.SpanMessageSend])
	for name, result := range map[string]string{actors.SpanChatRoute: actors.ResultRouted, actors.SpanChatAdmit: actors.ResultAdmitted,
		actors.SpanQueueWait: actors.ResultAccepted, actors.SpanChatAssign: actors.ResultAssigned, actors.SpanMessageStore: actors.ResultStored} {
		if d, r := attr(s[name], actors.AttrDepartment), attr(s[name], actors.AttrResult); d != "sales" || r != result {
			t.Errorf("%s: department %q result %q, want sales %s", name, d, r, result)
		}
	}
	if d := attr(req, actors.AttrDepartment); d != "sales" {
		t.Errorf("chat.request: department %q", d)
	}
	// The message reaches the agent's socket (and the visitor's own):
	// each delivery is a child of the durable write.
	toAgent := false
	for _, sp := range exp.GetSpans() {
		if sp.Name == gateway.SpanMessageDeliver {
			childOf(t, sp, s[actors.SpanMessageStore])
			toAgent = toAgent || attr(sp, gateway.AttrRole) == "agent"
		}
		for _, kv := range sp.Attributes {
			if strings.Contains(kv.Value.Emit(), "4111") {
				t.Errorf("span %s carries message text in %s", sp.Name, kv.Key)
			}
		}
	}
	if !toAgent {
		t.Error("no message.deliver span for the agent's socket")
	}
}

// TestTraceRefusal: a refused request's route span says why.
func TestTraceRefusal(t *testing.T) {
	m, exp := tracedBroker(t)
	v, _ := newVisitor(t, m.Addr(), false)
	env := requestChat(t, v, "nosuch", "en", "")
	if env.GetChatRefused() == nil {
		t.Fatalf("want a refusal, got %v", env)
	}
	s := spansByName(t, exp, gateway.SpanChatRequest, actors.SpanChatRoute)
	childOf(t, s[actors.SpanChatRoute], s[gateway.SpanChatRequest])
	if r := attr(s[actors.SpanChatRoute], actors.AttrResult); r != "unknown_department" {
		t.Errorf("route result %q, want unknown_department", r)
	}
}

// TestTracingFlags: tracing is off by default, on with -otlp-endpoint or
// the standard variable, and a bad endpoint or sample stops the broker.
func TestTracingFlags(t *testing.T) {
	none := func(string) string { return "" }
	cfg, err := parseServe(nil, none, io.Discard)
	if err != nil || cfg.OTLPEndpoint != "" || cfg.OTLPFromEnv || cfg.TraceSample != defaultTraceSample {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
	std := func(k string) string {
		return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}[k]
	}
	if cfg, err := parseServe(nil, std, io.Discard); err != nil || !cfg.OTLPFromEnv {
		t.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: from env %v, %v", cfg.OTLPFromEnv, err)
	}
	for _, args := range [][]string{{"-otlp-endpoint", "collector:4318"}, {"-trace-sample", "1.5"}, {"-trace-sample", "-0.1"}} {
		if _, err := parseServe(args, none, io.Discard); err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%v: error %v, want one naming %s", args, err, args[0])
		}
	}
	for in, want := range map[string]string{"http://c:4318": "http://c:4318/v1/traces", "https://c:4318/": "https://c:4318/v1/traces", "http://c/otlp/traces": "http://c/otlp/traces"} {
		if got, err := otlpURL(in); got != want || err != nil {
			t.Errorf("otlpURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestTracingExportsOverOTLPHTTP: with -otlp-endpoint, the spans of a chat
// request reach an OTLP/HTTP endpoint (here a local server that counts
// what it gets), at the latest when the broker closes.
func TestTracingExportsOverOTLPHTTP(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/traces" && r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			if len(body) > 0 {
				posts.Add(1)
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	m := startBroker(t, t.TempDir(), func(c *Config) { c.OTLPEndpoint, c.TraceSample = srv.URL, 1 })
	v, _ := newVisitor(t, m.Addr(), false)
	mustChatID(t, requestChat(t, v, "sales", "en", ""))
	v.Close()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if posts.Load() == 0 {
		t.Error("no spans were posted to /v1/traces")
	}
}
