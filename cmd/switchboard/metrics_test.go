package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/switchboard-chat/switchboard/messages"
)

// scrape GETs /metrics and returns the text and its parsed families.
func scrape(t *testing.T, addr string) ([]byte, map[string]*dto.MetricFamily) {
	t.Helper()
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v\n%s", res.StatusCode, err, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return body, fams
}

// value is the counter, gauge or histogram count of the series of name
// whose labels include want (-1: no such series).
func value(fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		ok := true
		for i := 0; i+1 < len(want); i += 2 {
			ok = ok && labels[want[i]] == want[i+1]
		}
		if !ok {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue()
		case m.GetHistogram() != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

// TestMetrics: a chat over real websockets moves the gateway's and the
// storage's metrics, as a scraper sees them at GET /metrics on the
// broker's address; no label carries a chat, visitor or agent id; and
// promtool accepts the output.
func TestMetrics(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	v, vw := newVisitor(t, addr, true)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", "Where is my order?"))
	a, aw := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	accept(t, a, awaitOffer(t, a).GetChatId())
	send(t, a, chat, "a1", "Let me check.")
	awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "Let me check." })
	send(t, v, chat, "v1", "Thanks!")
	awaitEvent(t, a, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "Thanks!" })
	var dir any
	if admin(t, addr, "GET", "/admin/directory", nil, &dir) != http.StatusOK {
		t.Fatal("GET /admin/directory failed")
	}
	v.Close() // a normal closure: 1000
	refusals(t, addr)

	var text []byte
	var fams map[string]*dto.MetricFamily
	eventually(t, "the visitor's socket counted closed", func() bool {
		text, fams = scrape(t, addr)
		return value(fams, "switchboard_connections_closed_total", "code", "1000") >= 1 &&
			value(fams, "switchboard_connections_open", "kind", "visitor") == 0
	})
	for _, c := range []struct {
		name   string
		labels []string
		min    float64
	}{
		{"switchboard_connections_accepted_total", []string{"kind", "visitor"}, 1},
		{"switchboard_connections_accepted_total", []string{"kind", "agent"}, 1},
		{"switchboard_connections_open", []string{"kind", "agent"}, 1},
		{"switchboard_frames_in_total", []string{"kind", "hello"}, 2},
		{"switchboard_frames_in_total", []string{"kind", "send_message"}, 2},
		{"switchboard_frames_in_total", []string{"kind", "request_chat"}, 1},
		{"switchboard_connections_refused_total", []string{"reason", "origin"}, 1},
		{"switchboard_connections_refused_total", []string{"reason", "bad_request"}, 1},
		{"switchboard_connections_refused_total", []string{"reason", "auth"}, 1},
		{"switchboard_frames_out_total", []string{"kind", "welcome"}, 2},
		{"switchboard_frames_out_total", []string{"kind", "event"}, 4},
		{"switchboard_frames_out_total", []string{"kind", "offer"}, 1},
		{"switchboard_message_delivery_seconds", nil, 2},
		{"switchboard_http_requests_total", []string{"route", "GET /admin/directory", "code", "2xx"}, 1},
		{"switchboard_http_request_duration_seconds", []string{"route", "GET /admin/directory"}, 1},
		{"switchboard_storage_batch_records", nil, 3},
		{"switchboard_storage_fsync_seconds", nil, 3},
		{"switchboard_storage_written_bytes_total", nil, 100},
		{"switchboard_pebble_disk_usage_bytes", nil, 1},
		{"switchboard_build_info", nil, 1},
		// The actors' own, through the same registry.
		{"switchboard_chats_requested_total", []string{"department", "sales"}, 1},
		{"switchboard_chats_assigned_total", []string{"department", "sales"}, 1},
		{"switchboard_messages_stored_total", nil, 2},
		{"switchboard_message_durable_seconds", nil, 2},
		{"switchboard_offers_total", []string{"department", "sales", "result", "accepted"}, 1},
		{"switchboard_actors_active", []string{"kind", "chat"}, 1},
		{"go_goroutines", nil, 1},
	} {
		if got := value(fams, c.name, c.labels...); got < c.min {
			t.Errorf("%s%v = %v, want at least %v", c.name, c.labels, got, c.min)
		}
	}
	if got := value(fams, "switchboard_errors_sent_total", "code", "unauthenticated"); got != 1 {
		t.Errorf("errors sent (unauthenticated) = %v, want 1: the wrong password", got)
	}
	for _, name := range []string{"switchboard_storage_unavailable", "switchboard_storage_commit_errors_total"} {
		if got := value(fams, name); got != 0 {
			t.Errorf("%s = %v, want 0", name, got)
		}
	}
	// The dashboard and alert rules are written against knownMetrics
	// (ops_test.go): each is served by a real broker.
	for _, name := range knownMetrics {
		if fams[name] == nil {
			t.Errorf("%s (used by the dashboard or rules) is not served", name)
		}
	}
	for _, id := range []string{chat, vw.GetVisitorId(), aw.GetAgentId(), "Where is my order"} {
		if bytes.Contains(text, []byte(id)) {
			t.Errorf("/metrics shows %q", id)
		}
	}
	promtoolCheck(t, text)
}

// refusals opens a websocket from a foreign origin, one without the
// upgrade, and one whose Hello has a wrong password.
func refusals(t *testing.T, addr string) {
	t.Helper()
	for _, origin := range []string{"http://evil.example", ""} {
		req, _ := http.NewRequest("GET", "http://"+addr+"/ws/visitor", nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Sec-WebSocket-Version", "13")
			req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode < 400 {
			t.Fatalf("origin %q: %d", origin, res.StatusCode)
		}
	}
	c := dial(t, addr, "agent", false)
	if _, err := c.Hello(ctxT(t), &messages.Hello{Login: "alice@demo", Password: "wrong"}); err == nil {
		t.Fatal("a wrong password said Hello")
	}
}

// promtoolPath finds promtool (Debian's prometheus package). Without it
// the test is skipped, unless REQUIRE_PROMTOOL is set (CI: .ci/run
// installs it), where it fails.
func promtoolPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("REQUIRE_PROMTOOL") != "" {
			t.Fatal("promtool is not installed (apt-get install prometheus) and REQUIRE_PROMTOOL is set")
		}
		t.Skip("promtool is not installed (apt-get install prometheus)")
	}
	return path
}

// promtoolCheck runs promtool check metrics on text.
func promtoolCheck(t *testing.T, text []byte) {
	t.Helper()
	cmd := exec.Command(promtoolPath(t), "check", "metrics")
	cmd.Stdin = bytes.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestMetricsOff: with metrics off, /metrics is 404 and no registry
// exists; the broker works as before.
func TestMetricsOff(t *testing.T) {
	m := startBroker(t, t.TempDir(), func(c *Config) { c.NoMetrics = true })
	if m.reg != nil {
		t.Fatal("a registry with metrics off")
	}
	res, err := http.Get("http://" + m.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /metrics with metrics off: %d", res.StatusCode)
	}
	v, _ := newVisitor(t, m.Addr(), false)
	mustChatID(t, requestChat(t, v, "sales", "en", "hello"))
}

// TestMetricsFlag: -metrics and SWITCHBOARD_METRICS, on by default.
func TestMetricsFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  string
		off  bool
	}{{nil, "", false}, {[]string{"-metrics=false"}, "", true}, {nil, "false", true}, {[]string{"-metrics=true"}, "false", false}} {
		getenv := func(name string) string {
			if name == "SWITCHBOARD_METRICS" {
				return c.env
			}
			return ""
		}
		cfg, err := parseServe(c.args, getenv, io.Discard)
		if err != nil || cfg.NoMetrics != c.off {
			t.Errorf("%v SWITCHBOARD_METRICS=%q: NoMetrics %v, %v; want %v", c.args, c.env, cfg.NoMetrics, err, c.off)
		}
	}
	_, err := parseServe(nil, func(name string) string {
		if name == "SWITCHBOARD_METRICS" {
			return "maybe"
		}
		return ""
	}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "SWITCHBOARD_METRICS") {
		t.Fatalf("SWITCHBOARD_METRICS=maybe: %v", err)
	}
}
