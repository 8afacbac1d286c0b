package otel

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/cylestio/perimeter/internal/defaults"
	"github.com/cylestio/perimeter/sink"
)

// Options configure the exporter (telemetry.otel in the configuration).
type Options struct {
	// Protocol is ProtocolHTTP (OTLP/HTTP with protobuf, the default) or
	// ProtocolGRPC (OTLP/gRPC).
	Protocol string
	// Endpoint is the collector's URL. Over HTTP, a URL without a path
	// ("http://collector:4318") gets the traces path /v1/traces; one with
	// a path is used as it is. Over gRPC it is scheme, host and port
	// ("http://collector:4317"), without a path. http:// sends in clear
	// text, https:// over TLS with the system's roots.
	Endpoint string
	// Headers are sent with every export (an API key for a hosted backend).
	Headers map[string]string
	// ServiceName is the resource's service.name (default "perimeter").
	ServiceName string
	// ResourceAttributes are added to the resource (deployment.environment,
	// service.namespace, …); OTEL_RESOURCE_ATTRIBUTES is read as well.
	ResourceAttributes map[string]string
	// CaptureContent exports message texts, tool arguments and results.
	CaptureContent bool
	// QueueSize bounds the spans waiting for export (default 4096);
	// BatchSize and BatchTimeout cut export batches (default 512, 1 s).
	QueueSize    int
	BatchSize    int
	BatchTimeout time.Duration
	// ExportTimeout bounds one export attempt (default 10 s);
	// RetryMaxElapsed bounds the retries of one batch (default 30 s; 0
	// keeps the default, a negative value disables retries).
	ExportTimeout   time.Duration
	RetryMaxElapsed time.Duration
	// ToolTimeout ends a tool span whose result has not come back
	// (default 10 min); MaxPending bounds the open tool spans and the
	// sessions remembered for parenting (default 10,000).
	ToolTimeout time.Duration
	MaxPending  int
	// Version is the service.version.
	Version string
	Logger  zerolog.Logger
}

// The protocols Options.Protocol takes.
const (
	ProtocolHTTP = "http"
	ProtocolGRPC = "grpc"
)

func (o *Options) setDefaults() {
	if o.Protocol == "" {
		o.Protocol = ProtocolHTTP
	}
	if o.ServiceName == "" {
		o.ServiceName = "perimeter"
	}
	defaults.Set(&o.QueueSize, 4096)
	defaults.Set(&o.BatchSize, 512)
	defaults.Set(&o.BatchTimeout, time.Second)
	defaults.Set(&o.ExportTimeout, 10*time.Second)
	if o.RetryMaxElapsed == 0 {
		o.RetryMaxElapsed = 30 * time.Second
	}
	defaults.Set(&o.ToolTimeout, 10*time.Minute)
	defaults.Set(&o.MaxPending, 10000)
}

// TracesURL is the URL spans are posted to for endpoint.
func TracesURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("telemetry.otel.endpoint %q: want an http:// or https:// URL such as http://127.0.0.1:4318", endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	return u.String(), nil
}

// GRPCTarget checks an OTLP/gRPC endpoint: an http:// (clear text) or
// https:// URL with a host and no path.
func GRPCTarget(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", fmt.Errorf("telemetry.otel.endpoint %q: over grpc, want an http:// (clear text) or https:// URL without a path, such as http://127.0.0.1:4317", endpoint)
	}
	u.Path = ""
	return u.String(), nil
}

// Writer turns events into spans. Its WriteBatch is called from one
// pipeline goroutine; Close ends what is open and flushes.
type Writer struct {
	opts   Options
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
	q      *queue
	state  state
}

// New builds the exporter. It does not connect: an unreachable collector
// shows up as failed exports in Metrics, never as an error here.
func New(o Options) (*Writer, error) {
	o.setDefaults()
	var (
		exp sdktrace.SpanExporter
		err error
	)
	switch o.Protocol {
	case ProtocolHTTP:
		exp, err = newHTTPExporter(o)
	case ProtocolGRPC:
		exp, err = newGRPCExporter(o)
	default:
		err = fmt.Errorf("telemetry.otel.protocol %q: want %s or %s", o.Protocol, ProtocolHTTP, ProtocolGRPC)
	}
	if err != nil {
		return nil, err
	}
	return newWriter(o, exp)
}

// backoff is the retry schedule of a failed export, both protocols.
const (
	retryInitial = 500 * time.Millisecond
	retryMax     = 5 * time.Second
)

func newHTTPExporter(o Options) (sdktrace.SpanExporter, error) {
	endpoint, err := TracesURL(o.Endpoint)
	if err != nil {
		return nil, err
	}
	eo := []otlptracehttp.Option{
		otlptracehttp.WithEndpointURL(endpoint),
		otlptracehttp.WithTimeout(o.ExportTimeout),
		otlptracehttp.WithCompression(otlptracehttp.GzipCompression),
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: o.RetryMaxElapsed > 0,
			InitialInterval: retryInitial, MaxInterval: retryMax, MaxElapsedTime: max(o.RetryMaxElapsed, 0)}),
	}
	if len(o.Headers) > 0 {
		eo = append(eo, otlptracehttp.WithHeaders(o.Headers))
	}
	exp, err := otlptracehttp.New(context.Background(), eo...)
	if err != nil {
		return nil, fmt.Errorf("telemetry.otel: %w", err)
	}
	return exp, nil
}

// newGRPCExporter dials lazily: a collector that is down shows up as
// failed exports, as over HTTP.
func newGRPCExporter(o Options) (sdktrace.SpanExporter, error) {
	endpoint, err := GRPCTarget(o.Endpoint)
	if err != nil {
		return nil, err
	}
	eo := []otlptracegrpc.Option{
		otlptracegrpc.WithEndpointURL(endpoint),
		otlptracegrpc.WithTimeout(o.ExportTimeout),
		otlptracegrpc.WithCompressor("gzip"),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: o.RetryMaxElapsed > 0,
			InitialInterval: retryInitial, MaxInterval: retryMax, MaxElapsedTime: max(o.RetryMaxElapsed, 0)}),
	}
	if len(o.Headers) > 0 {
		eo = append(eo, otlptracegrpc.WithHeaders(o.Headers))
	}
	exp, err := otlptracegrpc.New(context.Background(), eo...)
	if err != nil {
		return nil, fmt.Errorf("telemetry.otel: %w", err)
	}
	return exp, nil
}

func newWriter(o Options, exp sdktrace.SpanExporter) (*Writer, error) {
	o.setDefaults()
	attrs := []attribute.KeyValue{semconv.ServiceName(o.ServiceName)}
	if o.Version != "" {
		attrs = append(attrs, semconv.ServiceVersion(o.Version))
	}
	for k, v := range o.ResourceAttributes {
		attrs = append(attrs, attribute.String(k, v))
	}
	res, err := resource.Merge(resource.Default(), resource.NewWithAttributes(semconv.SchemaURL, attrs...))
	if err != nil && !errors.Is(err, resource.ErrSchemaURLConflict) {
		return nil, fmt.Errorf("telemetry.otel.resource_attributes: %w", err)
	}
	q := newQueue(exp, o.QueueSize, o.BatchSize, o.BatchTimeout)
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithIDGenerator(presetIDs{}),
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithSpanProcessor(q),
	)
	w := &Writer{opts: o, tp: tp, tracer: tp.Tracer("github.com/cylestio/perimeter"), q: q}
	w.state.init(o.MaxPending)
	return w, nil
}

// Name is "otel".
func (w *Writer) Name() string { return "otel" }

// Volatile: its batches need no spill log (sink.Volatile).
func (w *Writer) Volatile() bool { return true }

// WriteBatch turns the batch into spans and queues them; it never fails.
func (w *Writer) WriteBatch(_ context.Context, batch []*sink.Event) error {
	w.convert(batch, time.Now())
	return nil
}

// Close ends the open tool spans, exports what is queued (waiting at most
// the export timeout) and stops the exporter.
func (w *Writer) Close() error { return w.CloseContext(context.Background()) }

// CloseContext is Close that also gives up when ctx ends (the pipeline's
// shutdown deadline, sink.ContextCloser): the spans the collector has not
// taken by then are lost, and the error says how many.
func (w *Writer) CloseContext(ctx context.Context) error {
	w.endAllTools()
	sctx, cancel := context.WithTimeout(ctx, w.opts.ExportTimeout)
	defer cancel()
	err := w.tp.Shutdown(sctx)
	m := w.Metrics()
	if m.Dropped > 0 || m.FailedSpans > 0 {
		w.opts.Logger.Warn().Uint64("dropped", m.Dropped).Uint64("failed", m.FailedSpans).Str("last_error", m.LastError).
			Msg("OpenTelemetry export lost spans (queue full or collector unreachable); see telemetry.otel.queue_size and the collector")
	}
	if ctx.Err() != nil {
		var lost uint64
		if done := m.Exported + m.FailedSpans; m.Enqueued > done {
			lost = m.Enqueued - done
		}
		return fmt.Errorf("otel: the collector had not taken %d spans by the shutdown deadline; they are lost", lost)
	}
	if err != nil && strings.Contains(err.Error(), "context deadline exceeded") {
		return nil // counted above; the stores have the events
	}
	return err
}

// Flush exports what is queued now (tests, shutdown).
func (w *Writer) Flush(ctx context.Context) error { return w.tp.ForceFlush(ctx) }

// Metrics are the exporter's counters.
type Metrics struct {
	Queued      int    `json:"queued"` // spans waiting for export now
	Capacity    int    `json:"queue_capacity"`
	Enqueued    uint64 `json:"enqueued"`     // spans ended and queued, total
	Exported    uint64 `json:"exported"`     // spans the collector took
	Dropped     uint64 `json:"dropped"`      // spans dropped because the queue was full
	FailedSpans uint64 `json:"failed_spans"` // spans of batches that failed after retries
	Failures    uint64 `json:"failed_exports"`
	OpenTools   int    `json:"open_tool_spans"`
	LastError   string `json:"last_error,omitempty"`
}

// Metrics returns a snapshot; safe at any time.
func (w *Writer) Metrics() Metrics {
	m := Metrics{
		Queued: len(w.q.spans), Capacity: cap(w.q.spans),
		Enqueued: w.q.enqueued.Load(), Exported: w.q.exported.Load(), Dropped: w.q.dropped.Load(),
		FailedSpans: w.q.failedSpans.Load(), Failures: w.q.failures.Load(),
		OpenTools: int(w.state.open.Load()),
	}
	if e, ok := w.q.lastErr.Load().(string); ok {
		m.LastError = e
	}
	return m
}
