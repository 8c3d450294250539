package bench

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"strings"
)

// The drawing's layout, in pixels: two panels one above the other.
const (
	svgW, svgH        = 960, 860
	svgLeft, svgRight = 80, 30
	svgPW             = svgW - svgLeft - svgRight
	svgTop1, svgPH1   = 60, 320
	svgTop2, svgPH2   = 510, 280
	// maxNines is where the latency panel draws the maximum on its x axis
	// of nines (-log10(1 - p/100): 0 at p0, 4 at p99.99).
	maxNines = 4.3
)

// svg draws two panels: the latency distributions of the measured phases
// (percentile on a "nines" axis, milliseconds on a log axis) and the
// throughput over time with the phases marked.
func (rep *Report) svg() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", svgW, svgH)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="16" font-weight="bold">Switchboard bench: %s profile, %d CPUs, messages vs echo %.2f</text>`+"\n",
		svgLeft, html.EscapeString(rep.Profile), rep.Machine.CPUs, rep.Ratio.MessagesVsEcho)
	rep.latencyPanel(&b)
	rep.throughputPanel(&b)
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// phaseColor is one colour per kind of phase.
func phaseColor(name string) string {
	switch {
	case strings.HasPrefix(name, "assign"):
		return "#d62728"
	case strings.HasPrefix(name, "msg"):
		return "#1f77b4"
	default:
		return "#7f7f7f"
	}
}

// latencyRange is the decades the latency axis spans: from the smallest
// positive latency of any phase to the largest.
func (rep *Report) latencyRange() (lo, hi float64) {
	maxMs, minMs := 0.0, math.Inf(1)
	for _, ph := range rep.Phases {
		for _, pt := range ph.curve {
			maxMs = math.Max(maxMs, pt[1])
			if pt[1] > 0 {
				minMs = math.Min(minMs, pt[1])
			}
		}
	}
	if maxMs == 0 {
		maxMs, minMs = 1, 0.01
	}
	lo, hi = math.Floor(math.Log10(minMs)), math.Ceil(math.Log10(maxMs))
	if hi <= lo {
		hi = lo + 1
	}
	return lo, hi
}

// ninesX places percentile p on the latency panel's x axis.
func ninesX(p float64) float64 {
	n := maxNines
	if p < 100 {
		n = math.Min(-math.Log10(1-p/100), 4)
	}
	return svgLeft + n/maxNines*svgPW
}

// latencyPanel draws the latency by percentile: closed loops dashed, open
// loops solid.
func (rep *Report) latencyPanel(b *bytes.Buffer) {
	fmt.Fprintf(b, `<text x="%d" y="%d" font-weight="bold">Latency by percentile (open-loop phases at half the highest rate, and the closed loops)</text>`+"\n", svgLeft, svgTop1-12)
	lo, hi := rep.latencyRange()
	yOf := func(ms float64) float64 {
		v := math.Log10(math.Max(ms, math.Pow(10, lo)))
		return svgTop1 + svgPH1 - (v-lo)/(hi-lo)*svgPH1
	}
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", svgLeft, svgTop1, svgPW, svgPH1)
	for e := lo; e <= hi; e++ {
		y := yOf(math.Pow(10, e))
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end">%s ms</text>`+"\n",
			svgLeft, y, svgLeft+svgPW, y, svgLeft-6, y+4, fmtMs(math.Pow(10, e)))
	}
	for _, p := range []float64{0, 90, 99, 99.9, 99.99, 100} {
		x := ninesX(p)
		label := fmt.Sprintf("p%g", p)
		if p == 100 {
			label = "max"
		}
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/><text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n",
			x, svgTop1, x, svgTop1+svgPH1, x, svgTop1+svgPH1+16, label)
	}
	legendY := svgTop1 + svgPH1 + 36
	for i, ph := range rep.Phases {
		if len(ph.curve) == 0 {
			continue
		}
		c := phaseColor(ph.Name)
		dash := ""
		if ph.OfferedPerS == 0 {
			dash = ` stroke-dasharray="5,3"`
		}
		var pts bytes.Buffer
		for _, pt := range ph.curve {
			fmt.Fprintf(&pts, "%.1f,%.1f ", ninesX(pt[0]), yOf(pt[1]))
		}
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", pts.String(), c, dash)
		lx := svgLeft + (i%2)*(svgPW/2)
		ly := legendY + (i/2)*16
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/><text x="%d" y="%d">%s (%s, p99 %s ms)</text>`+"\n",
			lx, ly-4, lx+18, ly-4, c, dash, lx+22, ly, html.EscapeString(ph.Name), phaseRate(ph), fmtMs(ph.LatencyMs.P99))
	}
}

// throughputPanel draws the throughput over time with the phases marked.
func (rep *Report) throughputPanel(b *bytes.Buffer) {
	fmt.Fprintf(b, `<text x="%d" y="%d" font-weight="bold">Throughput over time (per 250 ms): messages delivered/s (blue), assignments/s ×10 (red)</text>`+"\n", svgLeft, svgTop2-12)
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", svgLeft, svgTop2, svgPW, svgPH2)
	n := len(rep.Series)
	if n == 0 {
		return
	}
	tMax := rep.Series[n-1].T
	yMax := 1.0
	for _, s := range rep.Series {
		yMax = math.Max(yMax, math.Max(s.MessagesPerS, 10*s.AssignmentsPerS))
	}
	yMax = NiceCeil(yMax)
	tx := func(t float64) float64 { return svgLeft + t/tMax*svgPW }
	ty := func(v float64) float64 { return svgTop2 + svgPH2 - v/yMax*svgPH2 }
	for i := 0; i <= 4; i++ {
		v := yMax * float64(i) / 4
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end">%.0f</text>`+"\n",
			svgLeft, ty(v), svgLeft+svgPW, ty(v), svgLeft-6, ty(v)+4, v)
	}
	prev := ""
	for _, s := range rep.Series {
		if s.Phase != prev {
			x := tx(s.T)
			fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#bbb" stroke-dasharray="2,2"/><text x="%.1f" y="%d" font-size="10" transform="rotate(-90 %.1f %d)">%s</text>`+"\n",
				x, svgTop2, x, svgTop2+svgPH2, x+10, svgTop2+svgPH2-4, x+10, svgTop2+svgPH2-4, html.EscapeString(s.Phase))
			prev = s.Phase
		}
	}
	var msgs, asg bytes.Buffer
	for _, s := range rep.Series {
		fmt.Fprintf(&msgs, "%.1f,%.1f ", tx(s.T), ty(s.MessagesPerS))
		fmt.Fprintf(&asg, "%.1f,%.1f ", tx(s.T), ty(10*s.AssignmentsPerS))
	}
	fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`+"\n", msgs.String())
	fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="#d62728" stroke-width="1.5"/>`+"\n", asg.String())
	for i := 0; i <= 5; i++ {
		t := tMax * float64(i) / 5
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%.0f s</text>`+"\n", tx(t), svgTop2+svgPH2+16, t)
	}
}

func phaseRate(ph Phase) string {
	if ph.OfferedPerS > 0 {
		return fmt.Sprintf("open loop at %.0f/s", ph.OfferedPerS)
	}
	return fmt.Sprintf("closed loop, %.0f/s", ph.PerS)
}

func fmtMs(v float64) string {
	switch {
	case v >= 10:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.1f", v)
	case v >= 0.1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

// NiceCeil rounds v up to 1, 2 or 5 times a power of ten (1 for v <= 0):
// an axis's top (the bench's chart and switchboard simulate's).
func NiceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*e >= v {
			return m * e
		}
	}
	return 10 * e
}
