package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The broker's metrics the report shows (see the README's metric list).
const (
	metricBatchRecords    = "switchboard_storage_batch_records"
	metricFsyncSeconds    = "switchboard_storage_fsync_seconds"
	metricConnectionsOpen = "switchboard_connections_open"
	metricGCPauses        = "switchboard_gc_pause_seconds"
	metricMessageStages   = "switchboard_message_stage_seconds"
	// The process and Go collectors': CPU time, bytes allocated, and the
	// summary of GC pauses whose count is the GC cycles.
	metricCPUSeconds = "process_cpu_seconds_total"
	metricAllocBytes = "go_memstats_alloc_bytes_total"
	metricGCCycles   = "go_gc_duration_seconds"
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
	// Runtime is the broker's CPU, allocation and garbage collection over
	// the measured part (absent when its /metrics lacks the process and Go
	// collectors' series).
	Runtime *RuntimeFigs `json:"runtime,omitempty"`
	// PerMessage (the message phases) and PerAssignment (the assignment
	// phases) divide Runtime by the phase's own count of its unit.
	PerMessage    *UnitCost `json:"per_message,omitempty"`
	PerAssignment *UnitCost `json:"per_assignment,omitempty"`
	// StagesMs (the message phases) is where a message's time went: from
	// the broker reading its frame to each stage, in the order a message
	// passes them (absent from a broker without the breakdown).
	StagesMs []StageFigs `json:"stages_ms,omitempty"`
}

// messageStages are switchboard_message_stage_seconds's stages, in the
// order a message passes them: the chat actor took it, it is durable, it
// is handed to the participants' actors, one socket's write is done.
var messageStages = []string{"queued", "stored", "fanned_out", "written"}

// StageFigs is one stage of a message's way over the phase: the time
// from the broker reading the message's frame to that stage, in ms
// (written: one per socket the message was written to).
type StageFigs struct {
	Stage string `json:"stage"`
	HistFigs
}

// RuntimeFigs: the broker's CPU seconds (process_cpu_seconds_total, in
// steps of 10 ms), the bytes it allocated (go_memstats_alloc_bytes_total;
// MB are 10^6 bytes) and their rate over the time between the two scrapes,
// its GC cycles (go_gc_duration_seconds_count) and their stop-the-world
// pauses (switchboard_gc_pause_seconds: two a cycle; absent from a broker
// without it).
type RuntimeFigs struct {
	CPUS        float64   `json:"cpu_s"`
	AllocMB     float64   `json:"alloc_mb"`
	AllocMBPerS float64   `json:"alloc_mb_per_s"`
	GCCount     uint64    `json:"gc_count"`
	GCPauseMs   *HistFigs `json:"gc_pause_ms,omitempty"`
	cpuS, alloc float64   // unrounded, for UnitCost
}

// UnitCost is what one unit of a phase's work cost the broker: Count
// units (the phase's rate times its measured duration: messages
// delivered, or chats assigned), the CPU microseconds and bytes allocated
// for each.
type UnitCost struct {
	Count      float64 `json:"count"`
	CPUUs      float64 `json:"cpu_us"`
	AllocBytes float64 `json:"alloc_bytes"`
}

// HistFigs sums up a Prometheus histogram over a phase: how many
// observations, their mean, the 50th, 90th and 99th percentiles estimated
// from the buckets as Prometheus's histogram_quantile does (linear within
// a bucket), and the upper bound of the highest bucket holding any
// (MaxLE, in Prometheus's spelling of the le label: "16", "+Inf").
type HistFigs struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50,omitempty"`
	P90   float64 `json:"p90,omitempty"`
	P99   float64 `json:"p99"`
	MaxLE string  `json:"max_le,omitempty"`
}

// promHist is one histogram as scraped: cumulative counts per upper bound;
// min is the least value it can hold, the first bucket's lower edge for
// quantiles (0 as Prometheus assumes, 1 for records per batch).
type promHist struct {
	count  uint64
	sum    float64
	bounds []float64
	cum    []uint64
	min    float64
}

// brokerScrape is what one scrape of /metrics gave, and when; nil when
// not served.
type brokerScrape struct {
	at           time.Time
	batch, fsync *promHist
	conns        float64
	rt           *runtimeScrape
	stages       []*promHist // by messageStages; nil without them
}

// runtimeScrape is the process's and Go runtime's counters; pauses is nil
// without switchboard_gc_pause_seconds.
type runtimeScrape struct {
	cpu, alloc float64
	gcs        uint64
	pauses     *promHist
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
	if err != nil || sc == nil {
		return nil
	}
	sc.at = time.Now()
	return sc
}

// parseBrokerMetrics reads the Prometheus text exposition format; it
// returns nil, nil when the storage histograms are absent.
func parseBrokerMetrics(r io.Reader) (*brokerScrape, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("bench: parsing /metrics: %w", err)
	}
	sc := &brokerScrape{batch: histOf(fams[metricBatchRecords]), fsync: histOf(fams[metricFsyncSeconds])}
	if sc.batch == nil || sc.fsync == nil {
		return nil, nil
	}
	sc.batch.min = 1 // a batch holds a record at least
	sc.stages = stagesOf(fams[metricMessageStages])
	sc.conns, _ = valueOf(fams[metricConnectionsOpen])
	cpu, okCPU := valueOf(fams[metricCPUSeconds])
	alloc, okAlloc := valueOf(fams[metricAllocBytes])
	if gc := fams[metricGCCycles]; okCPU && okAlloc && gc.GetType() == dto.MetricType_SUMMARY && len(gc.GetMetric()) > 0 {
		sc.rt = &runtimeScrape{cpu: cpu, alloc: alloc, gcs: gc.GetMetric()[0].GetSummary().GetSampleCount(),
			pauses: histOf(fams[metricGCPauses])}
	}
	return sc, nil
}

// stagesOf is the message stage histograms by messageStages; nil unless
// every stage is there.
func stagesOf(f *dto.MetricFamily) []*promHist {
	if f == nil || f.GetType() != dto.MetricType_HISTOGRAM {
		return nil
	}
	out := make([]*promHist, len(messageStages))
	for i, s := range messageStages {
		one := &dto.MetricFamily{Type: f.Type}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stage" && l.GetValue() == s {
					one.Metric = append(one.Metric, m)
				}
			}
		}
		if out[i] = histOf(one); out[i] == nil {
			return nil
		}
	}
	return out
}

// valueOf is the sum of the family's counter, gauge or untyped series;
// false when it is absent.
func valueOf(f *dto.MetricFamily) (float64, bool) {
	if f == nil || len(f.GetMetric()) == 0 {
		return 0, false
	}
	var v float64
	for _, m := range f.GetMetric() {
		v += m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue()
	}
	return v, true
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
	d := &promHist{count: h.count - old.count, sum: h.sum - old.sum, bounds: h.bounds, cum: make([]uint64, len(h.cum)), min: h.min}
	for i := range h.cum {
		d.cum[i] = h.cum[i] - old.cum[i]
	}
	return d
}

// quantile estimates the q-quantile from the buckets as Prometheus's
// histogram_quantile does: linear within the bucket it falls in (the
// first from h.min), the highest finite bound when it falls in +Inf.
func (h *promHist) quantile(q float64) float64 {
	if h.count == 0 {
		return 0
	}
	rank := q * float64(h.count)
	lower, below := h.min, uint64(0)
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

// maxLE is the upper bound of the highest bucket holding an observation
// ("+Inf" past the last bound), "" when there is none.
func (h *promHist) maxLE() string {
	if h.count == 0 {
		return ""
	}
	for i, c := range h.cum {
		if c == h.count {
			return strconv.FormatFloat(h.bounds[i], 'g', -1, 64)
		}
	}
	return "+Inf"
}

// figs sums h up, its values multiplied by scale (1000: seconds to ms;
// MaxLE is the bound as scraped).
func (h *promHist) figs(scale float64) *HistFigs {
	f := &HistFigs{Count: h.count, P50: round3(h.quantile(0.5) * scale), P90: round3(h.quantile(0.9) * scale),
		P99: round3(h.quantile(0.99) * scale), MaxLE: h.maxLE()}
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
	v := &BrokerView{Served: true, BatchRecords: now.batch.since(ob).figs(1), FsyncMs: now.fsync.since(of).figs(1000),
		ConnectionsOpen: now.conns, StagesMs: now.stagesSince(old)}
	switch {
	case now.rt == nil:
	case old == nil:
		v.Runtime = now.rt.figs(&runtimeScrape{}, 0)
	case old.rt != nil:
		v.Runtime = now.rt.figs(old.rt, now.at.Sub(old.at))
	}
	return v
}

// stagesSince is the message stages since old (nil: since the start), in
// ms; nil when the broker has none or no message passed.
func (now *brokerScrape) stagesSince(old *brokerScrape) []StageFigs {
	if now.stages == nil {
		return nil
	}
	out := make([]StageFigs, len(messageStages))
	for i, h := range now.stages {
		var o *promHist
		if old != nil && old.stages != nil {
			o = old.stages[i]
		}
		out[i] = StageFigs{Stage: messageStages[i], HistFigs: *h.since(o).figs(1000)}
	}
	if out[0].Count == 0 {
		return nil
	}
	return out
}

// figs is the runtime's figures since old, d earlier (0: unknown, no
// rate).
func (rt *runtimeScrape) figs(old *runtimeScrape, d time.Duration) *RuntimeFigs {
	f := &RuntimeFigs{cpuS: rt.cpu - old.cpu, alloc: rt.alloc - old.alloc, GCCount: rt.gcs - old.gcs}
	f.CPUS, f.AllocMB = round3(f.cpuS), round1(f.alloc/1e6)
	if d > 0 {
		f.AllocMBPerS = round1(f.alloc / 1e6 / d.Seconds())
	}
	if rt.pauses != nil {
		f.GCPauseMs = rt.pauses.since(old.pauses).figs(1000)
	}
	return f
}

// cost sets what each of the phase's n units of work cost: per delivered
// message when unit is "messages/s", per assignment when it is
// "assignments/s" (the phase's Unit).
func (v *BrokerView) cost(unit string, n float64) {
	if v.Runtime == nil || n < 1 {
		return
	}
	c := &UnitCost{Count: math.Round(n), CPUUs: round1(v.Runtime.cpuS / n * 1e6), AllocBytes: math.Round(v.Runtime.alloc / n)}
	switch unit {
	case "messages/s":
		v.PerMessage = c
	case "assignments/s":
		v.PerAssignment = c
	}
}
