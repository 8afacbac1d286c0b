package configs

import (
	"net/url"
	"strings"
)

// TelemetryConfig is how Perimeter reports to an observability stack:
// OpenTelemetry traces of the captured calls and the Prometheus series at
// /metrics/prometheus.
type TelemetryConfig struct {
	OTel       OTelConfig       `yaml:"otel"`
	Prometheus PrometheusConfig `yaml:"prometheus"`
}

// OTelConfig exports one span per model call and per tool execution over
// OTLP/HTTP (sink/otel).
type OTelConfig struct {
	Enabled bool `yaml:"enabled"`
	// Endpoint is the collector's OTLP/HTTP URL: "http://collector:4318"
	// (the traces path /v1/traces is added) or a full traces URL.
	Endpoint string `yaml:"endpoint"`
	// Headers go with every export (authorization for a hosted backend).
	Headers map[string]string `yaml:"headers"`
	// ServiceName is service.name (default perimeter); ResourceAttributes
	// are added to the resource (deployment.environment, …).
	ServiceName        string            `yaml:"service_name"`
	ResourceAttributes map[string]string `yaml:"resource_attributes"`
	// CaptureContent exports message texts and tool arguments and results
	// (gen_ai.input.messages, …), as storage.content keeps them. Off by
	// default.
	CaptureContent bool `yaml:"capture_content"`
	// QueueSize bounds the spans waiting for export: beyond it spans are
	// dropped and counted, never waited for.
	QueueSize      int `yaml:"queue_size"`
	BatchSize      int `yaml:"batch_size"`
	BatchTimeoutMS int `yaml:"batch_timeout_ms"`
	// ExportTimeoutMS bounds one export; RetryMaxElapsedMS the retries of
	// one batch (0: no retry).
	ExportTimeoutMS   int `yaml:"export_timeout_ms"`
	RetryMaxElapsedMS int `yaml:"retry_max_elapsed_ms"`
}

// PrometheusConfig shapes the series at /metrics/prometheus.
type PrometheusConfig struct {
	// MaxAgents is how many agents get their own label value (the busiest
	// ones); the others are counted under agent="other". 0 drops the agent
	// label. Default 20.
	MaxAgents int `yaml:"max_agents"`
}

// Stored content modes (storage.content).
const (
	ContentFull     = "full"
	ContentMasked   = "masked"
	ContentMetadata = "metadata"
)

func defaultTelemetry() TelemetryConfig {
	return TelemetryConfig{
		OTel: OTelConfig{
			ServiceName:       "perimeter",
			QueueSize:         4096,
			BatchSize:         512,
			BatchTimeoutMS:    1000,
			ExportTimeoutMS:   10000,
			RetryMaxElapsedMS: 30000,
		},
		Prometheus: PrometheusConfig{MaxAgents: 20},
	}
}

func (c *Config) validateTelemetry(ps *problems) {
	s := &c.Storage
	s.Content = strings.ToLower(strings.TrimSpace(s.Content))
	switch s.Content {
	case ContentFull, ContentMasked, ContentMetadata:
	case "":
		s.Content = ContentFull
	default:
		ps.errorf("storage.content", "must be full, masked or metadata, got %q", s.Content)
	}
	o := &c.Telemetry.OTel
	if o.Enabled {
		u, err := url.Parse(o.Endpoint)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			ps.errorf("telemetry.otel.endpoint", "must be the collector's OTLP/HTTP URL, such as http://127.0.0.1:4318, got %q", o.Endpoint)
		}
		nonEmpty(ps, "telemetry.otel.service_name", o.ServiceName)
	}
	atLeast(ps, "telemetry.otel.queue_size", o.QueueSize, 1)
	atLeast(ps, "telemetry.otel.batch_size", o.BatchSize, 1)
	atLeast(ps, "telemetry.otel.batch_timeout_ms", o.BatchTimeoutMS, 1)
	atLeast(ps, "telemetry.otel.export_timeout_ms", o.ExportTimeoutMS, 1)
	atLeast(ps, "telemetry.otel.retry_max_elapsed_ms", o.RetryMaxElapsedMS, 0)
	atLeast(ps, "telemetry.prometheus.max_agents", c.Telemetry.Prometheus.MaxAgents, 0)
}

// redactOTelHeaders hides every telemetry.otel.headers value: a backend's
// key may sit under any header name (x-honeycomb-team, dd-api-key, …).
func redactOTelHeaders(out map[string]any) {
	t, _ := out["telemetry"].(map[string]any)
	o, _ := t["otel"].(map[string]any)
	if h, ok := o["headers"].(map[string]any); ok {
		for k, v := range h {
			if s, ok := v.(string); !ok || s != "" {
				h[k] = RedactedValue
			}
		}
	}
}
