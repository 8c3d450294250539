package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// simFlags are switchboard simulate's flags.
type simFlags struct {
	data, traffic, export, from, to, format, out string
	check, synthetic                             bool
	// The changes (repeatable); -limit is also the synthetic agents'
	// limit (a plain number).
	policy, limit, timeout, add, remove, shift listFlag
	// The synthetic mode.
	department, language, handling string
	perHour, hours                 float64
	handlingMean                   time.Duration
	agents                         int
	seed                           uint64
}

// listFlag is a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func parseSimFlags(args []string, stderr io.Writer) (*simFlags, error) {
	f := &simFlags{}
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.data, "data", env("SWITCHBOARD_DATA", defaultDataDir), "the data folder of a stopped broker (env SWITCHBOARD_DATA)")
	fs.StringVar(&f.traffic, "traffic", "", "read the traffic from this file (written by -export) instead of -data")
	fs.StringVar(&f.export, "export", "", "write the traffic to this file (JSON lines) and stop")
	fs.BoolVar(&f.check, "check", false, "replay the journal as recorded and check that every decision is reproduced")
	fs.StringVar(&f.from, "from", "", "the period's start, RFC 3339 (earlier traffic only warms the queues up)")
	fs.StringVar(&f.to, "to", "", "the period's end, RFC 3339 (no arrival from then on)")
	fs.StringVar(&f.format, "format", "table", "output: table, json or svg")
	fs.StringVar(&f.out, "out", "", "write the output to this file (default: standard output)")
	fs.Var(&f.policy, "policy", "DEPT=least_loaded|round_robin|manual (repeatable)")
	fs.Var(&f.limit, "limit", "AGENT=N chats at once (repeatable); with -synthetic, N for every agent")
	fs.Var(&f.timeout, "offer-timeout", "DEPT=DURATION (repeatable)")
	fs.Var(&f.add, "add-agent", "ID:dept=D1+D2:langs=en+es:limit=N[:from=HH:MM:to=HH:MM] (repeatable)")
	fs.Var(&f.remove, "remove-agent", "ID (repeatable)")
	fs.Var(&f.shift, "shift", "AGENT=HH:MM-HH:MM, UTC: available then only (repeatable)")
	fs.BoolVar(&f.synthetic, "synthetic", false, "simulate made-up traffic (no data folder)")
	fs.StringVar(&f.department, "department", "sales", "-synthetic: the department")
	fs.StringVar(&f.language, "language", "en", "-synthetic: the chats' language")
	fs.Float64Var(&f.perHour, "arrivals-per-hour", 60, "-synthetic: chats per hour (a Poisson process)")
	fs.DurationVar(&f.handlingMean, "handling-mean", 5*time.Minute, "-synthetic: the mean handling time")
	fs.StringVar(&f.handling, "handling", "exp", "-synthetic: handling times exp (exponential) or fixed")
	fs.IntVar(&f.agents, "agents", 5, "-synthetic: agents, available all along")
	fs.Float64Var(&f.hours, "hours", 8, "-synthetic: hours of arrivals")
	fs.Uint64Var(&f.seed, "seed", 1, "-synthetic: the random seed")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("simulate: unexpected argument %q", fs.Arg(0))
	}
	switch f.format {
	case "table", "json", "svg":
	default:
		return nil, fmt.Errorf("simulate: -format %q: want table, json or svg", f.format)
	}
	return f, nil
}

// period is -from and -to (zero when not given).
func (f *simFlags) period() (from, to time.Time, err error) {
	for _, p := range []struct {
		name, v string
		t       *time.Time
	}{{"-from", f.from, &from}, {"-to", f.to, &to}} {
		if p.v == "" {
			continue
		}
		if *p.t, err = time.Parse(time.RFC3339, p.v); err != nil {
			return from, to, fmt.Errorf("simulate: %s %q: want a time like 2026-01-05T09:00:00Z", p.name, p.v)
		}
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return from, to, fmt.Errorf("simulate: -to %s is not after -from %s", f.to, f.from)
	}
	return from, to, nil
}

// changes are the flags' what-ifs, checked against the departments and
// agents the traffic names.
func (f *simFlags) changes(depts, agents map[string]bool) (actors.Changes, error) {
	ch := actors.Changes{Policy: map[string]messages.RoutingPolicy{}, OfferTimeout: map[string]time.Duration{},
		Limit: map[string]uint32{}, Remove: map[string]bool{}, Shift: map[string]actors.Window{}}
	k := known{depts: depts, agents: agents}
	steps := []func() error{
		func() error {
			return eachPair("-policy", f.policy, k.dept, func(d, v string) error { return setPolicy(ch.Policy, d, v) })
		},
		func() error {
			return eachPair("-limit", f.limit, k.agent, func(a, v string) error { return setLimit(ch.Limit, a, v) })
		},
		func() error {
			return eachPair("-offer-timeout", f.timeout, k.dept, func(d, v string) error { return setTimeout(ch.OfferTimeout, d, v) })
		},
		func() error {
			return eachPair("-shift", f.shift, k.agent, func(a, v string) error { return setShift(ch.Shift, a, v) })
		},
		func() error { return f.removals(ch.Remove, k) },
		func() error { return f.additions(&ch, k) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return ch, err
		}
	}
	return ch, nil
}

// known are the traffic's departments and agents.
type known struct{ depts, agents map[string]bool }

func (k known) dept(id string) error  { return k.check("department", id, k.depts) }
func (k known) agent(id string) error { return k.check("agent", id, k.agents) }
func (k known) check(what, id string, m map[string]bool) error {
	if m[id] {
		return nil
	}
	return fmt.Errorf("no %s %q in the traffic (it has: %s)", what, id, strings.Join(slices.Sorted(maps.Keys(m)), ", "))
}

// eachPair parses each NAME=VALUE of a flag, NAME checked by known.
func eachPair(flagName string, vals []string, known func(string) error, set func(name, v string) error) error {
	for _, v := range vals {
		name, val, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			return fmt.Errorf("simulate: %s %q: want NAME=VALUE", flagName, v)
		}
		if err := known(name); err != nil {
			return fmt.Errorf("simulate: %s %q: %w", flagName, v, err)
		}
		if err := set(name, val); err != nil {
			return fmt.Errorf("simulate: %s %q: %w", flagName, v, err)
		}
	}
	return nil
}

func setPolicy(m map[string]messages.RoutingPolicy, dept, v string) error {
	switch v {
	case "least_loaded":
		m[dept] = messages.RoutingPolicy_ROUTING_POLICY_LEAST_LOADED
	case "round_robin":
		m[dept] = messages.RoutingPolicy_ROUTING_POLICY_ROUND_ROBIN
	case "manual":
		m[dept] = messages.RoutingPolicy_ROUTING_POLICY_MANUAL
	default:
		return fmt.Errorf("unknown policy %q (least_loaded, round_robin or manual)", v)
	}
	return nil
}

func setLimit(m map[string]uint32, agent, v string) error {
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n == 0 {
		return fmt.Errorf("the limit %q is not a positive number", v)
	}
	m[agent] = uint32(n)
	return nil
}

func setTimeout(m map[string]time.Duration, dept, v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second || d > 24*time.Hour {
		return fmt.Errorf("the timeout %q is not a duration from a second to 24 hours", v)
	}
	m[dept] = d
	return nil
}

func setShift(m map[string]actors.Window, agent, v string) error {
	a, b, ok := strings.Cut(v, "-")
	from, err1 := clockTime(a)
	to, err2 := clockTime(b)
	if !ok || err1 != nil || err2 != nil {
		return fmt.Errorf("the shift %q is not HH:MM-HH:MM", v)
	}
	m[agent] = actors.Window{From: from, To: to}
	return nil
}

// clockTime is HH:MM as the time since midnight.
func clockTime(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, err
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

func (f *simFlags) removals(m map[string]bool, k known) error {
	for _, id := range f.remove {
		if err := k.agent(id); err != nil {
			return fmt.Errorf("simulate: -remove-agent %q: %w", id, err)
		}
		m[id] = true
	}
	return nil
}

func (f *simFlags) additions(ch *actors.Changes, k known) error {
	for _, v := range f.add {
		a, err := parseAddAgent(v, k)
		if err != nil {
			return fmt.Errorf("simulate: -add-agent %q: %w", v, err)
		}
		ch.Add = append(ch.Add, a)
	}
	return nil
}

// parseAddAgent parses ID:dept=D1+D2:langs=en+es:limit=N[:from=HH:MM:to=HH:MM].
func parseAddAgent(v string, k known) (actors.SimAgent, error) {
	parts := addAgentParts(v)
	a := actors.SimAgent{ID: parts[0], Limit: 1}
	if a.ID == "" || k.agents[a.ID] {
		return a, fmt.Errorf("the new agent needs an id that is not a recorded agent's")
	}
	var from, to string
	for _, p := range parts[1:] {
		key, val, _ := strings.Cut(p, "=")
		var err error
		switch key {
		case "dept":
			a.Departments = strings.Split(val, "+")
		case "langs":
			a.Languages = strings.Split(val, "+")
		case "limit":
			n, perr := strconv.ParseUint(val, 10, 32)
			if perr != nil || n == 0 {
				err = fmt.Errorf("limit=%q is not a positive number", val)
			}
			a.Limit = uint32(n)
		case "from":
			from = val
		case "to":
			to = val
		default:
			err = fmt.Errorf("unknown part %q (dept=, langs=, limit=, from=, to=)", p)
		}
		if err != nil {
			return a, err
		}
	}
	return a, finishAgent(&a, k, from, to)
}

// finishAgent checks a new agent's departments and languages and sets
// its hours (from= and to=, both or neither).
func finishAgent(a *actors.SimAgent, k known, from, to string) error {
	if len(a.Departments) == 0 || len(a.Languages) == 0 {
		return fmt.Errorf("the new agent needs dept= and langs=")
	}
	for _, d := range a.Departments {
		if err := k.dept(d); err != nil {
			return err
		}
	}
	if from == "" && to == "" {
		return nil
	}
	f, err1 := clockTime(from)
	t, err2 := clockTime(to)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("from= and to= must both be HH:MM")
	}
	a.Window = &actors.Window{From: f, To: t}
	return nil
}

// addAgentParts splits an -add-agent value at its colons, keeping a
// time's minutes with its hour (from=09:00).
func addAgentParts(v string) []string {
	var out []string
	for i, p := range strings.Split(v, ":") {
		if n := len(out); i > 1 && !strings.Contains(p, "=") && (strings.HasPrefix(out[n-1], "from=") || strings.HasPrefix(out[n-1], "to=")) &&
			!strings.Contains(out[n-1], ":") {
			out[n-1] += ":" + p
			continue
		}
		out = append(out, p)
	}
	return out
}
