// main dispatches the subcommands.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "switchboard:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "chat":
			return runChat(ctx, args[1:], stdin, stdout, stderr)
		case "bench":
			return runBench(ctx, args[1:], stdout, stderr)
		case "bench-echo":
			return runBenchEcho(ctx, args[1:], stdout, stderr)
		case "simulate":
			return runSimulate(ctx, args[1:], stdout, stderr)
		case "cluster":
			return runCluster(ctx, args[1:], stdout, stderr)
		case "reindex":
			return runReindex(ctx, args[1:], stdout, stderr)
		case "bench-hold":
			return runBenchHold(ctx, args[1:], stdin, stdout, stderr)
		}
	}
	return runServe(ctx, args, stdout, stderr)
}

// env is a variable's value, or def when it is unset.
func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServe(args, os.Getenv, stderr)
	if err != nil {
		return err
	}
	cfg.Out = stdout

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if cfg.Cluster.on() {
		return serveCluster(ctx, cfg)
	}
	m := NewMain(cfg)
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	<-ctx.Done()
	cfg.Logger.Info("shutting down")
	return m.Close()
}

// serveCluster runs a cluster node until a signal (a clean leave) or a
// fault that stops it (an error: the process exits 1, and its supervisor
// starts it again).
func serveCluster(ctx context.Context, cfg Config) error {
	n, err := startCluster(ctx, cfg)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		cfg.Logger.Info("shutting down")
		return n.Close()
	case <-n.Done():
		return n.Err()
	}
}
