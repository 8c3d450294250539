package main

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"time"

	"github.com/switchboard-chat/switchboard/bench"
)

// The SVG chart (-format svg): one panel per department, waiting time
// p90 hour by hour, recorded (grey) and simulated (red).
const (
	simSVGW, simSVGPanel = 960, 260
	simSVGLeft, simSVGR  = 80, 30
	simSVGTop            = 50
)

type svgSeries struct {
	hours     []time.Time
	rec, sim  []float64 // seconds; NaN: no wait that hour
	hasRecord bool
}

func (rep *simulateReport) series() ([]string, map[string]*svgSeries) {
	var depts []string
	by := map[string]*svgSeries{}
	for _, r := range rep.Rows {
		if r.Agent != "" || r.Hour == "" {
			continue
		}
		s := by[r.Department]
		if s == nil {
			s = &svgSeries{}
			by[r.Department] = s
			depts = append(depts, r.Department)
		}
		h, _ := time.Parse(time.RFC3339, r.Hour)
		s.hours = append(s.hours, h)
		s.sim = append(s.sim, p90s(r.Simulated))
		s.rec = append(s.rec, p90s(r.Recorded))
		s.hasRecord = s.hasRecord || r.Recorded != nil
	}
	return depts, by
}

func p90s(f *simFigures) float64 {
	if f == nil || f.Waits == 0 {
		return math.NaN()
	}
	return float64(f.WaitP90Ms) / 1000
}

func (rep *simulateReport) svg() []byte {
	depts, by := rep.series()
	h := simSVGTop + len(depts)*(simSVGPanel+60) + 20
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", simSVGW, h, simSVGW, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", simSVGW, h)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="16" font-weight="bold">Waiting time p90 per hour: recorded (grey) and simulated (red)</text>`+"\n", simSVGLeft)
	for i, d := range depts {
		panel(&b, d, by[d], simSVGTop+i*(simSVGPanel+60))
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// panel draws one department's chart with its top at y0.
func panel(b *bytes.Buffer, dept string, s *svgSeries, y0 int) {
	top := 0.0
	for i := range s.hours {
		for _, v := range []float64{s.rec[i], s.sim[i]} {
			if !math.IsNaN(v) {
				top = math.Max(top, v)
			}
		}
	}
	top = bench.NiceCeil(top)
	pw := float64(simSVGW - simSVGLeft - simSVGR)
	x := func(i int) float64 {
		return simSVGLeft + pw*(float64(i)+0.5)/float64(max(len(s.hours), 1))
	}
	y := func(v float64) float64 { return float64(y0+20) + float64(simSVGPanel)*(1-v/top) }
	fmt.Fprintf(b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", simSVGLeft, y0+10, html.EscapeString(dept))
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.0f" height="%d" fill="none" stroke="#ccc"/>`+"\n", simSVGLeft, y0+20, pw, simSVGPanel)
	for k := 0; k <= 4; k++ {
		v := top * float64(k) / 4
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", simSVGLeft-6, y(v)+4, msText(uint32(v*1000)))
	}
	step := max(len(s.hours)/12, 1)
	for i, h := range s.hours {
		if i%step == 0 {
			fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(i), y0+20+simSVGPanel+16, h.Format("01-02 15h"))
		}
	}
	if s.hasRecord {
		polyline(b, s.rec, x, y, "#7f7f7f")
	}
	polyline(b, s.sim, x, y, "#d62728")
}

// polyline draws vs, broken where there is no value.
func polyline(b *bytes.Buffer, vs []float64, x func(int) float64, y func(float64) float64, color string) {
	var pts bytes.Buffer
	flush := func() {
		if pts.Len() > 0 {
			fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", color, pts.String())
			pts.Reset()
		}
	}
	for i, v := range vs {
		if math.IsNaN(v) {
			flush()
			continue
		}
		fmt.Fprintf(&pts, "%.1f,%.1f ", x(i), y(v))
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`+"\n", x(i), y(v), color)
	}
	flush()
}
