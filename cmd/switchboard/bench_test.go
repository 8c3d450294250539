package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/bench"
)

// TestBenchHarness runs the load harness end to end on a tiny profile: the
// broker, the echo server and a connection holder are child processes (this
// test binary, as TestMain allows), and the report must hold the figures
// and invariants that load testers read.
func TestBenchHarness(t *testing.T) {
	out := t.TempDir()
	p := bench.Profile{Name: "test", Agents: 4, Departments: 2, Languages: 2, MessageBytes: 64,
		ConvMessages: 2, AssignVisitors: 4, AssignPhase: time.Second,
		Chats: 4, Window: 2, MessagePhase: time.Second, IdleConnections: 40, IdlePerHolder: 20, CrashCycles: 1, BadInputRounds: 1,
		RoutingChats: 30, RoutingOverhead: true}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var summary strings.Builder
	rep, err := bench.Run(ctx, bench.Config{Profile: p, Out: out, Command: benchChild, Progress: tlogWriter{t}, Summary: &summary})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(summary.String())
	checkReportFields(t, out)
	checkReportFigures(t, rep)
	checkBrokerViews(t, rep, summary.String())
	svg, err := os.ReadFile(filepath.Join(out, "latency.svg"))
	if err != nil || !strings.HasPrefix(string(svg), "<svg") || !strings.Contains(string(svg), "polyline") {
		t.Errorf("latency.svg: %v, %.80s", err, svg)
	}
}

// benchChild runs this test binary as the harness's broker, echo server
// or connection holder (TestMain runs the command SWITCHBOARD_TEST_ARGS
// names).
func benchChild(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SWITCHBOARD_TEST_CHILD=1", "SWITCHBOARD_TEST_ARGS="+strings.Join(args, " "),
		"SWITCHBOARD_ARGON2_MEMORY_KIB=64")
	return cmd
}

// reportFields are report.json's field names that load testers' scripts
// rely on, in every run.
var reportFields = []string{"profile", "duration_s",
	"chats.started", "chats.assigned", "chats.completed", "chats.assignments_per_s",
	"chats.assign_latency_ms.p50", "chats.assign_latency_ms.p90", "chats.assign_latency_ms.p99", "chats.assign_latency_ms.p999", "chats.assign_latency_ms.max",
	"messages.sent", "messages.delivered", "messages.per_s",
	"messages.latency_ms.p50", "messages.latency_ms.p99", "messages.latency_ms.p999", "messages.latency_ms.max",
	"baseline.echo_per_s", "baseline.echo_latency_ms.p50", "baseline.echo_latency_ms.p99",
	"ratio.messages_vs_echo",
	"server.cpu_s", "server.rss_peak_mb", "server.connections_held", "server.bytes_per_connection",
	"invariants.over_capacity", "invariants.double_assigned", "invariants.lost_messages",
	"invariants.duplicate_messages", "invariants.out_of_order",
	"routing.chats", "routing.assigned", "routing.chats_per_s"}

// checkReportFields: report.json has the field names load testers'
// scripts rely on.
func checkReportFields(t *testing.T, out string) {
	t.Helper()
	checkFields(t, out, append(reportFields, "crash.cycles", "crash.recovered", "routing.assignments_per_s_no_records"))
}

// checkFields: report.json has every field of paths (dotted).
func checkFields(t *testing.T, out string, paths []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		var v any = raw
		for _, k := range strings.Split(path, ".") {
			m, _ := v.(map[string]any)
			v = m[k]
		}
		if v == nil {
			t.Errorf("report.json has no %s", path)
		}
	}
}

// checkReportFigures: the figures are there and the invariants hold.
func checkReportFigures(t *testing.T, rep *bench.Report) {
	t.Helper()
	checkRunFigures(t, rep, 40)
	if c := rep.Crash; c.Cycles != 1 || c.AckedBeforeKill == 0 || c.Recovered != c.AckedBeforeKill {
		t.Errorf("crash cycle: %+v", c)
	}
	checkRoutingFigures(t, rep.Routing)
}

// checkRunFigures: the figures every run has are there (chats,
// messages, the echo baseline, the server's view with at least conns
// connections held, bad input) and the invariants hold.
func checkRunFigures(t *testing.T, rep *bench.Report, conns int) {
	t.Helper()
	if rep.Chats.Assigned == 0 || rep.Chats.Completed == 0 || rep.Messages.Delivered == 0 || rep.Messages.Delivered != rep.Messages.Sent {
		t.Errorf("chats %+v, messages %+v", rep.Chats, rep.Messages)
	}
	if rep.Baseline.EchoPerS <= 0 || rep.Ratio.MessagesVsEcho <= 0 {
		t.Errorf("baseline %+v, ratio %+v", rep.Baseline, rep.Ratio)
	}
	if !rep.Server.Measured || rep.Server.ConnectionsHeld < conns || rep.Server.CPUS <= 0 || rep.Server.RSSPeakMB <= 0 {
		t.Errorf("server %+v", rep.Server)
	}
	inv := rep.Invariants
	if inv.OverCapacity+inv.DoubleAssigned+inv.LostMessages+inv.DuplicateMessages+inv.OutOfOrder+inv.AgentStateMismatch != 0 || len(inv.Notes) != 0 || rep.Errors != 0 {
		t.Errorf("invariants %+v, errors %d (%s)", rep.Invariants, rep.Errors, rep.LastError)
	}
	if b := rep.BadInput; b.Tried == 0 || b.Unexpected != 0 {
		t.Errorf("bad input: %+v", b)
	}
}

// checkRoutingFigures: the routing phase ran its chats (each assigned at
// least once) and the cost of routing records was measured against a
// broker without them.
func checkRoutingFigures(t *testing.T, rt bench.Routing) {
	t.Helper()
	if rt.Chats != 30 || rt.Assigned < rt.Chats || rt.StatusChanges == 0 || rt.AssignmentsPerSNoRecords <= 0 {
		t.Errorf("routing: %+v", rt)
	}
}

// checkBrokerViews: each of the broker's phases has its view from
// /metrics, or says "not served" (a broker without /metrics, as before
// the metrics work is merged); the echo server's phases have none.
func checkBrokerViews(t *testing.T, rep *bench.Report, summary string) {
	t.Helper()
	broker := 0
	for _, ph := range rep.Phases {
		b := ph.Broker
		switch {
		case strings.HasPrefix(ph.Name, "echo"):
			if b != nil {
				t.Errorf("phase %s (the echo server) has a broker view", ph.Name)
			}
		case b == nil:
			t.Errorf("phase %s has no broker view", ph.Name)
		case b.Served && (b.FsyncMs == nil || b.FsyncMs.Count == 0 || b.BatchRecords.Mean < 1 || b.ConnectionsOpen <= 0):
			t.Errorf("phase %s: broker view %+v", ph.Name, b)
		case b.Served && (b.Runtime == nil || (b.PerMessage == nil) == (b.PerAssignment == nil)):
			t.Errorf("phase %s: no runtime figures or cost per unit: %+v", ph.Name, b)
		case !b.Served && (b.FsyncMs != nil || b.BatchRecords != nil):
			t.Errorf("phase %s: figures without /metrics: %+v", ph.Name, b)
		case !b.Served && !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(ph.Name)+` +not served$`).MatchString(summary):
			t.Errorf("the summary does not say %s's view is not served:\n%s", ph.Name, summary)
		default:
			broker++
			checkStages(t, ph)
		}
	}
	if broker == 0 {
		t.Error("no broker phase")
	}
}

// checkStages: a message phase served by the broker has the four message
// stages, an assignment phase none.
func checkStages(t *testing.T, ph bench.Phase) {
	t.Helper()
	if b := ph.Broker; b.Served && (b.PerMessage != nil) != (len(b.StagesMs) == 4) {
		t.Errorf("phase %s: message stages %+v (the message phases have all four, the others none)", ph.Name, b.StagesMs)
	}
}
