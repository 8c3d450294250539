// Package bench is the load harness. Run starts the broker (this program
// with its limits off) as a child process, or drives one already running
// (Config.Target), and runs its phases in order over real websockets:
// idle connections held by child processes (memory per connection), the
// assignment phases (closed loop, then open loop at half its rate), the
// message phases (likewise), crash cycles (SIGKILL while chats stream,
// restart, nothing acknowledged lost), bad input, an attack round on a
// broker of its own with the default limits, and the echo baseline (a
// plain coder/websocket server, ServeEcho) with the same connections and
// streams. It checks the routing and delivery invariants from what the
// clients saw and writes report.json and latency.svg. A cluster profile
// (Profile.Nodes, cluster.go) starts etcd and the nodes instead of the
// broker, spreads the clients over the nodes, and replaces the crash
// cycles and the attack round with failover cycles (failover.go): the
// owner killed with SIGKILL, the clients failing over to another node,
// every acknowledged message looked up in its transcript. cmd/switchboard's
// "bench" subcommand binds its flags to Config and calls Run; its
// "bench-echo" and "bench-hold" subcommands run ServeEcho and Hold.
//
// Concurrency contract: Run is one run, with no package state, so runs
// may not share a Config's Out folder but need nothing else. Within a
// run, the simulated clients are goroutines that record into shared
// counters, histograms (Hist: safe from any goroutine) and the invariants'
// ledger under its lock. Latencies are HDR histograms
// (github.com/HdrHistogram/hdrhistogram-go).
//
// It never imports cmd/switchboard (actors/lint_test.go's TestLayers): it
// starts the broker through Config.Command.
package bench
