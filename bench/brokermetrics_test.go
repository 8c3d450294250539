package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
