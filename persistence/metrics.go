// The store's Prometheus metrics: the writer's batches and fsyncs, and
// Pebble's own numbers, read when scraped.

package persistence

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the store's metrics. NewMetrics registers them; Open with
// Options.Metrics set records each batch's size, commit time and bytes
// into them, and a scrape reads the store's state and Pebble's metrics
// (db.Metrics()) at that moment. One Metrics serves one open Store at a
// time (the last opened). A nil *Metrics is off: the writer records
// nothing.
type Metrics struct {
	batch        prometheus.Histogram
	fsync        prometheus.Histogram
	written      prometheus.Counter
	commitErrors prometheus.Counter

	store atomic.Pointer[Store] // read at scrape time

	unavailable, compactions, walBytes, diskUsage, memtable, readAmp *prometheus.Desc
}

// NewMetrics builds the store's metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "switchboard_storage_batch_records",
			Help:    "Write requests committed per synced batch (group commit).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096}}),
		fsync: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "switchboard_storage_fsync_seconds",
			Help:    "Commit and fsync of one batch.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}}),
		written: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_storage_written_bytes_total",
			Help: "Bytes of committed batches (keys, values and Pebble's batch headers)."}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_storage_commit_errors_total",
			Help: "Batches that failed to commit (each a storage fault: writes fail until Pebble reopens)."}),
		unavailable: prometheus.NewDesc("switchboard_storage_unavailable",
			"1 while writes fail: a storage fault, or free disk space under -min-free-mb; else 0.", nil, nil),
		compactions: prometheus.NewDesc("switchboard_pebble_compactions_total",
			"Pebble's compactions since the store was opened.", nil, nil),
		walBytes: prometheus.NewDesc("switchboard_pebble_wal_bytes",
			"Size of Pebble's write-ahead log files on disk.", nil, nil),
		diskUsage: prometheus.NewDesc("switchboard_pebble_disk_usage_bytes",
			"Disk space Pebble uses (tables, log, manifests).", nil, nil),
		memtable: prometheus.NewDesc("switchboard_pebble_memtable_bytes",
			"Bytes allocated to Pebble's memtables.", nil, nil),
		readAmp: prometheus.NewDesc("switchboard_pebble_read_amplification",
			"Pebble's read amplification: sublevels of L0 plus non-empty levels below.", nil, nil),
	}
	reg.MustRegister(m)
	return m
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range []prometheus.Collector{m.batch, m.fsync, m.written, m.commitErrors} {
		c.Describe(ch)
	}
	for _, d := range []*prometheus.Desc{m.unavailable, m.compactions, m.walBytes, m.diskUsage, m.memtable, m.readAmp} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: the writer's metrics, and the
// store's state and Pebble's metrics now.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range []prometheus.Collector{m.batch, m.fsync, m.written, m.commitErrors} {
		c.Collect(ch)
	}
	s := m.store.Load()
	if s == nil {
		return
	}
	down := 0.0
	if !s.Healthy() || s.DiskLow() {
		down = 1
	}
	ch <- prometheus.MustNewConstMetric(m.unavailable, prometheus.GaugeValue, down)
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.db == nil {
		return // closed, or a fault keeps it closed: no numbers of Pebble's
	}
	pm := s.db.Metrics()
	ch <- prometheus.MustNewConstMetric(m.compactions, prometheus.CounterValue, float64(pm.Compact.Count))
	ch <- prometheus.MustNewConstMetric(m.walBytes, prometheus.GaugeValue, float64(pm.WAL.PhysicalSize))
	ch <- prometheus.MustNewConstMetric(m.diskUsage, prometheus.GaugeValue, float64(pm.DiskSpaceUsage()))
	ch <- prometheus.MustNewConstMetric(m.memtable, prometheus.GaugeValue, float64(pm.MemTable.Size))
	ch <- prometheus.MustNewConstMetric(m.readAmp, prometheus.GaugeValue, float64(pm.ReadAmp()))
}

// committed records one batch: its requests, how long its commit took
// and its bytes, or a failed commit.
func (m *Metrics) committed(requests int, seconds float64, bytes int, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.commitErrors.Inc()
		return
	}
	m.batch.Observe(float64(requests))
	m.fsync.Observe(seconds)
	m.written.Add(float64(bytes))
}
