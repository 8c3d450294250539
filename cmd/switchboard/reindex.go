package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/switchboard-chat/switchboard/persistence"
)

// runReindex is `switchboard reindex -data DIR`: it rebuilds the chat
// history index and the statistics from the chat logs, on a stopped
// broker's data folder. A broker rebuilds them by itself when their
// layout changes; this is for repairs, and to check that the figures
// kept as events happen equal those of the logs.
func runReindex(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reindex", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data", env("SWITCHBOARD_DATA", defaultDataDir), "the data folder of a stopped broker (env SWITCHBOARD_DATA)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fi, err := os.Stat(*dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("reindex: %s is not a data folder", *dir)
	}
	start := time.Now()
	n, err := persistence.Reindex(*dir, persistence.Options{Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return fmt.Errorf("reindex %s: %w", *dir, err)
	}
	fmt.Fprintf(stdout, "reindexed %s in %s (%d entries folded after the rebuild)\n", *dir, time.Since(start).Round(time.Millisecond), n)
	return nil
}
