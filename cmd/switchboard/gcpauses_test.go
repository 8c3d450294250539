package main

import (
	"maps"
	"math"
	"runtime"
	"runtime/metrics"
	"slices"
	"testing"
)

// fold sums the runtime's buckets under each bound at or above their
// upper boundary; the open bucket counts in the total only.
func TestGCPausesFold(t *testing.T) {
	h := &metrics.Float64Histogram{
		Buckets: []float64{math.Inf(-1), 0, 4e-6, 5e-6, 8e-6, 16e-6, math.Inf(1)},
		Counts:  []uint64{0, 3, 2, 1, 4, 1},
	}
	count, sum, cum := fold(h, []float64{4e-6, 8e-6, 16e-6})
	want := map[float64]uint64{4e-6: 3, 8e-6: 6, 16e-6: 10}
	if count != 11 || !maps.Equal(cum, want) {
		t.Errorf("fold: %d, %v; want 11, %v", count, cum, want)
	}
	// Midpoints: 3×2 + 2×4.5 + 1×6.5 + 4×12 µs, and the open bucket's 16.
	if wantSum := 85.5e-6; math.Abs(sum-wantSum) > 1e-12 {
		t.Errorf("sum %v, want %v", sum, wantSum)
	}
}

// Every bound is one of the runtime's own boundaries, so folding moves no
// pause across a bound; and a collection is counted.
func TestGCPausesBounds(t *testing.T) {
	runtime.GC()
	s := []metrics.Sample{{Name: gcPausesName}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		t.Fatalf("%s is not a histogram in this runtime", gcPausesName)
	}
	h := s[0].Value.Float64Histogram()
	c := newGCPauses()
	for _, b := range c.bounds {
		if !slices.Contains(h.Buckets, b) {
			t.Errorf("bound %v is not a boundary of the runtime's histogram", b)
		}
	}
	if count, _, _ := fold(h, c.bounds); count < 2 {
		t.Errorf("%d pauses after a collection, want at least 2", count)
	}
}
