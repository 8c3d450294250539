package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what report.json holds. The field names are part of the
// harness's interface: load testers' scripts read them.
type Report struct {
	Profile    string      `json:"profile"`
	DurationS  float64     `json:"duration_s"`
	StartedAt  string      `json:"started_at"`
	Machine    Machine     `json:"machine"`
	Load       Profile     `json:"load"`
	Chats      Chats       `json:"chats"`
	Messages   MessageFigs `json:"messages"`
	Baseline   Baseline    `json:"baseline"`
	Ratio      Ratio       `json:"ratio"`
	Server     Server      `json:"server"`
	Invariants Invariants  `json:"invariants"`
	Crash      Crash       `json:"crash"`
	BadInput   BadInput    `json:"bad_input"`
	Attacks    Attacks     `json:"attacks"`
	Routing    Routing     `json:"routing"`
	// Cluster: a cluster run's own figures (Profile.Nodes > 1).
	Cluster *Cluster `json:"cluster,omitempty"`
	// DataDir is the broker's data folder when the run kept it
	// (Config.KeepData): switchboard simulate -data reads it.
	DataDir string `json:"data_dir,omitempty"`
	// Errors the clients got that no invariant covers (a refused send, a
	// chat that never finished); LastError is the last one.
	Errors    uint64   `json:"errors"`
	LastError string   `json:"last_error,omitempty"`
	Phases    []Phase  `json:"phases"`
	Series    []Sample `json:"series"`
}

// Machine says where the run happened.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	MemoryGiB int    `json:"memory_gib"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
}

// Chats are the assignment figures. AssignmentsPerS is the closed loop's
// rate (the highest); AssignLatencyMs is measured in the open loop at
// OfferedPerS, half of it.
type Chats struct {
	Started              uint64  `json:"started"`
	Assigned             uint64  `json:"assigned"`
	Completed            uint64  `json:"completed"`
	Refused              uint64  `json:"refused"`
	AssignmentsPerS      float64 `json:"assignments_per_s"`
	OfferedPerS          float64 `json:"offered_per_s"`
	AssignLatencyMs      Latency `json:"assign_latency_ms"`
	ConvMessageLatencyMs Latency `json:"conversation_message_latency_ms"`
}

// MessageFigs: PerS is the closed loop's rate (the highest); LatencyMs is
// measured in the open loop at OfferedPerS, half of it;
// SaturatedLatencyMs in the closed loop.
type MessageFigs struct {
	Sent               uint64  `json:"sent"`
	Delivered          uint64  `json:"delivered"`
	PerS               float64 `json:"per_s"`
	OfferedPerS        float64 `json:"offered_per_s"`
	LatencyMs          Latency `json:"latency_ms"`
	SaturatedLatencyMs Latency `json:"saturated_latency_ms"`
}

// Baseline is the raw websocket echo server under the same load shape.
type Baseline struct {
	EchoPerS               float64 `json:"echo_per_s"`
	EchoOfferedPerS        float64 `json:"echo_offered_per_s"`
	EchoLatencyMs          Latency `json:"echo_latency_ms"`
	EchoSaturatedLatencyMs Latency `json:"echo_saturated_latency_ms"`
	EchoCPUS               float64 `json:"echo_cpu_s"`
	Connections            int     `json:"connections"`
}

type Ratio struct {
	MessagesVsEcho float64 `json:"messages_vs_echo"`
}

// Server is the broker process, measured from /proc (only when the harness
// started it).
type Server struct {
	Measured           bool    `json:"measured"`
	CPUS               float64 `json:"cpu_s"`
	RSSPeakMB          float64 `json:"rss_peak_mb"`
	ConnectionsHeld    int     `json:"connections_held"`
	BytesPerConnection float64 `json:"bytes_per_connection"`
	IdleRSSMB          float64 `json:"idle_rss_mb"`
}

// Cluster is a cluster run's own figures. The server's figures (Server,
// and each phase's server CPU) are the nodes' together: CPU summed over
// them, the peak memory of the largest; a phase's broker view is the
// owner's /metrics.
type Cluster struct {
	Nodes int `json:"nodes"`
	// Owner: the node that owned the actors in the measured phases;
	// RaftLeader: the node that led the Raft group when they began. An
	// owner that does not lead forwards each batch to the leader and
	// learns it committed a heartbeat later: its commits take longer.
	Owner      string `json:"owner"`
	RaftLeader string `json:"raft_leader"`
	// StartS: from etcd's start until every node served and one owned
	// the actors.
	StartS float64 `json:"start_s"`
	// Each node's CPU seconds and peak memory over the run (the
	// processes of a node killed and started again, together).
	NodeCPUS      map[string]float64 `json:"node_cpu_s"`
	NodeRSSPeakMB map[string]float64 `json:"node_rss_peak_mb"`
	Failover      Failover           `json:"failover"`
}

// Invariants are counted from what the simulated clients saw; all must be 0.
type Invariants struct {
	OverCapacity      uint64 `json:"over_capacity"`
	DoubleAssigned    uint64 `json:"double_assigned"`
	LostMessages      uint64 `json:"lost_messages"`
	DuplicateMessages uint64 `json:"duplicate_messages"`
	OutOfOrder        uint64 `json:"out_of_order"`
	// AgentStateMismatch counts agents whose load or status after a crash
	// restart did not match their chats.
	AgentStateMismatch uint64 `json:"agent_state_mismatch"`

	badInputUnexpected int    // reported under bad_input; fails the run too
	transcriptBroken   uint64 // reported under cluster.failover; likewise
	// Notes are the first few violations, with when they happened.
	Notes []string `json:"notes,omitempty"`
}

func (v Invariants) violations() string {
	var out []string
	if v.badInputUnexpected > 0 {
		out = append(out, fmt.Sprintf("bad_input.unexpected=%d", v.badInputUnexpected))
	}
	if v.transcriptBroken > 0 {
		out = append(out, fmt.Sprintf("cluster.failover.transcript_missing+duplicated=%d", v.transcriptBroken))
	}
	for _, f := range []struct {
		name string
		n    uint64
	}{{"over_capacity", v.OverCapacity}, {"double_assigned", v.DoubleAssigned}, {"lost_messages", v.LostMessages},
		{"duplicate_messages", v.DuplicateMessages}, {"out_of_order", v.OutOfOrder}, {"agent_state_mismatch", v.AgentStateMismatch}} {
		if f.n > 0 {
			out = append(out, fmt.Sprintf("%s=%d", f.name, f.n))
		}
	}
	return strings.Join(out, " ")
}

// Phase is one phase of the run.
type Phase struct {
	Name        string  `json:"name"`
	DurationS   float64 `json:"duration_s"`
	OfferedPerS float64 `json:"offered_per_s,omitempty"`
	PerS        float64 `json:"per_s"`
	Unit        string  `json:"unit"`
	LatencyMs   Latency `json:"latency_ms"`
	// CPU seconds over the measured part of the phase: the server's (the
	// broker's, or the echo server's) and the load generator's.
	ServerCPUS  float64 `json:"server_cpu_s"`
	LoadgenCPUS float64 `json:"loadgen_cpu_s"`
	// PacerLagMs (open loop) is how late the generator sent messages
	// against their schedule: large values mean it could not keep up.
	PacerLagMs *Latency `json:"pacer_lag_ms,omitempty"`
	// Broker is the broker's own view from its /metrics over the measured
	// part (absent in the echo server's phases).
	Broker *BrokerView `json:"broker,omitempty"`
	curve  [][2]float64
}

// Sample is one point of the throughput series (every 250 ms).
type Sample struct {
	T               float64 `json:"t_s"`
	Phase           string  `json:"phase"`
	MessagesPerS    float64 `json:"messages_per_s"`
	AssignmentsPerS float64 `json:"assignments_per_s"`
}

func newReport(p Profile) *Report {
	return &Report{Profile: p.Name, Load: p, StartedAt: time.Now().UTC().Format(time.RFC3339), Machine: machine()}
}

func (rep *Report) addPhase(name string, d time.Duration, offered, perS float64, unit string, h *Hist, cpu cpuMark) {
	rep.Phases = append(rep.Phases, Phase{Name: name, DurationS: round3(d.Seconds()), OfferedPerS: round1(offered),
		PerS: round1(perS), Unit: unit, LatencyMs: h.Summary(), ServerCPUS: round3(cpu.server.Seconds()),
		LoadgenCPUS: round3(cpu.loadgen.Seconds()), curve: h.Curve()})
	if cpu.brokerPhase {
		v := cpu.broker.view(cpu.broker0)
		v.cost(unit, perS*d.Seconds())
		if unit != "messages/s" {
			v.StagesMs = nil // the breakdown is the message phases'
		}
		rep.Phases[len(rep.Phases)-1].Broker = v
	}
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			m.MemoryGiB = int((kb + 1<<19) >> 20)
		}
	}
	return m
}

// write saves report.json and latency.svg in dir.
func (rep *Report) write(dir string, series []Sample) error {
	rep.Series = series
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "latency.svg"), rep.svg(), 0o644)
}

// printTable writes the summary people read first.
func (rep *Report) printTable(w io.Writer, dir string) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	lat := func(l Latency) string {
		return fmt.Sprintf("%.2f / %.2f / %.2f / %.2f / %.2f", l.P50, l.P90, l.P99, l.P999, l.Max)
	}
	fmt.Fprintf(tw, "\nSwitchboard bench, profile %s, %.0f s, %d CPUs (%s)\n\n", rep.Profile, rep.DurationS, rep.Machine.CPUs, rep.Machine.CPUModel)
	fmt.Fprintf(tw, "phase\trate\toffered\tlatency ms p50 / p90 / p99 / p99.9 / max\tCPU cores: server + load generator\n")
	for _, ph := range rep.Phases {
		offered := "closed loop"
		if ph.OfferedPerS > 0 {
			offered = fmt.Sprintf("%.0f/s", ph.OfferedPerS)
		}
		fmt.Fprintf(tw, "%s\t%.0f %s\t%s\t%s\t%.2f + %.2f\n", ph.Name, ph.PerS, ph.Unit, offered, lat(ph.LatencyMs),
			ph.ServerCPUS/ph.DurationS, ph.LoadgenCPUS/ph.DurationS)
	}
	rep.printBrokerViews(tw)
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "chats\tstarted %d, assigned %d, completed %d, refused %d\n", rep.Chats.Started, rep.Chats.Assigned, rep.Chats.Completed, rep.Chats.Refused)
	fmt.Fprintf(tw, "messages\tsent %d, delivered %d\n", rep.Messages.Sent, rep.Messages.Delivered)
	fmt.Fprintf(tw, "messages vs echo\t%.0f / %.0f per s = %.2f\n", rep.Messages.PerS, rep.Baseline.EchoPerS, rep.Ratio.MessagesVsEcho)
	if rep.Server.Measured {
		fmt.Fprintf(tw, "broker\tCPU %.1f s, RSS peak %.1f MB, %d connections held, %.0f bytes per idle connection\n",
			rep.Server.CPUS, rep.Server.RSSPeakMB, rep.Server.ConnectionsHeld, rep.Server.BytesPerConnection)
	} else {
		fmt.Fprintf(tw, "broker\tnot measured (-target), %d connections held\n", rep.Server.ConnectionsHeld)
	}
	inv := rep.Invariants
	fmt.Fprintf(tw, "invariants\tover_capacity %d, double_assigned %d, lost %d, duplicate %d, out_of_order %d, agent_state_mismatch %d\n",
		inv.OverCapacity, inv.DoubleAssigned, inv.LostMessages, inv.DuplicateMessages, inv.OutOfOrder, inv.AgentStateMismatch)
	for _, n := range inv.Notes {
		fmt.Fprintf(tw, "\t%s\n", n)
	}
	if b := rep.BadInput; b.Tried > 0 {
		fmt.Fprintf(tw, "bad input\t%d tried, %d answered as expected, %d unexpected\n", b.Tried, b.Answered, b.Unexpected)
	}
	if at := rep.Attacks; at.PartialFrameSockets > 0 {
		fmt.Fprintf(tw, "attacks\tpartial frames %.0f B/socket, replay sockets %.0f B/socket, anonymous Hellos %.0f B each, %d audit entries per address per minute\n",
			at.PartialFrameBytesPerSocket, at.ReplayBytesPerSocket, at.AnonymousBytesPerTry, at.AuditEntriesPerAddressMinute)
	}
	if cl := rep.Cluster; cl != nil {
		fmt.Fprintf(tw, "cluster\t%d nodes and etcd, started in %.1f s; %s owned the actors in the measured phases, %s led the Raft group; CPU s %s\n",
			cl.Nodes, cl.StartS, cl.Owner, cl.RaftLeader, nodeFigures(cl.NodeCPUS, "%.1f"))
		if fo := cl.Failover; fo.Cycles > 0 {
			fl := fo.FailoverMs
			verdict := "missed"
			if fo.WithinBudget {
				verdict = "met"
			}
			fmt.Fprintf(tw, "failover\t%d SIGKILLs of the owner (%s): a survivor owned the actors after %s s; %d live chats acknowledged again after p50 %.0f ms, max %.0f ms (%d not back; budget %.0f s: %s)\n",
				fo.Cycles, strings.Join(fo.Killed, ", "), floats(fo.TakeoverS), fo.ChatsLive, fl.P50, fl.Max, fo.ChatsNotBack, fo.BudgetS, verdict)
			fmt.Fprintf(tw, "\t%d messages acknowledged before the kills (%d still in flight), %d recovered; %d unacknowledged sent again; %d clients failed over in %d tries\n",
				fo.AckedBeforeKill, fo.InFlightAtKill, fo.Recovered, fo.ResentUnacknowledged, fo.Reconnects, fo.ReconnectTries)
			fmt.Fprintf(tw, "\t%d acknowledged messages checked in the transcripts (admin API): %d missing, %d duplicated; the killed nodes back in %s s, caught up in %s s\n",
				fo.AckedChecked, fo.TranscriptMissing, fo.TranscriptDuplicated, floats(fo.RestartS), floats(fo.CatchUpS))
		}
	}
	if c := rep.Crash; c.Cycles > 0 {
		fmt.Fprintf(tw, "crash cycles\t%d SIGKILLs; %d messages acknowledged before them (%d still in flight), %d recovered; %d unacknowledged sent again\n",
			c.Cycles, c.AckedBeforeKill, c.InFlightAtKill, c.Recovered, c.ResentUnacknowledged)
	}
	if rt := rep.Routing; rt.Chats > 0 {
		fmt.Fprintf(tw, "routing phase\t%d chats at %.0f/s: %d assignments, %d offers declined, %d let expire, %d transfers, %d status changes\n",
			rt.Chats, rt.PerS, rt.Assigned, rt.Declined, rt.Expired, rt.Transferred, rt.StatusChanges)
	}
	if rt := rep.Routing; rt.AssignmentsPerSNoRecords > 0 {
		fmt.Fprintf(tw, "routing records\tassign-max %.0f/s without them: they cost %.1f%% of the rate (negative: within the noise)\n",
			rt.AssignmentsPerSNoRecords, 100*rt.RecordsCost)
	}
	if rep.Errors > 0 {
		fmt.Fprintf(tw, "errors\t%d, the last: %s\n", rep.Errors, rep.LastError)
	}
	fmt.Fprintf(tw, "written\t%s, %s\n", filepath.Join(dir, "report.json"), filepath.Join(dir, "latency.svg"))
	tw.Flush()
}

// nodeFigures prints a figure per node, in the nodes' order.
func nodeFigures(m map[string]float64, format string) string {
	var out []string
	for i := 1; i <= len(m); i++ {
		name := fmt.Sprintf("n%d", i)
		out = append(out, name+" "+fmt.Sprintf(format, m[name]))
	}
	return strings.Join(out, ", ")
}

// floats prints a list of seconds.
func floats(v []float64) string {
	out := make([]string, len(v))
	for i, f := range v {
		out[i] = fmt.Sprintf("%.2f", f)
	}
	return strings.Join(out, ", ")
}

// printBrokerViews adds the broker's own view of each of its phases: its
// storage, then what its work cost.
func (rep *Report) printBrokerViews(w io.Writer) {
	var views, costs, stages []string
	for _, ph := range rep.Phases {
		b := ph.Broker
		switch {
		case b == nil:
			continue
		case !b.Served:
			views = append(views, ph.Name+"\tnot served")
			continue
		}
		r := b.BatchRecords
		views = append(views, fmt.Sprintf("%s\t%d\t%.1f / %.1f / %.1f / %s (%.1f)\t%.2f / %.2f\t%.0f", ph.Name, b.FsyncMs.Count,
			r.P50, r.P90, r.P99, maxText(r.MaxLE), r.Mean, b.FsyncMs.Mean, b.FsyncMs.P99, b.ConnectionsOpen))
		if c := b.costLine(); c != "" {
			costs = append(costs, ph.Name+"\t"+c)
		}
		if s := b.stagesLine(); s != "" {
			stages = append(stages, ph.Name+"\t"+s)
		}
	}
	if len(views) > 0 {
		fmt.Fprintf(w, "\nbroker (/metrics)\tfsyncs\trecords/fsync p50 / p90 / p99 / max (mean)\tfsync ms mean / p99\tconns\n")
		fmt.Fprintln(w, strings.Join(views, "\n"))
	}
	if len(costs) > 0 {
		fmt.Fprintf(w, "\nbroker's cost\tCPU s\tCPU per unit\talloc MB/s\talloc per unit\tGCs\tGC pause ms p99\n")
		fmt.Fprintln(w, strings.Join(costs, "\n"))
	}
	if len(stages) > 0 {
		fmt.Fprintf(w, "\nms from read, p50 / p99\tqueued\tstored\tfanned out\twritten\n")
		fmt.Fprintln(w, strings.Join(stages, "\n"))
	}
}

// stagesLine is the phase's row of the message stages table, "" without
// them.
func (v *BrokerView) stagesLine() string {
	if len(v.StagesMs) == 0 {
		return ""
	}
	cells := make([]string, len(v.StagesMs))
	for i, s := range v.StagesMs {
		cells[i] = fmt.Sprintf("%.2f / %.2f", s.P50, s.P99)
	}
	return strings.Join(cells, "\t")
}

// maxText is a histogram's highest bucket with anything in it, as "≤16".
func maxText(le string) string {
	if le == "" || le == "+Inf" {
		return le
	}
	return "≤" + le
}

// costLine is the phase's row of the broker's cost table, "" without
// runtime figures.
func (v *BrokerView) costLine() string {
	rt := v.Runtime
	if rt == nil {
		return ""
	}
	per, name := v.PerMessage, "msg"
	if v.PerAssignment != nil {
		per, name = v.PerAssignment, "assign"
	}
	cpu, alloc := "-", "-"
	if per != nil {
		cpu, alloc = fmt.Sprintf("%.1f µs/%s", per.CPUUs, name), fmt.Sprintf("%.1f KB/%s", per.AllocBytes/1e3, name)
	}
	pause := "-"
	if rt.GCPauseMs != nil {
		pause = fmt.Sprintf("%.3f", rt.GCPauseMs.P99)
	}
	return fmt.Sprintf("%.2f\t%s\t%.1f\t%s\t%d\t%s", rt.CPUS, cpu, rt.AllocMBPerS, alloc, rt.GCCount, pause)
}
