// Command switchboard runs the Switchboard live-chat broker, and a terminal
// chat client to try it.
//
//	switchboard [-addr 127.0.0.1:8080] [-data ./data] [-demo]
//	switchboard chat -as visitor|agent ...
//	switchboard bench -profile smoke|standard|soak -out DIR
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-chat/switchboard/gateway"
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
		case "bench-hold":
			return runBenchHold(ctx, args[1:], stdin, stdout, stderr)
		}
	}
	return runServe(ctx, args, stdout, stderr)
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func envFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return v
	}
	return def
}

// limits turns the flags into gateway.Limits, where 0 is "off".
func limits(frames float64, conns int, chats, hellos float64) gateway.Limits {
	var l gateway.Limits
	if frames <= 0 {
		l.FramesPerSecond, l.FrameBurst = -1, -1
	} else {
		l.FramesPerSecond, l.FrameBurst = frames, int(max(1, 4*frames))
	}
	if conns <= 0 {
		l.ConnsPerAddress, l.HTTPConnsPerAddress = -1, -1
	} else {
		l.ConnsPerAddress, l.HTTPConnsPerAddress = conns, conns+100
	}
	if hellos <= 0 {
		l.HellosPerMinute, l.HelloBurst = -1, -1
	} else {
		l.HellosPerMinute, l.HelloBurst = hellos, int(max(1, hellos/2))
	}
	if chats <= 0 {
		l.ChatRequestsPerMinute, l.ChatRequestBurst = -1, -1
	} else {
		l.ChatRequestsPerMinute, l.ChatRequestBurst = chats, int(max(1, chats/3))
	}
	return l
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("switchboard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := Config{}
	fs.StringVar(&cfg.Addr, "addr", env("SWITCHBOARD_ADDR", "127.0.0.1:8080"), "listen address (env SWITCHBOARD_ADDR)")
	fs.StringVar(&cfg.DataDir, "data", env("SWITCHBOARD_DATA", "./data"), "data folder for Pebble (env SWITCHBOARD_DATA)")
	fs.BoolVar(&cfg.Demo, "demo", false, "create a demo directory (departments, languages, agents) when absent")
	origins := fs.String("origins", env("SWITCHBOARD_ORIGINS", ""), "comma-separated host patterns whose pages may open websockets (env SWITCHBOARD_ORIGINS)")
	fs.StringVar(&cfg.DebugAddr, "debug-addr", env("SWITCHBOARD_DEBUG_ADDR", ""), "serve /debug/pprof and /debug/vars on this address; keep it private (env SWITCHBOARD_DEBUG_ADDR)")
	fs.DurationVar(&cfg.AgentGrace, "agent-grace", envDuration("SWITCHBOARD_AGENT_GRACE", time.Minute), "how long an agent whose connection dropped keeps their chats (env SWITCHBOARD_AGENT_GRACE)")
	fs.DurationVar(&cfg.VisitorGrace, "visitor-grace", envDuration("SWITCHBOARD_VISITOR_GRACE", time.Minute), "how long a waiting visitor whose connection dropped keeps their place (env SWITCHBOARD_VISITOR_GRACE)")
	fs.DurationVar(&cfg.Gateway.FrameTimeout, "frame-timeout", envDuration("SWITCHBOARD_FRAME_TIMEOUT", 30*time.Second), "how long a frame may take to arrive once its first bytes came; then the socket is dropped (env SWITCHBOARD_FRAME_TIMEOUT)")
	fs.DurationVar(&cfg.SilentWait, "silent-wait", envDuration("SWITCHBOARD_SILENT_WAIT", 10*time.Minute), "how long a chat may wait in its queue while its visitor has said nothing; 0: no limit (env SWITCHBOARD_SILENT_WAIT)")
	fs.IntVar(&cfg.LinePerAddress, "line-per-address", int(envFloat("SWITCHBOARD_LINE_PER_ADDRESS", 10)), "chats from one client address that may wait in one department's line; 0: no limit (env SWITCHBOARD_LINE_PER_ADDRESS)")
	fs.DurationVar(&cfg.AuditRetention, "audit-retention", envDuration("SWITCHBOARD_AUDIT_RETENTION", 180*24*time.Hour), "how long audit entries are kept; 0: for ever (env SWITCHBOARD_AUDIT_RETENTION)")
	minFree := fs.Int64("min-free-mb", int64(envFloat("SWITCHBOARD_MIN_FREE_MB", 1024)), "refuse writes (new chats, messages) while the data folder's disk has less free space, in MiB; 0: no check (env SWITCHBOARD_MIN_FREE_MB)")
	auditPerMinute := fs.Int("audit-per-minute", int(envFloat("SWITCHBOARD_AUDIT_PER_MINUTE", 20)), "audit entries of one kind from one client address a minute; the rest are counted in one audit.suppressed entry; 0: no limit (env SWITCHBOARD_AUDIT_PER_MINUTE)")
	frames := fs.Float64("limit-frames", envFloat("SWITCHBOARD_LIMIT_FRAMES", 50), "frames a second one connection may send, in bursts of 4x; 0: no limit (env SWITCHBOARD_LIMIT_FRAMES)")
	conns := fs.Int("limit-conns", int(envFloat("SWITCHBOARD_LIMIT_CONNS", 1000)), "open websockets per client address (and this plus 100 TCP connections per peer address); 0: no limit (env SWITCHBOARD_LIMIT_CONNS)")
	hellos := fs.Float64("limit-hellos", envFloat("SWITCHBOARD_LIMIT_HELLOS", 60), "new visitor sessions a minute per client address, in bursts of a half; 0: no limit (env SWITCHBOARD_LIMIT_HELLOS)")
	chats := fs.Float64("limit-chats", envFloat("SWITCHBOARD_LIMIT_CHATS", 30), "chat requests a minute per client address, in bursts of a third; 0: no limit (env SWITCHBOARD_LIMIT_CHATS)")
	adminAllow := fs.String("admin-allow", env("SWITCHBOARD_ADMIN_ALLOW", ""), "comma-separated CIDR ranges the admin credential may be used from; empty: any (env SWITCHBOARD_ADMIN_ALLOW)")
	fs.IntVar(&cfg.Gateway.Logins.MaxHashes, "login-hashes", int(envFloat("SWITCHBOARD_LOGIN_HASHES", 0)), "password checks (argon2id) that may run at once; 0: a quarter of GOMEMLIMIT (or 256 MiB) over the argon2id memory, at most 4 per CPU (env SWITCHBOARD_LOGIN_HASHES)")
	proxies := fs.String("trusted-proxies", env("SWITCHBOARD_TRUSTED_PROXIES", ""), "comma-separated CIDR ranges of reverse proxies whose forwarded header names the client (env SWITCHBOARD_TRUSTED_PROXIES)")
	fs.StringVar(&cfg.Gateway.ForwardedHeader, "forwarded-header", env("SWITCHBOARD_FORWARDED_HEADER", "X-Forwarded-For"), "the header trusted proxies put the client's address in")
	level := fs.String("log", env("SWITCHBOARD_LOG", "info"), "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.Gateway.Limits = limits(*frames, *conns, *chats, *hellos)
	// Flags say 0 for "off"; the configuration says negative.
	if cfg.SilentWait <= 0 {
		cfg.SilentWait = -1
	}
	if cfg.LinePerAddress <= 0 {
		cfg.LinePerAddress = -1
	}
	if cfg.AuditRetention <= 0 {
		cfg.AuditRetention = -1
	}
	cfg.MinFreeBytes = max(*minFree<<20, -1)
	if cfg.MinFreeBytes == 0 {
		cfg.MinFreeBytes = -1
	}
	cfg.Gateway.AuditPerMinute = max(*auditPerMinute, -1)
	if cfg.Gateway.AuditPerMinute == 0 {
		cfg.Gateway.AuditPerMinute = -1
	}
	if *proxies != "" {
		cfg.Gateway.TrustedProxies = strings.Split(*proxies, ",")
	}
	if *adminAllow != "" {
		cfg.AdminAllow = strings.Split(*adminAllow, ",")
	}
	if *origins != "" {
		cfg.OriginPatterns = strings.Split(*origins, ",")
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("-log: %w", err)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))
	cfg.AdminToken = os.Getenv("SWITCHBOARD_ADMIN_TOKEN")
	if kib := os.Getenv("SWITCHBOARD_ARGON2_MEMORY_KIB"); kib != "" {
		n, err := strconv.ParseUint(kib, 10, 32)
		if err != nil {
			return fmt.Errorf("SWITCHBOARD_ARGON2_MEMORY_KIB: %w", err)
		}
		cfg.Password.MemoryKiB, cfg.Password.Time = uint32(n), 1
	}
	cfg.Out = stdout

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	m := NewMain(cfg)
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	<-ctx.Done()
	cfg.Logger.Info("shutting down")
	return m.Close()
}
