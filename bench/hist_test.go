package bench

import (
	"testing"
	"time"
)

// The histogram's percentiles are within 1% above the true ones, its
// maximum exact, and an empty one reads 0.
func TestHistQuantiles(t *testing.T) {
	var h Hist
	if h.Quantile(0.5) != 0 || h.Count() != 0 || h.Curve() != nil {
		t.Fatal("an empty histogram reads 0")
	}
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	h.Record(10 * time.Minute) // past the range: counted, the maximum exact
	for _, c := range []struct{ q, want float64 }{{0.5, 5}, {0.9, 9}, {0.99, 9.9}} {
		if got := h.Quantile(c.q); got < c.want*0.999 || got > c.want*1.01 {
			t.Errorf("p%g = %g ms, want %g ms within 1%%", c.q*100, got, c.want)
		}
	}
	if got := h.Quantile(1); got != float64(10*time.Minute)/1e6 {
		t.Errorf("max = %g ms", got)
	}
	if h.Count() != 10001 {
		t.Errorf("count %d", h.Count())
	}
}
