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
// OTLP/HTTP or OTLP/gRPC (sink/otel).
type OTelConfig struct {
	Enabled bool `yaml:"enabled"`
	// Protocol is http (OTLP/HTTP, protobuf; the default) or grpc.
	Protocol string `yaml:"protocol"`
	// Endpoint is the collector's URL. Over http: "http://collector:4318"
	// (the traces path /v1/traces is added) or a full traces URL; over
	// grpc: "http://collector:4317" (clear text) or https:// (TLS), no
	// path.
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
			Protocol:          "http",
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
	o.Protocol = strings.ToLower(strings.TrimSpace(o.Protocol))
	switch o.Protocol {
	case "http", "grpc":
	case "":
		o.Protocol = "http"
	default:
		ps.errorf("telemetry.otel.protocol", "must be http (OTLP/HTTP, port 4318) or grpc (OTLP/gRPC, port 4317), got %q", o.Protocol)
	}
	if o.Enabled {
		u, err := url.Parse(o.Endpoint)
		switch {
		case o.Protocol == "grpc" && (err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/")):
			ps.errorf("telemetry.otel.endpoint", "over grpc, must be the collector's URL without a path, such as http://127.0.0.1:4317 (https:// for TLS), got %q", o.Endpoint)
		case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
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
