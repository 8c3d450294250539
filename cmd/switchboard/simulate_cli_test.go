package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// syntheticTrafficFile writes a traffic file as a broker would have
// recorded it: a synthetic day of Sales (agents agent-001 to 003) run
// through the simulator, its journal and chats.
func syntheticTrafficFile(t *testing.T) string {
	t.Helper()
	s := actors.Synthetic{Department: "sales", Language: "en", ArrivalsPerHour: 30, HandlingMean: 5 * time.Minute, Agents: 3, Limit: 1, Hours: 6, Seed: 5}
	tr := s.Traffic()
	rec := &actors.Traffic{Chats: tr.Chats}
	actors.Simulate(tr, actors.Changes{}, func(in *messages.RoutingInput) { rec.Inputs = append(rec.Inputs, in) })
	path := filepath.Join(t.TempDir(), "traffic.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeTraffic(f, rec); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSimulateBadInputNamesTheFlag: each mistake is refused with an error
// that names the flag and what is wrong.
func TestSimulateBadInputNamesTheFlag(t *testing.T) {
	file := syntheticTrafficFile(t)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"-policy", "nosuch=round_robin"}, []string{"-policy", `no department "nosuch"`, "sales"}},
		{[]string{"-policy", "sales=fastest"}, []string{"-policy", `unknown policy "fastest"`}},
		{[]string{"-policy", "sales"}, []string{"-policy", "NAME=VALUE"}},
		{[]string{"-limit", "zed=2"}, []string{"-limit", `no agent "zed"`, "agent-001"}},
		{[]string{"-limit", "agent-001=lots"}, []string{"-limit", "not a positive number"}},
		{[]string{"-offer-timeout", "sales=soon"}, []string{"-offer-timeout", "duration"}},
		{[]string{"-offer-timeout", "sales=2000h"}, []string{"-offer-timeout", "24 hours"}},
		{[]string{"-add-agent", "x:dept=nosuch:langs=en"}, []string{"-add-agent", `no department "nosuch"`}},
		{[]string{"-add-agent", "agent-001:dept=sales:langs=en"}, []string{"-add-agent", "not a recorded agent's"}},
		{[]string{"-add-agent", "x:dept=sales"}, []string{"-add-agent", "langs="}},
		{[]string{"-add-agent", "x:dept=sales:langs=en:from=09:00"}, []string{"-add-agent", "from= and to="}},
		{[]string{"-add-agent", "x:dept=sales:langs=en:colour=blue"}, []string{"-add-agent", `unknown part "colour=blue"`}},
		{[]string{"-remove-agent", "zed"}, []string{"-remove-agent", `no agent "zed"`}},
		{[]string{"-shift", "agent-001=9-5"}, []string{"-shift", "HH:MM-HH:MM"}},
		{[]string{"-from", "yesterday"}, []string{"-from", "2026-01-05T09:00:00Z"}},
		{[]string{"-from", "2026-01-05T10:00:00Z", "-to", "2026-01-05T09:00:00Z"}, []string{"-to", "is not after -from"}},
		{[]string{"-format", "pdf"}, []string{"-format", "table, json or svg"}},
	} {
		out, err := simulateCmd(append([]string{"-traffic", file}, c.args...)...)
		if err == nil {
			t.Errorf("%v: no error (%s)", c.args, out)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not say %q", c.args, err, w)
			}
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-traffic", filepath.Join(t.TempDir(), "none.jsonl")}, "-traffic"},
		{[]string{"-data", filepath.Join(t.TempDir(), "none")}, "-data"},
		{[]string{"-synthetic", "-handling", "weibull"}, "-handling"},
		{[]string{"-synthetic", "-agents", "0"}, "-agents"},
		{[]string{"-synthetic", "-limit", "agent-001=2"}, "-limit"},
		{[]string{"-synthetic", "-arrivals-per-hour", "Inf"}, "-arrivals-per-hour"},
		{[]string{"-synthetic", "-arrivals-per-hour", "NaN"}, "-arrivals-per-hour"},
		{[]string{"-synthetic", "-hours", "NaN"}, "-hours"},
		{[]string{"-synthetic", "-arrivals-per-hour", "1e12"}, "at most"},
	} {
		if _, err := simulateCmd(c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one naming %s", c.args, err, c.want)
		}
	}
}

// salesTotal is the report's row of Sales over the whole period.
func salesTotal(t *testing.T, rep *simulateReport) simulateRow {
	t.Helper()
	for _, r := range rep.Rows {
		if r.Department == "sales" && r.Agent == "" && r.Hour == "" {
			return r
		}
	}
	t.Fatalf("no total row for sales: %+v", rep.Rows)
	return simulateRow{}
}

const oneMore = "new:dept=sales:langs=en:limit=1"

// TestSimulateWhatIfOneMoreAgent: unchanged, the simulation's figures
// are the recorded ones; one more agent lowers the waits, less so when
// they only work from 03:00 to 06:00.
func TestSimulateWhatIfOneMoreAgent(t *testing.T) {
	file := syntheticTrafficFile(t)
	s := salesTotal(t, simulateJSON(t, "-traffic", file))
	if *s.Simulated != *s.Recorded {
		t.Fatalf("unchanged: recorded %+v, simulated %+v", s.Recorded, s.Simulated)
	}
	more := simulateJSON(t, "-traffic", file, "-add-agent", oneMore)
	m := salesTotal(t, more)
	if m.Simulated.WaitP90Ms >= m.Recorded.WaitP90Ms || m.Simulated.Waits != m.Recorded.Waits {
		t.Fatalf("one more agent: recorded %+v, simulated %+v", m.Recorded, m.Simulated)
	}
	if len(more.Changes) != 1 || more.Changes[0] != "-add-agent "+oneMore {
		t.Fatalf("changes = %v", more.Changes)
	}
	e := salesTotal(t, simulateJSON(t, "-traffic", file, "-add-agent", oneMore+":from=03:00:to=06:00"))
	if e.Simulated.WaitP90Ms >= e.Recorded.WaitP90Ms || e.Simulated.WaitP90Ms <= m.Simulated.WaitP90Ms {
		t.Fatalf("one more agent from 03:00: %+v, all day %+v, recorded %+v", e.Simulated, m.Simulated, e.Recorded)
	}
}

// TestSimulateWhatIfFormats: the table shows both sides and the agents,
// the SVG both lines.
func TestSimulateWhatIfFormats(t *testing.T) {
	file := syntheticTrafficFile(t)
	table, err := simulateCmd("-traffic", file, "-add-agent", oneMore)
	if err != nil || !strings.Contains(table, "WAIT P90") || !strings.Contains(table, " → ") || !strings.Contains(table, "agent-001") {
		t.Fatalf("table: %v\n%s", err, table)
	}
	svg := filepath.Join(t.TempDir(), "p90.svg")
	if out, err := simulateCmd("-traffic", file, "-add-agent", oneMore, "-format", "svg", "-out", svg); err != nil {
		t.Fatalf("svg: %v %s", err, out)
	}
	if b, _ := os.ReadFile(svg); !strings.HasPrefix(string(b), "<svg") || strings.Count(string(b), "<polyline") < 2 {
		t.Fatalf("svg: %.300s", b)
	}
}

// TestSimulateWhatIfPeriod: -from and -to bound what is counted.
func TestSimulateWhatIfPeriod(t *testing.T) {
	file := syntheticTrafficFile(t)
	s := salesTotal(t, simulateJSON(t, "-traffic", file))
	bounded := simulateJSON(t, "-traffic", file, "-from", "2026-01-05T02:00:00Z", "-to", "2026-01-05T04:00:00Z")
	b := salesTotal(t, bounded)
	if b.Recorded.Requested == 0 || b.Recorded.Requested >= s.Recorded.Requested || *b.Simulated != *b.Recorded {
		t.Fatalf("02:00 to 04:00: %+v against the whole %+v", b, s)
	}
	for _, r := range bounded.Rows {
		if h := r.Hour; h != "" && (h < "2026-01-05T02:00:00Z" || h >= "2026-01-05T04:00:00Z") {
			t.Fatalf("a row outside the period: %+v", r)
		}
	}
	// The export of the period keeps the journal until its chats are
	// served: it checks, and its figures are the period's.
	part := filepath.Join(t.TempDir(), "part.jsonl")
	if out, err := simulateCmd("-traffic", file, "-to", "2026-01-05T04:00:00Z", "-export", part); err != nil {
		t.Fatalf("export: %v %s", err, out)
	}
	if out, err := simulateCmd("-traffic", part, "-check"); err != nil || !strings.Contains(out, "reproduced") {
		t.Fatalf("check of the part: %v %s", err, out)
	}
	p := salesTotal(t, simulateJSON(t, "-traffic", part, "-from", "2026-01-05T02:00:00Z", "-to", "2026-01-05T04:00:00Z"))
	if *p.Recorded != *b.Recorded || *p.Simulated != *b.Recorded {
		t.Fatalf("the exported period: %+v, %+v; want %+v", p.Recorded, p.Simulated, b.Recorded)
	}
}

// TestSimulateSyntheticReportsErlangC: the synthetic mode prints the
// simulation with Erlang C's prediction.
func TestSimulateSyntheticReportsErlangC(t *testing.T) {
	rep := simulateJSON(t, "-synthetic", "-agents", "4", "-arrivals-per-hour", "36", "-handling-mean", "5m", "-hours", "200", "-seed", "2")
	if rep.ErlangC == nil || rep.ErlangC.LoadErlangs != 3 || rep.ErlangC.Agents != 4 {
		t.Fatalf("erlang c = %+v", rep.ErlangC)
	}
	for _, r := range rep.Rows {
		if r.Department == "sales" && r.Hour == "" {
			if r.Recorded != nil || r.Simulated.Waits < 6000 {
				t.Fatalf("synthetic total: %+v", r)
			}
			return
		}
	}
	t.Fatal("no total row")
}
