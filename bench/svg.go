package bench

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"strings"
)

// svg draws two panels: the latency distributions of the measured phases
// (percentile on a "nines" axis, milliseconds on a log axis) and the
// throughput over time with the phases marked.
func (rep *Report) svg() []byte {
	const (
		w, h        = 960, 860
		left, right = 80, 30
		pw          = w - left - right
		top1, ph1   = 60, 320
		top2, ph2   = 510, 280
	)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="16" font-weight="bold">Switchboard bench: %s profile, %d CPUs, messages vs echo %.2f</text>`+"\n",
		left, html.EscapeString(rep.Profile), rep.Machine.CPUs, rep.Ratio.MessagesVsEcho)

	// Panel 1: latency by percentile.
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">Latency by percentile (open-loop phases at half the highest rate, and the closed loops)</text>`+"\n", left, top1-12)
	// One colour per kind of phase; closed loops dashed, open loops solid.
	colorOf := func(name string) string {
		switch {
		case strings.HasPrefix(name, "assign"):
			return "#d62728"
		case strings.HasPrefix(name, "msg"):
			return "#1f77b4"
		default:
			return "#7f7f7f"
		}
	}
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
	lo, hi := math.Floor(math.Log10(minMs)), math.Ceil(math.Log10(maxMs))
	if hi <= lo {
		hi = lo + 1
	}
	// x: nines = -log10(1 - p/100), 0 (p0) to 4 (p99.99), max drawn at 4.3.
	const maxNines = 4.3
	xOf := func(p float64) float64 {
		n := maxNines
		if p < 100 {
			n = math.Min(-math.Log10(1-p/100), 4)
		}
		return left + n/maxNines*pw
	}
	yOf := func(ms float64) float64 {
		v := math.Log10(math.Max(ms, math.Pow(10, lo)))
		return top1 + ph1 - (v-lo)/(hi-lo)*ph1
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", left, top1, pw, ph1)
	for e := lo; e <= hi; e++ {
		y := yOf(math.Pow(10, e))
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end">%s ms</text>`+"\n",
			left, y, left+pw, y, left-6, y+4, fmtMs(math.Pow(10, e)))
	}
	for _, p := range []float64{0, 90, 99, 99.9, 99.99, 100} {
		x := xOf(p)
		label := fmt.Sprintf("p%g", p)
		if p == 100 {
			label = "max"
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/><text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n",
			x, top1, x, top1+ph1, x, top1+ph1+16, label)
	}
	legendY := top1 + ph1 + 36
	for i, ph := range rep.Phases {
		if len(ph.curve) == 0 {
			continue
		}
		c := colorOf(ph.Name)
		dash := ""
		if ph.OfferedPerS == 0 {
			dash = ` stroke-dasharray="5,3"`
		}
		var pts bytes.Buffer
		for _, pt := range ph.curve {
			fmt.Fprintf(&pts, "%.1f,%.1f ", xOf(pt[0]), yOf(pt[1]))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", pts.String(), c, dash)
		lx := left + (i%2)*(pw/2)
		ly := legendY + (i/2)*16
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/><text x="%d" y="%d">%s (%s, p99 %s ms)</text>`+"\n",
			lx, ly-4, lx+18, ly-4, c, dash, lx+22, ly, html.EscapeString(ph.Name), phaseRate(ph), fmtMs(ph.LatencyMs.P99))
	}

	// Panel 2: throughput over time.
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">Throughput over time (per 250 ms): messages delivered/s (blue), assignments/s ×10 (red)</text>`+"\n", left, top2-12)
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", left, top2, pw, ph2)
	if n := len(rep.Series); n > 0 {
		tMax := rep.Series[n-1].T
		yMax := 1.0
		for _, s := range rep.Series {
			yMax = math.Max(yMax, math.Max(s.MessagesPerS, 10*s.AssignmentsPerS))
		}
		yMax = niceCeil(yMax)
		tx := func(t float64) float64 { return left + t/tMax*pw }
		ty := func(v float64) float64 { return top2 + ph2 - v/yMax*ph2 }
		for i := 0; i <= 4; i++ {
			v := yMax * float64(i) / 4
			fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end">%.0f</text>`+"\n",
				left, ty(v), left+pw, ty(v), left-6, ty(v)+4, v)
		}
		prev := ""
		for _, s := range rep.Series {
			if s.Phase != prev {
				x := tx(s.T)
				fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#bbb" stroke-dasharray="2,2"/><text x="%.1f" y="%d" font-size="10" transform="rotate(-90 %.1f %d)">%s</text>`+"\n",
					x, top2, x, top2+ph2, x+10, top2+ph2-4, x+10, top2+ph2-4, html.EscapeString(s.Phase))
				prev = s.Phase
			}
		}
		var msgs, asg bytes.Buffer
		for _, s := range rep.Series {
			fmt.Fprintf(&msgs, "%.1f,%.1f ", tx(s.T), ty(s.MessagesPerS))
			fmt.Fprintf(&asg, "%.1f,%.1f ", tx(s.T), ty(10*s.AssignmentsPerS))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`+"\n", msgs.String())
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#d62728" stroke-width="1.5"/>`+"\n", asg.String())
		for i := 0; i <= 5; i++ {
			t := tMax * float64(i) / 5
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%.0f s</text>`+"\n", tx(t), top2+ph2+16, t)
		}
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
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

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*e >= v {
			return m * e
		}
	}
	return 10 * e
}
