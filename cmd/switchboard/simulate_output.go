package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence"
)

// simulateReport is what switchboard simulate found, and its JSON output
// (-format json): for each department and agent, over the period and
// hour by hour, the figures of what was recorded and of the simulation,
// side by side.
type simulateReport struct {
	From    string        `json:"from,omitempty"` // the period, RFC 3339 (empty: the traffic's)
	To      string        `json:"to,omitempty"`
	Changes []string      `json:"changes,omitempty"` // the changes simulated, as given
	Rows    []simulateRow `json:"rows"`
	// ErlangC: the synthetic mode's prediction, when it applies (one
	// chat at a time per agent).
	ErlangC *erlangFigures `json:"erlang_c,omitempty"`
}

// simulateRow is one department's (or agent's) figures, over the period
// (Hour empty) or in one hour (its start, RFC 3339, UTC).
type simulateRow struct {
	Department string      `json:"department,omitempty"`
	Agent      string      `json:"agent,omitempty"`
	Hour       string      `json:"hour,omitempty"`
	Recorded   *simFigures `json:"recorded,omitempty"` // absent with -synthetic
	Simulated  *simFigures `json:"simulated"`
}

// simFigures are the statistics' figures simulate compares (see
// persistence.RoutingFigures for their definitions): waits of the chats
// that began waiting in the hour, and the agents' occupancy then.
type simFigures struct {
	Requested         uint32  `json:"requested"`
	Refused           uint32  `json:"refused"`
	Assigned          uint32  `json:"assigned"`
	Missed            uint32  `json:"missed"`
	Waits             uint32  `json:"waits"`
	WaitP50Ms         uint32  `json:"wait_p50_ms"`
	WaitP90Ms         uint32  `json:"wait_p90_ms"`
	WaitMaxMs         uint32  `json:"wait_max_ms"`
	WithinTargetShare float64 `json:"within_target_share"`
	Occupancy         float64 `json:"occupancy"`
}

type erlangFigures struct {
	Agents            int     `json:"agents"`
	LoadErlangs       float64 `json:"load_erlangs"`
	WaitProbability   float64 `json:"wait_probability"`
	MeanWaitMs        int64   `json:"mean_wait_ms"`
	WithinTargetShare float64 `json:"within_target_share"`
	TargetS           int     `json:"target_s"`
}

func figuresOf(f *messages.StatsFigures) *simFigures {
	if f == nil {
		return &simFigures{}
	}
	var refused uint32
	for _, n := range f.GetRefused() {
		refused += n
	}
	return &simFigures{Requested: f.GetRequested(), Refused: refused, Assigned: f.GetAssigned(), Missed: f.GetMissed(),
		Waits: f.GetWaits(), WaitP50Ms: f.GetWaitP50Ms(), WaitP90Ms: f.GetWaitP90Ms(), WaitMaxMs: f.GetWaitMaxMs(),
		WithinTargetShare: f.GetWithinTargetShare(), Occupancy: f.GetOccupancy()}
}

// sideBySide pairs the rows of recorded (nil: none) and simulated.
func sideBySide(recorded, simulated *persistence.RoutingFigures) []simulateRow {
	type key struct {
		dept, agent string
		hour        time.Time
	}
	var out []simulateRow
	at := map[key]int{}
	add := func(rows []persistence.RoutingFigure, rec bool) {
		for _, r := range rows {
			k := key{r.Department, r.Agent, r.Hour}
			i, ok := at[k]
			if !ok {
				i = len(out)
				at[k] = i
				out = append(out, simulateRow{Department: r.Department, Agent: r.Agent, Hour: r.Figures.GetStart()})
			}
			if rec {
				out[i].Recorded = figuresOf(r.Figures)
			} else {
				out[i].Simulated = figuresOf(r.Figures)
			}
		}
	}
	if recorded != nil {
		add(recorded.Rows(), true)
	}
	add(simulated.Rows(), false)
	for i := range out {
		if out[i].Simulated == nil {
			out[i].Simulated = &simFigures{}
		}
		if recorded != nil && out[i].Recorded == nil {
			out[i].Recorded = &simFigures{}
		}
	}
	return out
}

func (rep *simulateReport) write(w io.Writer, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "svg":
		_, err := w.Write(rep.svg())
		return err
	}
	return rep.table(w)
}

// table prints a row per department and hour, then per agent and hour:
// each figure as "recorded → simulated" (the simulated one alone with
// -synthetic).
func (rep *simulateReport) table(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "DEPARTMENT\tHOUR\tREQUESTED\tWAITS\tWAIT P50\tWAIT P90\tWAIT MAX\tWITHIN TARGET\tMISSED\tOCCUPANCY")
	agents := false
	for _, r := range rep.Rows {
		if r.Agent != "" {
			agents = true
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Department, hourText(r.Hour),
			r.cell(func(f *simFigures) string { return fmt.Sprint(f.Requested) }),
			r.cell(func(f *simFigures) string { return fmt.Sprint(f.Waits) }),
			r.cell(func(f *simFigures) string { return msText(f.WaitP50Ms) }),
			r.cell(func(f *simFigures) string { return msText(f.WaitP90Ms) }),
			r.cell(func(f *simFigures) string { return msText(f.WaitMaxMs) }),
			r.cell(func(f *simFigures) string { return percent(f.WithinTargetShare) }),
			r.cell(func(f *simFigures) string { return fmt.Sprint(f.Missed) }),
			r.cell(func(f *simFigures) string { return percent(f.Occupancy) }))
	}
	if agents {
		fmt.Fprintln(tw, "\nAGENT\tHOUR\tASSIGNED\tOCCUPANCY")
		for _, r := range rep.Rows {
			if r.Agent != "" {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Agent, hourText(r.Hour),
					r.cell(func(f *simFigures) string { return fmt.Sprint(f.Assigned) }),
					r.cell(func(f *simFigures) string { return percent(f.Occupancy) }))
			}
		}
	}
	if e := rep.ErlangC; e != nil {
		fmt.Fprintf(tw, "\nErlang C (%d agents, %.2f erlangs): waits %.1f%% of chats, mean wait %s, within %ds %.1f%%\n", e.Agents, e.LoadErlangs,
			e.WaitProbability*100, time.Duration(e.MeanWaitMs)*time.Millisecond, e.TargetS, e.WithinTargetShare*100)
	}
	return tw.Flush()
}

// cell is a figure of the row: "recorded → simulated", or simulated
// alone.
func (r simulateRow) cell(f func(*simFigures) string) string {
	if r.Recorded == nil {
		return f(r.Simulated)
	}
	return f(r.Recorded) + " → " + f(r.Simulated)
}

func hourText(h string) string {
	if h == "" {
		return "all"
	}
	return h
}

func percent(v float64) string { return fmt.Sprintf("%.0f%%", v*100) }

// msText is a duration in milliseconds, rounded for reading.
func msText(ms uint32) string {
	d := time.Duration(ms) * time.Millisecond
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.String()
}
