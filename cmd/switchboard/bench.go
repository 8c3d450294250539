package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-chat/switchboard/bench"
)

// runBench binds the bench subcommand's flags to bench.Config.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("switchboard bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	profile := fs.String("profile", "smoke", "load profile: "+bench.ProfileNames())
	out := fs.String("out", "bench-out", "folder for report.json and latency.svg")
	target := fs.String("target", "", "host:port of a running broker to drive instead of starting one")
	token := fs.String("admin-token", os.Getenv("SWITCHBOARD_ADMIN_TOKEN"), "admin token of the -target broker (env SWITCHBOARD_ADMIN_TOKEN)")
	phase := fs.Duration("phase", 0, "length of each phase (default: the profile's)")
	chats := fs.Int("chats", 0, "open chats in the message phases (default: the profile's)")
	pprof := fs.Bool("pprof", false, "write CPU profiles of the broker during the closed-loop phases to -out")
	idle := fs.Int("idle", -1, "idle connections to hold (default: the profile's)")
	keep := fs.Bool("keep-data", false, "keep the broker's data folder after the run")
	crash := fs.Int("crash", -1, "SIGKILL crash cycles (default: the profile's)")
	routing := fs.Int("routing", -1, "chats of the routing phase, where agents decline, let offers expire, transfer and take shifts (default: the profile's; keep the data with -keep-data for switchboard simulate)")
	departments := fs.String("departments", "", "comma-separated names of the departments to load (default: bench-d0, bench-d1, ...; their number is the profile's unless more are named)")
	failovers := fs.Int("failovers", -1, "cluster profiles: SIGKILLs of the node that owns the actors while the chats stream (default: the profile's)")
	etcd := fs.String("etcd", "", "cluster profiles: the etcd binary to start (default: ETCD_BIN, else etcd on the PATH, else /usr/bin/etcd)")
	overhead := fs.Bool("routing-overhead", false, "measure assign-max again with -routing-records=false on the same broker, for the cost of recording routing decisions")
	if err := fs.Parse(args); err != nil {
		return err
	}
	p, ok := bench.Profiles[*profile]
	if !ok {
		return fmt.Errorf("-profile: %q is not one of %s", *profile, bench.ProfileNames())
	}
	if *phase > 0 {
		p.AssignPhase, p.MessagePhase = *phase, *phase
	}
	if *chats > 0 {
		p.Chats = *chats
	}
	if *idle >= 0 {
		p.IdleConnections = *idle
	}
	if *crash >= 0 {
		p.CrashCycles = *crash
	}
	if *routing >= 0 {
		p.RoutingChats = *routing
	}
	if *failovers >= 0 {
		p.Failovers = *failovers
	}
	p.RoutingOverhead = p.RoutingOverhead || *overhead
	if *departments != "" {
		p.DepartmentNames = strings.Split(*departments, ",")
		p.Departments = len(p.DepartmentNames)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	_, err := bench.Run(ctx, bench.Config{Profile: p, Out: *out, Target: *target, AdminToken: *token,
		Pprof: *pprof, KeepData: *keep, Etcd: *etcd, Progress: stderr, Summary: stdout})
	return err
}

// runBenchEcho is the echo baseline's child process.
func runBenchEcho(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("switchboard bench-echo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return bench.ServeEcho(ctx, *addr, stdout)
}

// runBenchHold is a connection holder's child process: it ends when
// signalled or when its stdin closes (the harness went away).
func runBenchHold(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("switchboard bench-hold", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "visitor websocket URL")
	n := fs.Int("n", 1000, "connections to hold")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		io.Copy(io.Discard, stdin)
		cancel()
	}()
	start := time.Now()
	err := bench.Hold(ctx, *url, *n, stdout)
	if err != nil {
		return fmt.Errorf("after %s: %w", time.Since(start).Round(time.Millisecond), err)
	}
	return nil
}
