// Config, the built-in load profiles, and their defaults and checks.

package bench

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"
)

// Profile is a load shape.
type Profile struct {
	Name string `json:"name"`
	// The directory the harness creates: agents spread over departments
	// and languages, with limits of 2 to 5 chats.
	Agents      int `json:"agents"`
	Departments int `json:"departments"`
	// DepartmentNames names the departments (default bench-d0, bench-d1,
	// ...): a run against the demo broker (-target) can load its own
	// departments, sales and support.
	DepartmentNames []string `json:"department_names,omitempty"`
	Languages       int      `json:"languages"`
	// MessageBytes is the length of every chat message's text.
	MessageBytes int `json:"message_bytes"`
	// Assignment phases: visitors ask for a chat, exchange ConvMessages
	// messages each way with the agent (one at a time), and close it.
	// AssignVisitors is the closed loop's concurrency; the open loop then
	// runs at half the closed loop's rate.
	ConvMessages   int           `json:"conv_messages"`
	AssignVisitors int           `json:"assign_visitors"`
	AssignPhase    time.Duration `json:"assign_phase_ns"`
	// Message phases: Chats chats stay open and both sides stream messages
	// with Window unacknowledged messages each (closed loop), then at half
	// that rate (open loop). The echo baseline gets the same connections,
	// streams, window and message size.
	Chats        int           `json:"chats"`
	Window       int           `json:"window"`
	MessagePhase time.Duration `json:"message_phase_ns"`
	// IdleConnections are visitor connections opened (with Hello) and held
	// by child processes of IdlePerHolder each, to measure memory per
	// connection.
	IdleConnections int `json:"idle_connections"`
	IdlePerHolder   int `json:"idle_per_holder"`
	// CrashCycles: after the message phases, kill the broker with SIGKILL
	// this many times while the chats stream, restart it on the same data,
	// and check that nothing acknowledged was lost (only for a broker the
	// harness started).
	CrashCycles int `json:"crash_cycles"`
	// BadInputRounds: how many times each kind of bad input is sent.
	BadInputRounds int `json:"bad_input_rounds"`
	// RoutingChats: chats of the routing phase (routing.go), in which
	// agents decline, let expire, transfer and take shifts, for
	// `switchboard simulate` to replay (-keep-data); 0: no such phase.
	// RoutingOverhead also measures assign-max again on the same broker
	// restarted with -routing-records=false.
	RoutingChats    int  `json:"routing_chats"`
	RoutingOverhead bool `json:"routing_overhead"`
	// Nodes: 0 or 1 runs one broker; 3 or more run a cluster (cluster.go):
	// etcd and Nodes broker nodes, all child processes, the clients spread
	// over the nodes' addresses. A cluster run has no crash cycles, no
	// routing overhead measure and no attack round (those restart or start
	// single brokers); it has failover cycles instead.
	Nodes int `json:"nodes,omitempty"`
	// Failovers (a cluster run): after the message phases, kill the node
	// that owns the actors with SIGKILL this many times while the chats
	// stream; the clients go on through another node (failover.go).
	Failovers int `json:"failovers,omitempty"`
}

// Profiles are the built-in load shapes. smoke finishes in well under a
// minute and runs in CI; standard is the one the README reports; soak runs
// each phase for two minutes. A process may hold 20,000 descriptors here,
// so the broker is given at most 15,000 idle connections.
var Profiles = map[string]Profile{
	"smoke": {Name: "smoke", Agents: 12, Departments: 3, Languages: 2, MessageBytes: 100,
		ConvMessages: 3, AssignVisitors: 12, AssignPhase: 3 * time.Second,
		Chats: 16, Window: 4, MessagePhase: 3 * time.Second,
		IdleConnections: 500, IdlePerHolder: 500, CrashCycles: 1, BadInputRounds: 5,
		RoutingChats: 300, RoutingOverhead: true},
	"standard": {Name: "standard", Agents: 100, Departments: 4, Languages: 3, MessageBytes: 100,
		ConvMessages: 3, AssignVisitors: 100, AssignPhase: 10 * time.Second,
		Chats: 128, Window: 8, MessagePhase: 10 * time.Second,
		IdleConnections: 10000, IdlePerHolder: 5000, BadInputRounds: 20,
		RoutingChats: 3000, RoutingOverhead: true},
	"soak": {Name: "soak", Agents: 200, Departments: 5, Languages: 3, MessageBytes: 100,
		ConvMessages: 5, AssignVisitors: 200, AssignPhase: 120 * time.Second,
		Chats: 256, Window: 8, MessagePhase: 120 * time.Second,
		IdleConnections: 15000, IdlePerHolder: 5000, CrashCycles: 10, BadInputRounds: 100,
		RoutingChats: 20000, RoutingOverhead: true},
	// cluster is smoke's load on three nodes, then three failovers; it
	// finishes in about a minute and a half. cluster-soak is soak's shape,
	// one minute a phase, and ten failovers.
	"cluster": {Name: "cluster", Nodes: 3, Agents: 12, Departments: 3, Languages: 2, MessageBytes: 100,
		ConvMessages: 3, AssignVisitors: 12, AssignPhase: 3 * time.Second,
		Chats: 16, Window: 4, MessagePhase: 3 * time.Second,
		IdleConnections: 300, IdlePerHolder: 100, Failovers: 3, BadInputRounds: 5,
		RoutingChats: 100},
	"cluster-soak": {Name: "cluster-soak", Nodes: 3, Agents: 200, Departments: 5, Languages: 3, MessageBytes: 100,
		ConvMessages: 5, AssignVisitors: 200, AssignPhase: 60 * time.Second,
		Chats: 256, Window: 8, MessagePhase: 60 * time.Second,
		IdleConnections: 3000, IdlePerHolder: 1000, Failovers: 10, BadInputRounds: 20,
		RoutingChats: 3000},
}

// ProfileNames lists the built-in profiles.
func ProfileNames() string {
	var names []string
	for n := range Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, "|")
}

// Config is one run of the harness.
type Config struct {
	Profile Profile
	// Out is the folder for report.json and latency.svg (created).
	Out string
	// Target is host:port of a running broker to drive instead of starting
	// one; AdminToken is its admin credential (the harness creates its own
	// departments and agents, named bench-*). Server figures (CPU, memory)
	// are only measured for a broker the harness started.
	Target     string
	AdminToken string
	// Command returns a command that runs this program with args: the
	// harness starts the broker ("-addr ..."), the echo server
	// ("bench-echo ...") and the connection holders ("bench-hold ...")
	// that way. Default: os.Executable().
	Command func(args ...string) *exec.Cmd
	// KeepData keeps the broker's data folder (it is printed) instead of
	// removing it, to look into after a run.
	KeepData bool
	// Pprof takes CPU profiles of the broker it started during the
	// closed-loop phases: Out/broker-<phase>.pprof (one broker only).
	Pprof bool
	// Etcd is the etcd binary a cluster run starts (Profile.Nodes > 1).
	// Default: ETCD_BIN, else etcd on the PATH, else /usr/bin/etcd
	// (Debian's etcd-server).
	Etcd string
	// Progress receives a progress line every second; Summary the table at
	// the end. Both may be nil.
	Progress io.Writer
	Summary  io.Writer
}

// clusterDefaults checks a cluster profile's settings and finds etcd.
func (c *Config) clusterDefaults() error {
	p := c.Profile
	if p.Nodes == 2 || p.Nodes < 0 || p.Failovers < 0 || p.Failovers > 0 && p.Nodes < 3 {
		return fmt.Errorf("bench: profile %q: a cluster needs 3 nodes or more (a failover needs a majority of the rest), failovers need a cluster", p.Name)
	}
	if p.Nodes > 1 && c.Target != "" {
		return fmt.Errorf("bench: profile %q starts a cluster of its own; -target drives one running broker", p.Name)
	}
	if c.Etcd == "" && p.Nodes > 1 {
		c.Etcd = EtcdPath()
	}
	return nil
}

func (c *Config) defaults() error {
	if c.Profile.Name == "" {
		c.Profile = Profiles["smoke"]
	}
	p := c.Profile
	if p.Agents < 1 || p.Departments < 1 || p.Languages < 1 || p.Languages > len(benchLanguages) || p.MessageBytes < 48 ||
		p.ConvMessages < 1 || p.AssignVisitors < 1 || p.Chats < 1 || p.Window < 1 || p.IdleConnections < 0 {
		return fmt.Errorf("bench: profile %q is out of range", p.Name)
	}
	if err := c.clusterDefaults(); err != nil {
		return err
	}
	if p.IdlePerHolder < 1 {
		c.Profile.IdlePerHolder = 5000
	}
	if c.Out == "" {
		c.Out = "bench-out"
	}
	if c.Command == nil {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		c.Command = func(args ...string) *exec.Cmd { return exec.Command(exe, args...) }
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Summary == nil {
		c.Summary = io.Discard
	}
	return nil
}
