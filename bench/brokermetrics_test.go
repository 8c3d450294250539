package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const earlierScrape = `# TYPE switchboard_storage_batch_records histogram
switchboard_storage_batch_records_bucket{le="1"} 10
switchboard_storage_batch_records_bucket{le="4"} 50
switchboard_storage_batch_records_bucket{le="16"} 50
switchboard_storage_batch_records_bucket{le="+Inf"} 50
switchboard_storage_batch_records_sum 100
switchboard_storage_batch_records_count 50
# TYPE switchboard_storage_fsync_seconds histogram
switchboard_storage_fsync_seconds_bucket{le="0.001"} 0
switchboard_storage_fsync_seconds_bucket{le="0.002"} 50
switchboard_storage_fsync_seconds_bucket{le="0.01"} 50
switchboard_storage_fsync_seconds_bucket{le="+Inf"} 50
switchboard_storage_fsync_seconds_sum 0.075
switchboard_storage_fsync_seconds_count 50
`

const laterScrape = `# HELP switchboard_storage_batch_records Records per committed batch.
# TYPE switchboard_storage_batch_records histogram
switchboard_storage_batch_records_bucket{le="1"} 10
switchboard_storage_batch_records_bucket{le="4"} 50
switchboard_storage_batch_records_bucket{le="16"} 100
switchboard_storage_batch_records_bucket{le="+Inf"} 100
switchboard_storage_batch_records_sum 600
switchboard_storage_batch_records_count 100
# HELP switchboard_storage_fsync_seconds Commit and fsync of one batch.
# TYPE switchboard_storage_fsync_seconds histogram
switchboard_storage_fsync_seconds_bucket{le="0.001"} 0
switchboard_storage_fsync_seconds_bucket{le="0.002"} 90
switchboard_storage_fsync_seconds_bucket{le="0.01"} 100
switchboard_storage_fsync_seconds_bucket{le="+Inf"} 100
switchboard_storage_fsync_seconds_sum 0.2
switchboard_storage_fsync_seconds_count 100
# TYPE switchboard_connections_open gauge
switchboard_connections_open{kind="visitor"} 7
switchboard_connections_open{kind="agent"} 3
# TYPE go_goroutines gauge
go_goroutines 42
`

func mustParse(t *testing.T, text string) *brokerScrape {
	t.Helper()
	sc, err := parseBrokerMetrics(strings.NewReader(text))
	if err != nil || sc == nil {
		t.Fatalf("parse: %v, %v", sc, err)
	}
	return sc
}

// The broker's view of a phase: counts, means and p99s of the storage
// histograms over the phase (the difference of two scrapes), p99 as
// Prometheus's histogram_quantile estimates it, and the connections open.
func TestBrokerViewFromMetrics(t *testing.T) {
	later := mustParse(t, laterScrape)
	whole := later.view(nil)
	if !whole.Served || whole.ConnectionsOpen != 10 {
		t.Fatalf("view %+v", whole)
	}
	// 99th of 100 batch sizes: in the (4, 16] bucket, 49 of its 50 in.
	if b := *whole.BatchRecords; b.Count != 100 || b.Mean != 6 || b.P99 != 15.76 {
		t.Errorf("batch records %+v, want 100, mean 6, p99 15.76", b)
	}
	if f := *whole.FsyncMs; f.Count != 100 || f.Mean != 2 || f.P99 != 9.2 {
		t.Errorf("fsync ms %+v, want 100, mean 2, p99 9.2", f)
	}
	phase := later.view(mustParse(t, earlierScrape))
	if b := *phase.BatchRecords; b.Count != 50 || b.Mean != 10 || b.P99 != 15.88 {
		t.Errorf("batch records over the phase %+v, want 50, mean 10, p99 15.88", b)
	}
	if f := *phase.FsyncMs; f.Count != 50 || f.Mean != 2.5 || f.P99 != 9.6 {
		t.Errorf("fsync ms over the phase %+v, want 50, mean 2.5, p99 9.6", f)
	}
	// Past the last finite bound, the estimate is that bound.
	h := &promHist{count: 10, bounds: []float64{1, 2}, cum: []uint64{0, 0}}
	if q := h.quantile(0.99); q != 2 {
		t.Errorf("p99 past the buckets: %v, want 2", q)
	}
}

// Without the storage histograms (metrics off, or a broker without them)
// the view says "not served"; a malformed text is an error.
func TestBrokerViewNotServed(t *testing.T) {
	if sc, err := parseBrokerMetrics(strings.NewReader("# TYPE go_goroutines gauge\ngo_goroutines 42\n")); sc != nil || err != nil {
		t.Fatalf("no storage metrics: %v, %v", sc, err)
	}
	if _, err := parseBrokerMetrics(strings.NewReader("switchboard_storage_fsync_seconds_bucket{le=}\n")); err == nil {
		t.Fatal("a malformed exposition was taken")
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	if sc := scrapeBroker(context.Background(), addr); sc != nil {
		t.Fatalf("a 404 scraped as %+v", sc)
	}
	if v := (*brokerScrape)(nil).view(nil); v.Served || v.FsyncMs != nil {
		t.Fatalf("view of nothing: %+v", v)
	}
	served := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(laterScrape))
	}))
	defer served.Close()
	if sc := scrapeBroker(context.Background(), strings.TrimPrefix(served.URL, "http://")); sc == nil || sc.conns != 10 {
		t.Fatalf("scrape of a served /metrics: %+v", sc)
	}
}

// readScrape parses a recorded /metrics text from testdata, as scraped at.
func readScrape(t *testing.T, name string, at time.Time) *brokerScrape {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc, err := parseBrokerMetrics(f)
	if err != nil || sc == nil || sc.rt == nil || sc.rt.pauses == nil {
		t.Fatalf("%s: %+v, %v", name, sc, err)
	}
	sc.at = at
	return sc
}

// recordedScrapes are testdata's two scrapes, taken 4 s apart.
func recordedScrapes(t *testing.T) (start, end *brokerScrape) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return readScrape(t, "metrics-start.txt", t0), readScrape(t, "metrics-end.txt", t0.Add(4*time.Second))
}

// The broker's runtime and storage over a phase, from two scrapes 4 s apart: a real
// broker's /metrics (metrics-start.txt) and the same with its counters
// moved by known amounts (metrics-end.txt): 2 s of CPU, 200 MB
// allocated, 20 GC cycles, 40 pauses (20 in (65.5, 131] µs, 16 in
// (131, 262] µs, 3 in (262, 524] µs, 1 in (1.05, 2.10] ms; 10 ms in all),
// 1000 batches (100 of 1 record, 400 of 2, 300 in (2, 4], 150 in (4, 8],
// 40 in (8, 16], 10 in (16, 32]; 3000 records).
func TestBrokerRuntimeFromRecordedMetrics(t *testing.T) {
	start, end := recordedScrapes(t)
	v := end.view(start)
	rt := v.Runtime
	if rt == nil || rt.CPUS != 2 || rt.AllocMB != 200 || rt.AllocMBPerS != 50 || rt.GCCount != 20 {
		t.Fatalf("runtime %+v, want 2 CPU s, 200 MB at 50 MB/s, 20 GCs", rt)
	}
	// p50: the 20th of 40 ends (65.5, 131] µs; p90: the 36th ends the
	// next; p99: 0.6 into the (1.05, 2.10] ms bucket.
	want := HistFigs{Count: 40, Mean: 0.25, P50: 0.131, P90: 0.262, P99: 1.678, MaxLE: "0.002097152"}
	if *rt.GCPauseMs != want {
		t.Errorf("GC pauses %+v, want %+v", *rt.GCPauseMs, want)
	}
	// p50: the 500th batch ends (1, 2]; p90: the 900th is 100 of 150
	// into (4, 8]; p99: the 990th ends (8, 16].
	want = HistFigs{Count: 1000, Mean: 3, P50: 2, P90: 6.667, P99: 16, MaxLE: "32"}
	if *v.BatchRecords != want {
		t.Errorf("records per fsync %+v, want %+v", *v.BatchRecords, want)
	}
	if f := *v.FsyncMs; f.Count != 1000 || f.Mean != 1.5 || f.P99 != 2.5 || f.MaxLE != "0.005" || v.ConnectionsOpen != 10 {
		t.Errorf("fsync ms %+v, connections %v", f, v.ConnectionsOpen)
	}
}

// The cost per unit divides the runtime's figures by the phase's count of
// its unit; since the start (no earlier scrape) there are totals and no
// rate; a broker without the runtime's series gives none.
func TestBrokerCostPerUnit(t *testing.T) {
	start, end := recordedScrapes(t)
	v := end.view(start)
	v.cost("messages/s", 40000)
	if c := v.PerMessage; c == nil || *c != (UnitCost{Count: 40000, CPUUs: 50, AllocBytes: 5000}) || v.PerAssignment != nil {
		t.Errorf("per message %+v, per assignment %+v; want 50 µs and 5000 B of 40000", c, v.PerAssignment)
	}
	a := end.view(start)
	a.cost("assignments/s", 999.6) // a rate times a duration
	if c := a.PerAssignment; c == nil || *c != (UnitCost{Count: 1000, CPUUs: 2000.8, AllocBytes: 200080}) || a.PerMessage != nil {
		t.Errorf("per assignment %+v, per message %+v", c, a.PerMessage)
	}

	// Since the start (no earlier scrape): totals, no rate.
	if rt := end.view(nil).Runtime; rt.CPUS != 2.7 || rt.AllocMBPerS != 0 || rt.GCCount != 29 || rt.GCPauseMs.Count != 58 {
		t.Errorf("since the start: %+v", rt)
	}
	// The recorded start: 12 batches of one record each. A batch holds one
	// at least, so the first bucket spans [1, 1], not (0, 1].
	if b := *start.view(nil).BatchRecords; b != (HistFigs{Count: 12, Mean: 1, P50: 1, P90: 1, P99: 1, MaxLE: "1"}) {
		t.Errorf("one-record batches: %+v", b)
	}
	// A broker without the runtime's series: no runtime figures, no cost.
	bare := mustParse(t, laterScrape).view(nil)
	if bare.cost("messages/s", 100); bare.Runtime != nil || bare.PerMessage != nil {
		t.Errorf("figures from nothing: %+v", bare)
	}
}

// The summary's broker tables: the distribution of records per fsync, then
// the cost per unit; each line within 100 columns.
func TestBrokerTables(t *testing.T) {
	start, end := recordedScrapes(t)
	rep := &Report{Profile: "test"}
	for _, ph := range []struct {
		name, unit string
		n          float64
	}{{"assign-half", "assignments/s", 1000}, {"msg-max", "messages/s", 40000}} {
		v := end.view(start)
		v.cost(ph.unit, ph.n)
		rep.Phases = append(rep.Phases, Phase{Name: ph.name, DurationS: 4, PerS: ph.n / 4, Unit: ph.unit, Broker: v})
	}
	rep.Phases = append(rep.Phases, Phase{Name: "msg-half", DurationS: 4, Unit: "messages/s", Broker: &BrokerView{}},
		Phase{Name: "echo-max", DurationS: 4, Unit: "messages/s"})
	var out strings.Builder
	rep.printTable(&out, "/tmp/x")
	text := out.String()
	t.Log(text)
	for _, line := range []string{
		`assign-half +1000 +2\.0 / 6\.7 / 16\.0 / ≤32 \(3\.0\) +1\.50 / 2\.50 +10`,
		`msg-half +not served`,
		`assign-half +2\.00 +2000\.0 µs/assign +50\.0 +200\.0 KB/assign +20 +1\.678`,
		`msg-max +2\.00 +50\.0 µs/msg +50\.0 +5\.0 KB/msg +20 +1\.678`,
	} {
		if !regexp.MustCompile(`(?m)^` + line + `$`).MatchString(text) {
			t.Errorf("no line %q in\n%s", line, text)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if n := utf8.RuneCountInString(line); n > 100 && regexp.MustCompile(`^(broker|assign-|msg-)`).MatchString(line) {
			t.Errorf("%d columns: %q", n, line)
		}
	}
}

// stageText is switchboard_message_stage_seconds with, for each stage in
// order, how many observations fell in (0, 1], (1, 2] and (2, 4] ms.
func stageText(per [4][3]uint64) string {
	var b strings.Builder
	b.WriteString("# TYPE switchboard_message_stage_seconds histogram\n")
	for i, s := range messageStages {
		var cum uint64
		for j, le := range []string{"0.001", "0.002", "0.004"} {
			cum += per[i][j]
			fmt.Fprintf(&b, "switchboard_message_stage_seconds_bucket{stage=%q,le=%q} %d\n", s, le, cum)
		}
		fmt.Fprintf(&b, "switchboard_message_stage_seconds_bucket{stage=%q,le=\"+Inf\"} %d\n", s, cum)
		fmt.Fprintf(&b, "switchboard_message_stage_seconds_sum{stage=%q} %g\n", s, 0.001*float64(cum))
		fmt.Fprintf(&b, "switchboard_message_stage_seconds_count{stage=%q} %d\n", s, cum)
	}
	return b.String()
}

// The message stages over a phase: each stage's p50 and p99 from the
// difference of two scrapes, in the summary's table for the message
// phases only; a broker without the breakdown (or a phase with no
// message) has none.
func TestBrokerMessageStages(t *testing.T) {
	earlier := mustParse(t, earlierScrape+stageText([4][3]uint64{{10}, {10}, {10}, {20}}))
	// Over the phase, 100 messages: queued all within 1 ms; stored 50 in
	// (0, 1], 50 in (1, 2]; fanned out the same; written on two sockets
	// each, 100 in (1, 2] and 100 in (2, 4].
	later := mustParse(t, laterScrape+stageText([4][3]uint64{{110}, {60, 50}, {60, 50}, {20, 100, 100}}))
	v := later.view(earlier)
	want := []StageFigs{
		{"queued", HistFigs{Count: 100, Mean: 1, P50: 0.5, P90: 0.9, P99: 0.99, MaxLE: "0.001"}},
		{"stored", HistFigs{Count: 100, Mean: 1, P50: 1, P90: 1.8, P99: 1.98, MaxLE: "0.002"}},
		{"fanned_out", HistFigs{Count: 100, Mean: 1, P50: 1, P90: 1.8, P99: 1.98, MaxLE: "0.002"}},
		{"written", HistFigs{Count: 200, Mean: 1, P50: 2, P90: 3.6, P99: 3.96, MaxLE: "0.004"}},
	}
	if len(v.StagesMs) != len(want) {
		t.Fatalf("stages %+v", v.StagesMs)
	}
	for i := range want {
		if v.StagesMs[i] != want[i] {
			t.Errorf("stage %d: %+v, want %+v", i, v.StagesMs[i], want[i])
		}
	}
	if s := mustParse(t, laterScrape).view(nil).StagesMs; s != nil {
		t.Errorf("stages from a broker without them: %+v", s)
	}
	if s := earlier.view(earlier).StagesMs; s != nil {
		t.Errorf("stages of a phase with no message: %+v", s)
	}

	rep := &Report{Profile: "test"}
	rep.addPhase("msg-half", 4*time.Second, 50, 25, "messages/s", &Hist{}, cpuMark{brokerPhase: true, broker0: earlier, broker: later})
	rep.addPhase("assign-half", 4*time.Second, 50, 25, "assignments/s", &Hist{}, cpuMark{brokerPhase: true, broker0: earlier, broker: later})
	if rep.Phases[1].Broker.StagesMs != nil {
		t.Error("an assignment phase has the message stages")
	}
	var out strings.Builder
	rep.printTable(&out, "/tmp/x")
	text := out.String()
	t.Log(text)
	if !regexp.MustCompile(`(?m)^ms from read, p50 / p99 +queued +stored +fanned out +written$`).MatchString(text) ||
		!regexp.MustCompile(`(?m)^msg-half +0\.50 / 0\.99 +1\.00 / 1\.98 +1\.00 / 1\.98 +2\.00 / 3\.96$`).MatchString(text) ||
		regexp.MustCompile(`(?m)^assign-half +[0-9.]+ / `).MatchString(text) {
		t.Errorf("no stages table for msg-half alone in\n%s", text)
	}
}
