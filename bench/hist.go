package bench

import (
	"math"
	"sync/atomic"
	"time"
)

// Hist is a latency histogram whose buckets are 1% wide, from 1 µs to
// about 7 minutes; Record is safe from any goroutine and never allocates.
// Percentiles are read off bucket upper bounds, so they are at most 1% high.
type Hist struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	max    atomic.Int64
}

const (
	histGrowth  = 1.01
	histMinNs   = 1000.0
	histBuckets = 2000
)

var histLogGrowth = math.Log(histGrowth)

func histBucket(ns int64) int {
	if float64(ns) <= histMinNs {
		return 0
	}
	i := int(math.Log(float64(ns)/histMinNs)/histLogGrowth) + 1
	if i >= histBuckets {
		i = histBuckets - 1
	}
	return i
}

// Record adds one latency.
func (h *Hist) Record(d time.Duration) {
	ns := int64(d)
	if ns < 0 {
		ns = 0
	}
	h.counts[histBucket(ns)].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if ns <= m || h.max.CompareAndSwap(m, ns) {
			return
		}
	}
}

// Count is how many latencies were recorded.
func (h *Hist) Count() uint64 { return h.n.Load() }

// Quantile returns the latency below which a fraction q of the samples
// fall, in milliseconds (0 when empty).
func (h *Hist) Quantile(q float64) float64 {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	if q >= 1 {
		return float64(h.max.Load()) / 1e6
	}
	rank := uint64(math.Ceil(q * float64(n)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			upper := histMinNs * math.Pow(histGrowth, float64(i))
			return math.Min(upper, float64(h.max.Load())) / 1e6
		}
	}
	return float64(h.max.Load()) / 1e6
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
