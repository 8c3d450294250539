package persistence

import (
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/switchboard-chat/switchboard/messages"
)

// gather returns the registry's families by name.
func gather(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// TestMetricsRecordBatches: with Options.Metrics, each synced batch is
// counted with its records, commit time and bytes, and a scrape reads
// Pebble's metrics and the store's state; after Close, Pebble's are gone
// and the rest stays.
func TestMetricsRecordBatches(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	s, err := Open(t.TempDir(), Options{Logger: slog.New(slog.DiscardHandler), Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		appendSync(t, s, "c1", []*messages.ChatEvent{msgEvent("c1", uint64(i+1), "hello")}, nil, false)
	}
	f := gather(t, reg)
	checkBatchMetrics(t, f, s, "fsync")
	for _, name := range []string{"switchboard_pebble_compactions_total", "switchboard_pebble_wal_bytes", "switchboard_pebble_disk_usage_bytes",
		"switchboard_pebble_memtable_bytes", "switchboard_pebble_read_amplification"} {
		if f[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	if f["switchboard_pebble_disk_usage_bytes"].GetMetric()[0].GetGauge().GetValue() <= 0 {
		t.Error("Pebble uses no disk")
	}
	if v := f["switchboard_storage_unavailable"].GetMetric()[0].GetGauge().GetValue(); v != 0 {
		t.Errorf("unavailable = %v on a healthy store", v)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if f = gather(t, reg); f["switchboard_pebble_wal_bytes"] != nil || f["switchboard_storage_batch_records"] == nil {
		t.Error("after Close: Pebble's metrics still read, or the writer's gone")
	}
}

// TestMetricsRecordReplicatedBatches: a replicated store records each
// batch it replicates, as a single node records its synced batches (the
// time is the round from the proposal to this node's apply).
func TestMetricsRecordReplicatedBatches(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := Open(t.TempDir(), Options{Logger: slog.New(slog.DiscardHandler), Metrics: NewMetrics(reg), Replicated: true, NoHistory: true, NoStats: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Attach(&memLog{stores: []*Store{s}})
	for i := range 3 {
		appendSync(t, s, "c1", []*messages.ChatEvent{msgEvent("c1", uint64(i+1), "hello")}, nil, false)
	}
	checkBatchMetrics(t, gather(t, reg), s, "commit")
}

// TestMetricsOff: without Options.Metrics the writer records nothing and
// nothing is registered anywhere (there is nothing to register on).
func TestMetricsOff(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	appendSync(t, s, "c1", []*messages.ChatEvent{msgEvent("c1", 1, "a")}, nil, false)
	if s.opts.Metrics != nil {
		t.Fatal("metrics on by default")
	}
	var m *Metrics
	m.committed(1, 0.001, 10, nil) // nil: a no-op, no panic
}

// TestMetricsUnavailable: switchboard_storage_unavailable is 1 while
// writes are refused (here: the disk is low).
func TestMetricsUnavailable(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := Open(t.TempDir(), Options{Logger: slog.New(slog.DiscardHandler), Metrics: NewMetrics(reg),
		MinFreeBytes: 1 << 20, FreeSpace: func(string) (uint64, error) { return 0, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := gather(t, reg)["switchboard_storage_unavailable"].GetMetric()[0].GetGauge().GetValue(); v != 1 {
		t.Fatalf("unavailable = %v with the disk low", v)
	}
}

// checkBatchMetrics: the batch histogram counts what the writer counted,
// the fsync (one node) or commit (replicated) histogram has a sample per
// batch, and the 3 appends of 5 bytes or more were counted as written.
func checkBatchMetrics(t *testing.T, f map[string]*dto.MetricFamily, s *Store, what string) {
	t.Helper()
	batches := f["switchboard_storage_batch_records"].GetMetric()[0].GetHistogram()
	if batches.GetSampleCount() != s.Stats().Batches.Load() || batches.GetSampleSum() != float64(s.Stats().Requests.Load()) || batches.GetSampleCount() < 1 {
		t.Errorf("batch histogram: %d batches of %v records; the writer counted %d and %d", batches.GetSampleCount(), batches.GetSampleSum(),
			s.Stats().Batches.Load(), s.Stats().Requests.Load())
	}
	if n := f["switchboard_storage_fsync_seconds"].GetMetric()[0].GetHistogram().GetSampleCount(); n != batches.GetSampleCount() {
		t.Errorf("%s histogram has %d samples, want %d", what, n, batches.GetSampleCount())
	}
	if b := f["switchboard_storage_written_bytes_total"].GetMetric()[0].GetCounter().GetValue(); b < 3*5 {
		t.Errorf("written bytes = %v", b)
	}
}
