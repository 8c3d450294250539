// The broker's Prometheus registry: one per run of Main, with the Go and
// process collectors and the build's version; each package registers its
// own metrics on it.

package main

import (
	"net/http"
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/persistence"
)

// newRegistry makes this run's registry (m.reg) unless metrics are off
// (nil). One registry per run: a workspace reset starts with fresh
// metrics.
func (m *Main) newRegistry() *prometheus.Registry {
	m.reg = nil
	if m.shared != nil {
		m.reg = m.sharedReg
	} else if !m.cfg.NoMetrics {
		m.reg = buildRegistry()
	}
	return m.reg
}

// storeMetrics sets o's Metrics on reg, unless reg is nil (off).
func storeMetrics(o persistence.Options, reg *prometheus.Registry) persistence.Options {
	if reg != nil {
		o.Metrics = persistence.NewMetrics(reg)
	}
	return o
}

// actorsMetrics sets a's Metrics on reg, unless reg is nil (off).
func actorsMetrics(a *actors.Config, reg *prometheus.Registry) {
	if reg != nil {
		a.Metrics = actors.NewMetrics(reg)
	}
}

// gatewayMetrics sets g's Metrics and /metrics handler on reg, unless reg
// is nil (off).
func (m *Main) gatewayMetrics(g *gateway.Config, reg *prometheus.Registry) {
	if reg != nil {
		g.Metrics, g.MetricsHandler = gateway.NewMetrics(reg), m.metricsHandler(reg)
	}
}

// buildRegistry returns a registry with the Go and process collectors,
// the garbage collector's pauses and switchboard_build_info.
func buildRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), newGCPauses())
	version := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		version = bi.Main.Version
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{Name: "switchboard_build_info",
		Help:        "1, with the broker's module version and the Go version it was built with as labels.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()}})
	build.Set(1)
	reg.MustRegister(build)
	return reg
}

// metricsHandler serves reg's metrics in the exposition format; a
// collector's error is logged and the rest still served.
func (m *Main) metricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: metricsLog{m}, ErrorHandling: promhttp.ContinueOnError})
}

// metricsLog puts promhttp's errors in the broker's log.
type metricsLog struct{ m *Main }

func (l metricsLog) Println(v ...any) { l.m.cfg.Logger.Error("metrics", "err", v) }
