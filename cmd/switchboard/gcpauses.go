// The garbage collector's pauses as a Prometheus histogram fine enough
// for a p99 (the bench reads it per phase).

package main

import (
	"math"
	"runtime/metrics"

	"github.com/prometheus/client_golang/prometheus"
)

// gcPausesName is the runtime/metrics histogram of each stop-the-world
// pause the garbage collector makes (two a cycle), since Go 1.22.
const gcPausesName = "/sched/pauses/total/gc:seconds"

// gcPauses serves gcPausesName as switchboard_gc_pause_seconds, read at
// each scrape. The Go collector can serve the same series
// (go_sched_pauses_total_gc_seconds), but folds it into buckets a decade
// apart (82 µs, 917 µs, 10 ms), too coarse for a p99; these are a factor
// of 2 apart, each one of the runtime's own bucket boundaries, so the
// folding loses nothing within them. It keeps no state: scrapes may run at
// once.
type gcPauses struct {
	desc   *prometheus.Desc
	bounds []float64 // upper bounds in seconds: 2^12 ns (4 µs) to 2^27 ns (134 ms)
}

func newGCPauses() *gcPauses {
	var bounds []float64
	for ns := 1 << 12; ns <= 1<<27; ns <<= 1 {
		bounds = append(bounds, float64(ns)/1e9)
	}
	return &gcPauses{bounds: bounds, desc: prometheus.NewDesc("switchboard_gc_pause_seconds",
		"The garbage collector's stop-the-world pauses, two a cycle (runtime/metrics "+gcPausesName+"); the sum is estimated from the runtime's buckets.",
		nil, nil)}
}

func (c *gcPauses) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *gcPauses) Collect(ch chan<- prometheus.Metric) {
	s := []metrics.Sample{{Name: gcPausesName}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return // a runtime without it
	}
	count, sum, cum := fold(s[0].Value.Float64Histogram(), c.bounds)
	ch <- prometheus.MustNewConstHistogram(c.desc, count, sum, cum)
}

// fold turns a runtime/metrics histogram (Buckets are the boundaries,
// one more than Counts; bucket i is [Buckets[i], Buckets[i+1])) into
// cumulative counts at bounds: a bucket counts under every bound at or
// above its upper boundary. The sum takes each bucket's midpoint (its
// finite end when it is open).
func fold(h *metrics.Float64Histogram, bounds []float64) (count uint64, sum float64, cum map[float64]uint64) {
	cum = make(map[float64]uint64, len(bounds))
	for _, b := range bounds {
		cum[b] = 0
	}
	for i, n := range h.Counts {
		if n == 0 {
			continue
		}
		lo, hi := h.Buckets[i], h.Buckets[i+1]
		count += n
		switch {
		case math.IsInf(hi, 1):
			sum += float64(n) * lo
		case !math.IsInf(lo, -1):
			sum += float64(n) * (lo + hi) / 2
		}
		for _, b := range bounds {
			if hi <= b {
				cum[b] += n
			}
		}
	}
	return count, sum, cum
}
