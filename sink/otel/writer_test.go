package otel

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/cylestio/perimeter/sink"
)

// memExporter keeps what it is given; block makes exports hang until
// released.
type memExporter struct {
	mu      sync.Mutex
	spans   []sdktrace.ReadOnlySpan
	block   chan struct{}
	discard bool
}

func (m *memExporter) ExportSpans(ctx context.Context, s []sdktrace.ReadOnlySpan) error {
	if m.discard {
		return nil
	}
	if m.block != nil {
		select {
		case <-m.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	m.mu.Lock()
	m.spans = append(m.spans, s...)
	m.mu.Unlock()
	return nil
}

func (m *memExporter) Shutdown(context.Context) error { return nil }

func (m *memExporter) byName() map[string]sdktrace.ReadOnlySpan {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range m.spans {
		out[s.Name()] = s
	}
	return out
}

const (
	traceHex = "0af7651916cd43dd8448eb211c80319c"
	callSpan = "b7ad6b7169203331"
	toolSpan = "c7ad6b7169203332"
)

func callEvents(t0 time.Time) []*sink.Event {
	ev := func(name, span string, at time.Time, attrs string) *sink.Event {
		return &sink.Event{ID: sink.NewID(), Name: name, Time: at, TraceID: traceHex, SpanID: span, SessionID: "s1", AgentID: "a1",
			Vendor: "anthropic", Model: "claude-sonnet-4-5", Attributes: json.RawMessage(attrs)}
	}
	start := ev(sink.LLMCallStart, callSpan, t0, `{"llm.request.data":{"messages":[{"role":"user","content":"hi"}],"max_tokens":100},"llm.request.stream":true}`)
	finish := ev(sink.LLMCallFinish, callSpan, t0.Add(800*time.Millisecond), `{"llm.response.model":"claude-sonnet-4-5-20250929","llm.response.content":[{"type":"tool_use","name":"lookup"}]}`)
	finish.InputTokens, finish.OutputTokens, finish.FinishReason, finish.DurationMs, finish.Status = 12, 30, "tool_use", 800, 200
	tool := ev(sink.ToolExecution, toolSpan, t0.Add(800*time.Millisecond), `{"tool.name":"lookup","tool.call_id":"toolu_1","tool.params":{"q":"x"}}`)
	tool.ToolName = "lookup"
	return []*sink.Event{start, finish, tool}
}

func newTestWriter(t testing.TB, o Options) (*Writer, *memExporter) {
	exp := &memExporter{}
	o.BatchTimeout = 5 * time.Millisecond
	w, err := newWriter(o, exp)
	if err != nil {
		t.Fatal(err)
	}
	return w, exp
}

// TestToolSpanAcrossBatches: the tool span opened by one batch ends when a
// later batch brings the result, with the finding of the result on it.
func TestToolSpanAcrossBatches(t *testing.T) {
	w, exp := newTestWriter(t, Options{})
	t0 := time.Now().UTC().Truncate(time.Second) // tool spans older than ToolTimeout are ended
	w.WriteBatch(context.Background(), callEvents(t0))
	if m := w.Metrics(); m.OpenTools != 1 {
		t.Fatalf("open tool spans %d", m.OpenTools)
	}
	result := &sink.Event{ID: sink.NewID(), Name: sink.ToolResult, Time: t0.Add(3 * time.Second), TraceID: traceHex, SpanID: callSpan,
		SessionID: "s1", Attributes: json.RawMessage(`{"tool.name":"lookup","tool.call_id":"toolu_1","tool.status":"error","tool.result":"no"}`)}
	finding := &sink.Event{ID: sink.NewID(), Name: sink.SecurityFinding, Time: result.Time, SessionID: "s1", TraceID: traceHex,
		Category: "prompt_injection", Rule: "llm01.instruction_override", Severity: "high",
		Attributes: json.RawMessage(`{"finding.event_id":"` + result.IDString() + `","finding.owasp":"LLM01:2025","finding.confidence":0.9}`)}
	w.WriteBatch(context.Background(), []*sink.Event{result, finding})
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := exp.byName()
	call, tool := spans["chat claude-sonnet-4-5"], spans["execute_tool lookup"]
	if call == nil || tool == nil {
		t.Fatalf("spans %v", spans)
	}
	if call.SpanContext().TraceID().String() != traceHex || call.SpanContext().SpanID().String() != callSpan || call.Parent().IsValid() {
		t.Errorf("call span ids %v parent %v", call.SpanContext(), call.Parent())
	}
	if !call.StartTime().Equal(t0) || !call.EndTime().Equal(t0.Add(800*time.Millisecond)) || call.SpanKind() != trace.SpanKindClient {
		t.Errorf("call span %v..%v kind %v", call.StartTime(), call.EndTime(), call.SpanKind())
	}
	if tool.Parent().SpanID().String() != callSpan || tool.SpanContext().SpanID().String() != toolSpan || !tool.EndTime().Equal(t0.Add(3*time.Second)) {
		t.Errorf("tool span parent %v id %v end %v", tool.Parent().SpanID(), tool.SpanContext().SpanID(), tool.EndTime())
	}
	if tool.Status().Code.String() != "Error" || len(tool.Events()) != 1 || tool.Events()[0].Name != "perimeter.finding" {
		t.Errorf("tool span status %v events %v", tool.Status(), tool.Events())
	}
	attrs := map[string]string{}
	for _, kv := range call.Attributes() {
		attrs[string(kv.Key)] = kv.Value.String()
	}
	for k, want := range map[string]string{"gen_ai.provider.name": "anthropic", "gen_ai.request.model": "claude-sonnet-4-5",
		"gen_ai.response.model": "claude-sonnet-4-5-20250929", "gen_ai.usage.output_tokens": "30", "gen_ai.request.max_tokens": "100",
		"gen_ai.response.finish_reasons": `["tool_use"]`} {
		if attrs[k] != want {
			t.Errorf("%s = %q, want %q", k, attrs[k], want)
		}
	}
	if _, ok := attrs["gen_ai.input.messages"]; ok {
		t.Error("content exported without capture_content")
	}
	if m := w.Metrics(); m.OpenTools != 0 {
		t.Errorf("open tool spans %d after the result", m.OpenTools)
	}
	w.Close()
}

// TestFullQueueDropsAndCounts: with the exporter stuck, WriteBatch still
// returns at once and spans beyond the queue are counted as dropped.
func TestFullQueueDropsAndCounts(t *testing.T) {
	exp := &memExporter{block: make(chan struct{})}
	w, err := newWriter(Options{QueueSize: 4, BatchSize: 1, BatchTimeout: time.Millisecond, ExportTimeout: 50 * time.Millisecond}, exp)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 100 {
		evs := callEvents(time.Now())
		for _, e := range evs {
			e.SessionID = string(rune('a' + i%26))
		}
		w.WriteBatch(context.Background(), evs[:2])
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("100 batches took %v with the exporter stuck", took)
	}
	m := w.Metrics()
	if m.Dropped == 0 || m.Dropped+m.Enqueued != 100 {
		t.Errorf("metrics %+v: want 100 spans queued or dropped, some dropped", m)
	}
	close(exp.block)
	w.Close()
}

func TestTracesURL(t *testing.T) {
	checkEndpoints(t, "TracesURL", TracesURL, map[string]string{
		"http://c:4318":                 "http://c:4318/v1/traces",
		"https://c.example/":            "https://c.example/v1/traces",
		"https://c.example/otlp/traces": "https://c.example/otlp/traces",
	}, "", "c:4318", "grpc://c:4317")
}

// checkEndpoints requires the endpoint parser named name to turn each key
// of good into its value and to refuse every one of bad.
func checkEndpoints(t *testing.T, name string, parse func(string) (string, error), good map[string]string, bad ...string) {
	t.Helper()
	for in, want := range good {
		if got, err := parse(in); err != nil || got != want {
			t.Errorf("%s(%q) = %q, %v; want %q", name, in, got, err, want)
		}
	}
	for _, b := range bad {
		if _, err := parse(b); err == nil {
			t.Errorf("%s(%q) accepted", name, b)
		}
	}
}

// BenchmarkCallSpans is the pipeline CPU of exporting one call (start,
// finish, one tool call) as spans, up to the exporter, with and without
// content.
func BenchmarkCallSpans(b *testing.B)            { benchCallSpans(b, false) }
func BenchmarkCallSpansWithContent(b *testing.B) { benchCallSpans(b, true) }

func benchCallSpans(b *testing.B, content bool) {
	exp := &memExporter{discard: true}
	w, err := newWriter(Options{CaptureContent: content, QueueSize: 1 << 16, BatchSize: 512, BatchTimeout: time.Millisecond}, exp)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	t0 := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		evs := callEvents(t0)
		w.WriteBatch(context.Background(), evs)
		result := &sink.Event{Name: sink.ToolResult, Time: t0, SessionID: "s1", Attributes: json.RawMessage(`{"tool.call_id":"toolu_1","tool.status":"success"}`)}
		w.WriteBatch(context.Background(), []*sink.Event{result})
	}
	b.StopTimer()
	if m := w.Metrics(); m.Dropped > 0 {
		b.Fatalf("dropped %d spans: the benchmark measured the drop path", m.Dropped)
	}
}

// BenchmarkCallOTLP exports calls through the SDK's OTLP/HTTP exporter to
// a receiver in this process that reads and discards each post; cpu-µs/call
// is the whole process's CPU time per call (conversion, batching, protobuf,
// gzip, HTTP on both sides), as getrusage reports it.
func BenchmarkCallOTLP(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	w, err := New(Options{Endpoint: srv.URL, QueueSize: 1 << 16, BatchSize: 512, BatchTimeout: 10 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	cpu0 := cpuTime()
	b.ReportAllocs()
	for b.Loop() {
		w.WriteBatch(context.Background(), callEvents(t0))
		result := &sink.Event{Name: sink.ToolResult, Time: t0, SessionID: "s1", Attributes: json.RawMessage(`{"tool.call_id":"toolu_1","tool.status":"success"}`)}
		w.WriteBatch(context.Background(), []*sink.Event{result})
	}
	if err := w.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/call")
	b.StopTimer()
	if m := w.Metrics(); m.Dropped > 0 || m.FailedSpans > 0 || m.Exported != uint64(2*b.N) {
		b.Fatalf("metrics %+v after %d calls", m, b.N)
	}
	w.Close()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
