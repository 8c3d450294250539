package bench

import (
	"math"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Hist is a latency histogram (an HDR histogram: two significant figures,
// so buckets under 1% wide, from 1 µs to about 7 minutes). Its zero value
// is ready; Record is safe from any goroutine and does not allocate after
// the first. Percentiles are read off bucket upper bounds, so they are at
// most 1% high; the maximum is exact.
type Hist struct {
	mu  sync.Mutex
	h   *hdrhistogram.Histogram
	max int64 // ns; kept apart because a longer latency is clamped in h
}

const (
	histMinNs   = 1000
	histMaxNs   = int64(7 * time.Minute)
	histSigFigs = 2
)

// Record adds one latency.
func (h *Hist) Record(d time.Duration) {
	ns := max(int64(d), 0)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.h == nil {
		h.h = hdrhistogram.New(histMinNs, histMaxNs, histSigFigs)
	}
	h.h.RecordValue(min(ns, histMaxNs)) // in range: never fails
	h.max = max(h.max, ns)
}

// Count is how many latencies were recorded.
func (h *Hist) Count() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.h == nil {
		return 0
	}
	return uint64(h.h.TotalCount())
}

// Quantile returns the latency below which a fraction q of the samples
// fall, in milliseconds (0 when empty).
func (h *Hist) Quantile(q float64) float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.h == nil || h.h.TotalCount() == 0 {
		return 0
	}
	if q >= 1 {
		return float64(h.max) / 1e6
	}
	return float64(min(h.h.ValueAtQuantile(q*100), h.max)) / 1e6
}

// Latency is the summary of one histogram, in milliseconds.
type Latency struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

// Summary returns the usual percentiles.
func (h *Hist) Summary() Latency {
	return Latency{Count: h.Count(), P50: round3(h.Quantile(0.5)), P90: round3(h.Quantile(0.9)),
		P99: round3(h.Quantile(0.99)), P999: round3(h.Quantile(0.999)), Max: round3(h.Quantile(1))}
}

// Curve returns (percentile, ms) points for drawing: denser toward the tail.
func (h *Hist) Curve() [][2]float64 {
	if h.Count() == 0 {
		return nil
	}
	var pts [][2]float64
	for _, p := range []float64{0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100} {
		pts = append(pts, [2]float64{p, h.Quantile(p / 100)})
	}
	return pts
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
