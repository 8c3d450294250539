package persistence

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// TestHistogramBuckets: every value falls in its bucket, buckets are
// contiguous, and no bucket is wider than 1/128 of its first value.
func TestHistogramBuckets(t *testing.T) {
	var next uint32
	for i := uint32(0); i < histIndex(1<<32-1); i++ {
		lo, w := histBounds(i)
		if lo != next {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, next)
		}
		if lo >= histExact && float64(w)/float64(lo) > 1.0/128 {
			t.Fatalf("bucket %d is %d wide at %d", i, w, lo)
		}
		if histIndex(lo) != i || histIndex(lo+w-1) != i {
			t.Fatalf("bucket %d: [%d,%d) indexes %d..%d", i, lo, lo+w, histIndex(lo), histIndex(lo+w-1))
		}
		next = lo + w
	}
}

// TestHistogramQuantiles: exact below 256 ms; within 0.8% above, against
// the sorted samples; merging two halves gives the histogram of all.
func TestHistogramQuantiles(t *testing.T) {
	small := &messages.StatsHistogram{}
	for _, v := range []int64{5, 1, 200, 7, 9} {
		histAdd(small, v)
	}
	if p50, p90 := histQuantile(small, .5), histQuantile(small, .9); p50 != 7 || p90 != 200 {
		t.Fatalf("p50 %d p90 %d, want 7 and 200", p50, p90)
	}
	r := rand.New(rand.NewPCG(1, 2))
	a, b, all := &messages.StatsHistogram{}, &messages.StatsHistogram{}, &messages.StatsHistogram{}
	var vs []int64
	for i := range 10000 {
		v := int64(r.ExpFloat64() * 60000)
		vs = append(vs, v)
		histAdd(all, v)
		histAdd(map[bool]*messages.StatsHistogram{true: a, false: b}[i%2 == 0], v)
	}
	histMerge(a, b)
	slices.Sort(vs)
	for _, q := range []float64{.5, .9, .99, 1} {
		want := float64(vs[int(q*float64(len(vs))+.999999999)-1])
		got := histQuantile(a, q)
		if got != histQuantile(all, q) {
			t.Fatalf("q%.2f: merged %d, whole %d", q, got, histQuantile(all, q))
		}
		if d := (float64(got) - want) / want; d > 0.008 || d < -0.008 {
			t.Fatalf("q%.2f = %d, true %v (%.3f%%)", q, got, want, d*100)
		}
	}
	if a.MaxMs != uint32(vs[len(vs)-1]) || a.Count != 10000 {
		t.Fatalf("max %d count %d", a.MaxMs, a.Count)
	}
}

// histBounds is the first value of bucket i and its width.
func histBounds(i uint32) (lo, width uint32) {
	if i < histExact {
		return i, 1
	}
	e := (i-histExact)/histSub + histExactBits
	sub := (i - histExact) % histSub
	width = 1 << (e - histSubBits)
	return 1<<e + sub*width, width
}
