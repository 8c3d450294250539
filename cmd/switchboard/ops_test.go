package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// knownMetrics are the broker's metric names (the README's metric list).
// The dashboard and the rules are checked against this list, and
// TestMetrics checks that a real broker serves every one of them.
var knownMetrics = []string{
	"switchboard_connections_open", "switchboard_connections_accepted_total", "switchboard_connections_refused_total",
	"switchboard_connections_closed_total", "switchboard_frames_in_total", "switchboard_frames_out_total",
	"switchboard_errors_sent_total", "switchboard_rate_limited_total", "switchboard_message_delivery_seconds",
	"switchboard_http_requests_total", "switchboard_http_request_duration_seconds",
	"switchboard_storage_batch_records", "switchboard_storage_fsync_seconds", "switchboard_storage_written_bytes_total",
	"switchboard_storage_commit_errors_total", "switchboard_storage_unavailable",
	"switchboard_pebble_compactions_total", "switchboard_pebble_wal_bytes", "switchboard_pebble_disk_usage_bytes",
	"switchboard_pebble_memtable_bytes", "switchboard_pebble_read_amplification",
	"switchboard_chats_requested_total", "switchboard_chats_refused_total", "switchboard_chats_queued_total",
	"switchboard_chats_assigned_total", "switchboard_chats_closed_total", "switchboard_chats_transferred_total",
	"switchboard_chats_waiting", "switchboard_chats_active", "switchboard_queue_longest_wait_seconds",
	"switchboard_assignment_seconds", "switchboard_wait_seconds", "switchboard_messages_stored_total",
	"switchboard_message_durable_seconds", "switchboard_agents", "switchboard_offers_total", "switchboard_actors_active",
	"switchboard_gc_pause_seconds", "switchboard_build_info", "switchboard_message_stage_seconds",
}

// histograms are the known metrics that are histograms: only these have
// _bucket, _sum and _count series.
var histograms = []string{"switchboard_message_delivery_seconds", "switchboard_http_request_duration_seconds",
	"switchboard_storage_batch_records", "switchboard_storage_fsync_seconds", "switchboard_assignment_seconds",
	"switchboard_wait_seconds", "switchboard_message_durable_seconds", "switchboard_gc_pause_seconds",
	"switchboard_message_stage_seconds"}

var metricName = regexp.MustCompile(`\bswitchboard_[a-z0-9_]+`)

// metricsIn returns the metric names expr uses, and an error line for each
// that is not known (a histogram's series by their base name).
func metricsIn(expr string) (names, unknown []string) {
	for _, n := range metricName.FindAllString(expr, -1) {
		base := n
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(n, suf); ok && slices.Contains(histograms, b) {
				base = b
			}
		}
		names = append(names, base)
		if !slices.Contains(knownMetrics, base) {
			unknown = append(unknown, n)
		}
	}
	return names, unknown
}

// The Grafana dashboard is valid JSON; every panel has a query, every query
// names only known metrics, and it shows what operators asked for.
func TestGrafanaDashboard(t *testing.T) {
	data, err := os.ReadFile("ops/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	if dash.Title == "" || dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("dashboard without title, uid or panels")
	}
	used := map[string]bool{}
	for _, p := range dash.Panels {
		if p.Title == "" || len(p.Targets) == 0 {
			t.Errorf("panel %q has no title or no query", p.Title)
		}
		for _, tg := range p.Targets {
			names, unknown := metricsIn(tg.Expr)
			if len(names) == 0 || len(unknown) > 0 {
				t.Errorf("panel %q: query %q names no metric or unknown ones %v", p.Title, tg.Expr, unknown)
			}
			for _, n := range names {
				used[n] = true
			}
		}
	}
	for _, want := range []string{"switchboard_chats_waiting", "switchboard_queue_longest_wait_seconds",
		"switchboard_assignment_seconds", "switchboard_messages_stored_total", "switchboard_message_durable_seconds",
		"switchboard_message_delivery_seconds", "switchboard_storage_fsync_seconds", "switchboard_storage_batch_records",
		"switchboard_connections_open", "switchboard_errors_sent_total", "switchboard_storage_unavailable"} {
		if !used[want] {
			t.Errorf("no panel shows %s", want)
		}
	}
}

// The alert rules pass promtool's check and its unit tests
// (ops/alerts_test.yml), and name only known metrics. promtool is
// in Debian's prometheus package; without it the test skips, unless
// REQUIRE_PROMTOOL=1 (CI).
func TestAlertRules(t *testing.T) {
	data, err := os.ReadFile("ops/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SwitchboardQueueWaitOverTarget", "SwitchboardStorageUnavailable", "SwitchboardFsyncSlow", "SwitchboardErrorRateHigh"} {
		if !strings.Contains(string(data), "alert: "+want+"\n") {
			t.Errorf("no rule %s", want)
		}
	}
	for _, line := range strings.Split(string(data), "\n") {
		if _, unknown := metricsIn(line); len(unknown) > 0 {
			t.Errorf("alerts.yml names unknown metrics %v", unknown)
		}
	}
	promtool := promtoolPath(t)
	out, err := exec.Command(promtool, "check", "rules", "ops/alerts.yml").CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("promtool check rules: %s", out)
	}
	// Each alert fires on the series that should set it off (and the
	// queue and fsync ones not before their "for").
	test := exec.Command(promtool, "test", "rules", "alerts_test.yml")
	test.Dir = "ops"
	if out, err := test.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}
