package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/gateway"
)

// A malformed flag or environment value stops the broker with a message
// that names the flag or variable and the value.
func TestConfigRefusesMalformedValues(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want []string
	}{
		{env: map[string]string{"SWITCHBOARD_LIMIT_FRAMES": "fast"}, want: []string{"SWITCHBOARD_LIMIT_FRAMES", `"fast"`, "a number"}},
		{env: map[string]string{"SWITCHBOARD_SILENT_WAIT": "10"}, want: []string{"SWITCHBOARD_SILENT_WAIT", `"10"`, "duration"}},
		{env: map[string]string{"SWITCHBOARD_LINE_PER_ADDRESS": "2.5"}, want: []string{"SWITCHBOARD_LINE_PER_ADDRESS", `"2.5"`, "whole number"}},
		{env: map[string]string{"SWITCHBOARD_ARGON2_MEMORY_KIB": "lots"}, want: []string{"SWITCHBOARD_ARGON2_MEMORY_KIB", `"lots"`}},
		{args: []string{"-limit-conns", "many"}, want: []string{"-limit-conns", `"many"`}},
		{args: []string{"-agent-grace", "-5s"}, want: []string{"AgentGrace", "-5s"}},
		{args: []string{"-trusted-proxies", "10.0.0.0/33"}, want: []string{"TrustedProxies", "10.0.0.0/33"}},
		{args: []string{"-log", "loud"}, want: []string{"-log", "loud"}},
		{args: []string{"-log-format", "xml"}, want: []string{"-log-format", `"xml"`, "json or text"}},
		{env: map[string]string{"SWITCHBOARD_LOG_FORMAT": "logfmt"}, want: []string{"SWITCHBOARD_LOG_FORMAT", `"logfmt"`}},
		{args: []string{"-login-hashes", "-1"}, want: []string{"Logins.MaxHashes", "-1"}},
	} {
		getenv := func(name string) string { return c.env[name] }
		_, err := parseServe(c.args, getenv, io.Discard)
		if err == nil {
			t.Errorf("%v %v: accepted", c.args, c.env)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v %v: error %q does not say %q", c.args, c.env, err, w)
			}
		}
	}
}

// The flags' defaults are the packages' defaults: a command line without
// flags configures what a zero Config does, and 0 means the default.
func TestConfigFlagsMeanTheDefaults(t *testing.T) {
	none := func(string) string { return "" }
	cfg, err := parseServe(nil, none, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var zero gateway.Limits
	if got, want := *cfg.Gateway.Limits.EnsureDefaults(), *zero.EnsureDefaults(); got != want {
		t.Errorf("default limits: %+v, want %+v", got, want)
	}
	if got, want := *cfg.actorsConfig().EnsureDefaults(), *(&Config{Logger: cfg.Logger}).actorsConfig().EnsureDefaults(); got != want {
		t.Errorf("default actors config: %+v, want %+v", got, want)
	}
	if cfg.MinFreeBytes != 1<<30 || cfg.AuditRetention != defaultAuditRetention || cfg.Gateway.AuditPerMinute != gateway.DefaultAuditPerMinute ||
		cfg.RoutingRetention != defaultRoutingRetention || (&Config{}).EnsureDefaults().RoutingRetention != defaultRoutingRetention {
		t.Errorf("min free %d, retention %s, audits %d, routing retention %s", cfg.MinFreeBytes, cfg.AuditRetention, cfg.Gateway.AuditPerMinute, cfg.RoutingRetention)
	}

	zeros, err := parseServe(strings.Fields("-limit-frames 0 -limit-conns 0 -limit-chats 0 -limit-hellos 0 -silent-wait 0 -min-free-mb 0"), none, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := *zeros.Gateway.Limits.EnsureDefaults(), *zero.EnsureDefaults(); got != want {
		t.Errorf("limits of 0: %+v, want the defaults %+v", got, want)
	}
	if got := zeros.actorsConfig().EnsureDefaults().SilentWait; got != 10*time.Minute {
		t.Errorf("silent wait of 0: %s, want the default", got)
	}
}

// A negative flag turns its limit off.
func TestConfigNegativeFlagsTurnLimitsOff(t *testing.T) {
	none := func(string) string { return "" }
	off, err := parseServe(strings.Fields("-limit-frames -1 -limit-conns -1 -limit-chats -1 -limit-hellos -1 -silent-wait -1s -line-per-address -1 -min-free-mb -1 -audit-per-minute -1 -audit-retention -1s -routing-retention -1s"), none, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	l := off.Gateway.Limits
	if l.FramesPerSecond >= 0 || l.ConnsPerAddress >= 0 || l.HTTPConnsPerAddress >= 0 || l.ChatRequestsPerMinute >= 0 || l.HellosPerMinute >= 0 ||
		off.SilentWait >= 0 || off.LinePerAddress >= 0 || off.MinFreeBytes >= 0 || off.Gateway.AuditPerMinute >= 0 || off.AuditRetention >= 0 || off.RoutingRetention >= 0 {
		t.Errorf("negative flags did not turn the limits off: %+v", off)
	}
}

// Logs are JSON unless asked otherwise when they do not go to a terminal
// (a collector reads them), text with -log-format text.
func TestConfigLogFormat(t *testing.T) {
	none := func(string) string { return "" }
	for _, c := range []struct {
		args []string
		json bool
	}{{nil, true}, {[]string{"-log-format", "json"}, true}, {[]string{"-log-format", "text"}, false}} {
		var out bytes.Buffer
		cfg, err := parseServe(c.args, none, &out)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Logger.Info("hello", "chat", "c1")
		var line map[string]any
		isJSON := json.Unmarshal(out.Bytes(), &line) == nil && line["msg"] == "hello" && line["chat"] == "c1"
		if isJSON != c.json || !strings.Contains(out.String(), "c1") {
			t.Errorf("%v: log line %q, want JSON %v", c.args, out.String(), c.json)
		}
	}
}
