package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence"
)

// runSimulate is `switchboard simulate`: the routing's what-if
// simulator. It replays the recorded routing traffic of a stopped
// broker's data folder (or of a traffic file) through the same routing
// code, as recorded (-check: every decision must be reproduced) or with
// changes (policies, limits, offer timeouts, agents added, removed or on
// other shifts), and reports the statistics' figures of what happened
// and of what would have; -synthetic simulates made-up traffic instead.
func runSimulate(_ context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseSimFlags(args, stderr)
	if err != nil {
		return err
	}
	if f.synthetic {
		return simulateSynthetic(f, stdout)
	}
	if f.check && f.traffic == "" && f.export == "" {
		return checkData(f.data, stdout, stderr)
	}
	t, err := loadTraffic(f, stderr)
	if err != nil {
		return err
	}
	switch {
	case f.export != "":
		_, to, err := f.period()
		if err != nil {
			return err
		}
		return exportTraffic(f.export, trimTraffic(t, to), stdout)
	case f.check:
		return reportCheck(stdout, func(fn func(uint64, *messages.RoutingInput) bool) error {
			for i, in := range t.Inputs {
				if !fn(uint64(i+1), in) {
					break
				}
			}
			return nil
		})
	}
	return whatIf(f, t, stdout)
}

func loadTraffic(f *simFlags, stderr io.Writer) (*actors.Traffic, error) {
	if f.traffic != "" {
		return readTraffic(f.traffic)
	}
	st, err := openData(f.data, stderr)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return storeTraffic(st)
}

// checkData replays a data folder's journal straight from the store.
func checkData(dir string, stdout, stderr io.Writer) error {
	st, err := openData(dir, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	return reportCheck(stdout, func(fn func(uint64, *messages.RoutingInput) bool) error {
		return st.EachRoutingInput(time.Time{}, time.Time{}, fn)
	})
}

// reportCheck replays a journal as recorded: "reproduced N of N
// decisions", or the first difference (an error: exit status 1).
func reportCheck(stdout io.Writer, each func(fn func(uint64, *messages.RoutingInput) bool) error) error {
	r := actors.NewReplayer()
	var diff *actors.ReplayDiff
	total, entries := 0, 0
	err := each(func(n uint64, in *messages.RoutingInput) bool {
		entries++
		total += len(in.GetDecisions())
		if diff == nil {
			diff = r.Feed(n, in)
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("simulate -check: %w", err)
	}
	total -= r.SkippedDecisions
	if diff != nil {
		return fmt.Errorf("simulate -check: reproduced %d of %d decisions, then the replay differs at %w", r.Decisions, total, diff)
	}
	fmt.Fprintf(stdout, "reproduced %d of %d decisions (%d journal entries)\n", r.Decisions, total, entries)
	if r.Skipped > 0 {
		fmt.Fprintf(stdout, "skipped %d entries (%d decisions) of departments before their queue's first start in the journal (retention deleted what came before)\n",
			r.Skipped, r.SkippedDecisions)
	}
	return nil
}

func exportTraffic(path string, t *actors.Traffic, stdout io.Writer) error {
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("simulate: -export: %w", err)
	}
	if err := writeTraffic(out, t); err != nil {
		out.Close()
		return fmt.Errorf("simulate: -export %s: %w", path, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("simulate: -export %s: %w", path, err)
	}
	fmt.Fprintf(stdout, "exported %d journal entries and %d chats to %s\n", len(t.Inputs), len(t.Chats), path)
	return nil
}

// trimTraffic keeps the traffic up to to (zero: all of it) and on until
// every chat that joined a line before to has left it (assigned, or
// gone), so their waits are whole; the journal before -from stays (it
// builds the queues' state).
func trimTraffic(t *actors.Traffic, to time.Time) *actors.Traffic {
	if to.IsZero() {
		return t
	}
	waiting, end := map[string]bool{}, to.UnixNano()
	for _, in := range t.Inputs {
		at := in.GetAtNs()
		if id := in.GetEnqueue().GetChat().GetChatId(); id != "" && at < to.UnixNano() {
			waiting[id] = true
		}
		for _, d := range in.GetDecisions() {
			switch d.GetKind() {
			case messages.RoutingDecisionKind_ROUTING_DECISION_KIND_ASSIGNED, messages.RoutingDecisionKind_ROUTING_DECISION_KIND_LEFT:
				if waiting[d.GetChatId()] {
					delete(waiting, d.GetChatId())
					end = max(end, at+1)
				}
			}
		}
	}
	out := &actors.Traffic{Chats: map[string]*messages.SimChat{}}
	for _, in := range t.Inputs {
		if in.GetAtNs() >= end {
			continue // the journal is in commit order, near enough that of the clock
		}
		out.Inputs = append(out.Inputs, in)
		if id := in.GetEnqueue().GetChat().GetChatId(); id != "" && t.Chats[id] != nil {
			out.Chats[id] = t.Chats[id]
		}
	}
	return out
}

// whatIf simulates t with the flags' changes and reports both.
func whatIf(f *simFlags, t *actors.Traffic, stdout io.Writer) error {
	from, to, err := f.period()
	if err != nil {
		return err
	}
	depts, agents := t.Known()
	ch, err := f.changes(depts, agents)
	if err != nil {
		return err
	}
	ch.Until = to
	recorded := persistence.NewRoutingFigures(from, to)
	var last int64
	for _, in := range t.Inputs {
		recorded.Add(in)
		last = max(last, in.GetAtNs())
	}
	// Both end where the traffic does: what the simulation still does
	// after it (a cool-down's retry) has no recorded counterpart.
	recorded.Finish(periodEnd(to, last))
	simulated, _ := simulateFigures(t, ch, from, to)
	simulated.Finish(periodEnd(to, last))
	rep := &simulateReport{Rows: sideBySide(recorded, simulated), Changes: f.changeList()}
	if !from.IsZero() {
		rep.From = from.UTC().Format(time.RFC3339)
	}
	if !to.IsZero() {
		rep.To = to.UTC().Format(time.RFC3339)
	}
	return writeReport(f, rep, stdout)
}

// simulateFigures runs the simulation and folds what its queues decided.
func simulateFigures(t *actors.Traffic, ch actors.Changes, from, to time.Time) (*persistence.RoutingFigures, int64) {
	figs := persistence.NewRoutingFigures(from, to)
	var last int64
	actors.Simulate(t, ch, func(in *messages.RoutingInput) {
		figs.Add(in)
		last = max(last, in.GetAtNs())
	})
	return figs, last
}

func periodEnd(to time.Time, last int64) time.Time {
	if !to.IsZero() {
		return to
	}
	return time.Unix(0, last)
}

// changeList is the changes as given.
func (f *simFlags) changeList() []string {
	var out []string
	for _, l := range []struct {
		name string
		vals listFlag
	}{{"policy", f.policy}, {"limit", f.limit}, {"offer-timeout", f.timeout}, {"add-agent", f.add}, {"remove-agent", f.remove}, {"shift", f.shift}} {
		for _, v := range l.vals {
			out = append(out, "-"+l.name+" "+v)
		}
	}
	return out
}

func writeReport(f *simFlags, rep *simulateReport, stdout io.Writer) error {
	if f.out == "" {
		return rep.write(stdout, f.format)
	}
	out, err := os.Create(f.out)
	if err != nil {
		return fmt.Errorf("simulate: -out: %w", err)
	}
	if err := rep.write(out, f.format); err != nil {
		out.Close()
		return fmt.Errorf("simulate: -out %s: %w", f.out, err)
	}
	return out.Close()
}

// simulateSynthetic simulates the synthetic flags' traffic, with Erlang
// C's prediction when it applies (one chat at a time).
func simulateSynthetic(f *simFlags, stdout io.Writer) error {
	s, err := f.syntheticTraffic()
	if err != nil {
		return err
	}
	t := s.Traffic()
	simulated, last := simulateFigures(t, actors.Changes{}, time.Time{}, time.Time{})
	simulated.Finish(time.Unix(0, last))
	rep := &simulateReport{Rows: sideBySide(nil, simulated)}
	if s.Limit == 1 && !s.FixedHandling {
		load := s.ArrivalsPerHour * s.HandlingMean.Hours()
		target := time.Duration(messages.DefaultAnswerTargetS) * time.Second
		rep.ErlangC = &erlangFigures{Agents: s.Agents, LoadErlangs: math.Round(load*100) / 100, WaitProbability: actors.ErlangC(s.Agents, load),
			MeanWaitMs: actors.ErlangMeanWait(s.Agents, load, s.HandlingMean).Milliseconds(), TargetS: messages.DefaultAnswerTargetS,
			WithinTargetShare: actors.ErlangServiceLevel(s.Agents, load, s.HandlingMean, target)}
	}
	return writeReport(f, rep, stdout)
}

// maxSyntheticChats bounds a synthetic run's expected chats (each takes
// memory for its figures).
const maxSyntheticChats = 10_000_000

func (f *simFlags) syntheticTraffic() (actors.Synthetic, error) {
	s := actors.Synthetic{Department: f.department, Language: f.language, ArrivalsPerHour: f.perHour, HandlingMean: f.handlingMean,
		FixedHandling: f.handling == "fixed", Agents: f.agents, Limit: 1, Hours: f.hours, Seed: f.seed}
	switch {
	case f.handling != "exp" && f.handling != "fixed":
		return s, fmt.Errorf("simulate: -handling %q: want exp or fixed", f.handling)
	case !(f.perHour > 0) || math.IsInf(f.perHour, 0):
		return s, fmt.Errorf("simulate: -arrivals-per-hour must be a number above 0")
	case f.handlingMean <= 0:
		return s, fmt.Errorf("simulate: -handling-mean must be above 0")
	case f.agents <= 0:
		return s, fmt.Errorf("simulate: -agents must be at least 1")
	case !(f.hours > 0) || math.IsInf(f.hours, 0):
		return s, fmt.Errorf("simulate: -hours must be a number above 0")
	case f.perHour*f.hours > maxSyntheticChats:
		return s, fmt.Errorf("simulate: -arrivals-per-hour times -hours is %.0f chats: at most %d", f.perHour*f.hours, maxSyntheticChats)
	case strings.TrimSpace(f.department) == "":
		return s, fmt.Errorf("simulate: -department must name the department")
	case len(f.limit) > 1:
		return s, fmt.Errorf("simulate: -limit: give it once with -synthetic")
	}
	if len(f.limit) == 1 {
		var n uint32
		if err := setLimit(map[string]uint32{}, "", f.limit[0]); err != nil {
			return s, fmt.Errorf("simulate: -limit %q: %w", f.limit[0], err)
		}
		fmt.Sscan(f.limit[0], &n)
		s.Limit = n
	}
	return s, nil
}
