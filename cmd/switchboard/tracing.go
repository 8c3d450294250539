package main

// Tracing's wiring: an OTLP over HTTP exporter (not gRPC: the broker
// carries no gRPC stack for it) behind the SDK's batching span processor,
// sampled ParentBased(TraceIDRatioBased(-trace-sample)). Off unless
// -otlp-endpoint (SWITCHBOARD_OTLP_ENDPOINT) or the standard
// OTEL_EXPORTER_OTLP_ENDPOINT is set.

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// defaultTraceSample is the share of chat requests and messages traced
// when tracing is on: 1%, enough to follow the paths of a busy broker at
// a cost the bench does not see (README, Performance).
const defaultTraceSample = 0.01

// otlpURL is the traces URL of an OTLP/HTTP base URL: /v1/traces unless it
// names a path of its own.
func otlpURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("-otlp-endpoint %q is not an http(s) URL such as http://collector:4318", base)
	}
	if strings.Trim(u.Path, "/") == "" {
		u.Path = "/v1/traces"
	}
	return u.String(), nil
}

// startTracing builds the tracer provider when an endpoint is set and
// none was given (tests give theirs); Main shuts it down on Close.
func (m *Main) startTracing(ctx context.Context) error {
	c := &m.cfg
	if c.TracerProvider != nil || (c.OTLPEndpoint == "" && !c.OTLPFromEnv) {
		return nil
	}
	var opts []otlptracehttp.Option // none: the OTEL_EXPORTER_OTLP_* variables
	if c.OTLPEndpoint != "" {
		u, err := otlpURL(c.OTLPEndpoint)
		if err != nil {
			return err
		}
		opts = append(opts, otlptracehttp.WithEndpointURL(u))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	sample := c.TraceSample
	if sample == 0 {
		sample = defaultTraceSample
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(sample))),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "switchboard"))),
	)
	m.tp = tp
	m.cfg.Logger.Info("tracing on", "sample", sample)
	return nil
}

// stopTracing flushes and stops the provider Main built, if any.
func (m *Main) stopTracing(ctx context.Context) error {
	if m.tp == nil {
		return nil
	}
	err := m.tp.Shutdown(ctx)
	m.tp = nil
	return err
}

// tracerProvider is what the actors and the gateway trace with: the one
// given, the one built, or none.
func (m *Main) tracerProvider() trace.TracerProvider {
	if m.cfg.TracerProvider != nil {
		return m.cfg.TracerProvider
	}
	if m.tp != nil {
		return m.tp
	}
	return nil
}
