package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// The broker's metrics the report shows (see the README's metric list).
const (
	metricBatchRecords    = "switchboard_storage_batch_records"
	metricFsyncSeconds    = "switchboard_storage_fsync_seconds"
	metricConnectionsOpen = "switchboard_connections_open"
)

// BrokerView is the broker's own view of a phase, from its /metrics: the
// storage writer's batches (records per fsync) and fsync latency over the
// measured part of the phase, and the connections open at its end.
// Served is false (and the rest empty) when the broker does not serve
// /metrics (run with -metrics=false, or a build without it).
type BrokerView struct {
	Served          bool      `json:"served"`
	BatchRecords    *HistFigs `json:"batch_records,omitempty"`
	FsyncMs         *HistFigs `json:"fsync_ms,omitempty"`
	ConnectionsOpen float64   `json:"connections_open"`
}

// HistFigs sums up a Prometheus histogram over a phase: how many
// observations, their mean, and the 99th percentile estimated from the
// buckets as Prometheus's histogram_quantile does (linear within a bucket).
type HistFigs struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean"`
	P99   float64 `json:"p99"`
}

// promHist is one histogram as scraped: cumulative counts per upper bound.
type promHist struct {
	count  uint64
	sum    float64
	bounds []float64
	cum    []uint64
}

// brokerScrape is what one scrape of /metrics gave; nil when not served.
type brokerScrape struct {
	batch, fsync *promHist
	conns        float64
}

// scrapeBroker reads http://addr/metrics; nil when it is not served or
// does not hold the storage histograms.
func scrapeBroker(ctx context.Context, addr string) *brokerScrape {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil
	}
	sc, err := parseBrokerMetrics(res.Body)
	if err != nil {
		return nil
	}
	return sc
}

// parseBrokerMetrics reads the Prometheus text exposition format; it
// returns nil, nil when the storage histograms are absent.
func parseBrokerMetrics(r io.Reader) (*brokerScrape, error) {
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("bench: parsing /metrics: %w", err)
	}
	sc := &brokerScrape{batch: histOf(fams[metricBatchRecords]), fsync: histOf(fams[metricFsyncSeconds])}
	if sc.batch == nil || sc.fsync == nil {
		return nil, nil
	}
	if f := fams[metricConnectionsOpen]; f != nil {
		for _, m := range f.GetMetric() {
			sc.conns += m.GetGauge().GetValue()
		}
	}
	return sc, nil
}

// histOf is the family's histogram (its series summed, should it have
// labels); nil when absent or not a histogram.
func histOf(f *dto.MetricFamily) *promHist {
	if f == nil || f.GetType() != dto.MetricType_HISTOGRAM || len(f.GetMetric()) == 0 {
		return nil
	}
	h := &promHist{}
	for i, m := range f.GetMetric() {
		mh := m.GetHistogram()
		h.count += mh.GetSampleCount()
		h.sum += mh.GetSampleSum()
		for j, b := range mh.GetBucket() {
			if i == 0 {
				h.bounds = append(h.bounds, b.GetUpperBound())
				h.cum = append(h.cum, 0)
			}
			if j < len(h.cum) {
				h.cum[j] += b.GetCumulativeCount()
			}
		}
	}
	return h
}

// since is h minus an earlier scrape of it (nil: since the start).
func (h *promHist) since(old *promHist) *promHist {
	if old == nil || len(old.cum) != len(h.cum) {
		return h
	}
	d := &promHist{count: h.count - old.count, sum: h.sum - old.sum, bounds: h.bounds, cum: make([]uint64, len(h.cum))}
	for i := range h.cum {
		d.cum[i] = h.cum[i] - old.cum[i]
	}
	return d
}

// quantile estimates the q-quantile from the buckets as Prometheus's
// histogram_quantile does: linear within the bucket it falls in, the
// highest finite bound when it falls in +Inf.
func (h *promHist) quantile(q float64) float64 {
	if h.count == 0 {
		return 0
	}
	rank := q * float64(h.count)
	lower, below := 0.0, uint64(0)
	for i, ub := range h.bounds {
		if float64(h.cum[i]) >= rank {
			if math.IsInf(ub, 1) {
				return lower
			}
			in := h.cum[i] - below
			if in == 0 {
				return ub
			}
			return lower + (ub-lower)*(rank-float64(below))/float64(in)
		}
		lower, below = ub, h.cum[i]
	}
	return lower // the +Inf bucket is not listed: past the last bound
}

// figs sums h up, its values multiplied by scale (1000: seconds to ms).
func (h *promHist) figs(scale float64) *HistFigs {
	f := &HistFigs{Count: h.count, P99: round3(h.quantile(0.99) * scale)}
	if h.count > 0 {
		f.Mean = round3(h.sum / float64(h.count) * scale)
	}
	return f
}

// view is the broker's view of a phase from its scrapes at the start
// (old) and end (now) of the measured part.
func (now *brokerScrape) view(old *brokerScrape) *BrokerView {
	if now == nil {
		return &BrokerView{}
	}
	var ob, of *promHist
	if old != nil {
		ob, of = old.batch, old.fsync
	}
	return &BrokerView{Served: true, BatchRecords: now.batch.since(ob).figs(1), FsyncMs: now.fsync.since(of).figs(1000),
		ConnectionsOpen: now.conns}
}
