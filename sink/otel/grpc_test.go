package otel

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/otel/oteltest"
)

// TestGRPCExport: with protocol grpc the spans of a call and its tool call
// reach an OTLP/gRPC collector with their ids, parent, resource and the
// configured headers.
func TestGRPCExport(t *testing.T) {
	col := oteltest.StartGRPC(t)
	w, err := New(Options{Protocol: ProtocolGRPC, Endpoint: "http://" + col.Addr, ServiceName: "perimeter-grpc",
		Headers: map[string]string{"authorization": "Bearer t0ken"}, BatchTimeout: 5 * time.Millisecond, ExportTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Truncate(time.Second)
	w.WriteBatch(context.Background(), callEvents(t0))
	result := &sink.Event{ID: sink.NewID(), Name: sink.ToolResult, Time: t0.Add(2 * time.Second), TraceID: traceHex, SpanID: callSpan,
		SessionID: "s1", Attributes: json.RawMessage(`{"tool.name":"lookup","tool.call_id":"toolu_1","tool.status":"success"}`)}
	w.WriteBatch(context.Background(), []*sink.Event{result})
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if m := w.Metrics(); m.Exported != 2 || m.FailedSpans != 0 || m.Dropped != 0 {
		t.Errorf("metrics %+v: want 2 spans exported", m)
	}
	rcv := col.Received()
	byName := map[string]*tracepb.Span{}
	for _, s := range rcv.Spans {
		byName[s.Name] = s
	}
	call, tool := byName["chat claude-sonnet-4-5"], byName["execute_tool lookup"]
	if len(rcv.Spans) != 2 || call == nil || tool == nil {
		t.Fatalf("received %d spans %v", len(rcv.Spans), byName)
	}
	if hex.EncodeToString(call.TraceId) != traceHex || hex.EncodeToString(call.SpanId) != callSpan || len(call.ParentSpanId) != 0 {
		t.Errorf("call span trace %x span %x parent %x", call.TraceId, call.SpanId, call.ParentSpanId)
	}
	if hex.EncodeToString(tool.TraceId) != traceHex || hex.EncodeToString(tool.ParentSpanId) != callSpan || hex.EncodeToString(tool.SpanId) != toolSpan {
		t.Errorf("tool span trace %x span %x parent %x", tool.TraceId, tool.SpanId, tool.ParentSpanId)
	}
	if call.Kind != tracepb.Span_SPAN_KIND_CLIENT || call.StartTimeUnixNano != uint64(t0.UnixNano()) {
		t.Errorf("call span kind %v start %d", call.Kind, call.StartTimeUnixNano)
	}
	var model string
	for _, kv := range call.Attributes {
		if kv.Key == "gen_ai.response.model" {
			model = kv.GetValue().GetStringValue()
		}
	}
	if model != "claude-sonnet-4-5-20250929" {
		t.Errorf("gen_ai.response.model %q", model)
	}
	if rcv.Service != "perimeter-grpc" || len(rcv.Auth) != 1 || rcv.Auth[0] != "Bearer t0ken" {
		t.Errorf("service.name %q, authorization %v", rcv.Service, rcv.Auth)
	}
}

// TestGRPCCollectorDown: New does not dial, WriteBatch returns at once and
// the spans of a collector that is not there are counted as failed.
func TestGRPCCollectorDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	w, err := New(Options{Protocol: ProtocolGRPC, Endpoint: "http://" + addr, BatchTimeout: time.Millisecond,
		ExportTimeout: 300 * time.Millisecond, RetryMaxElapsed: -1})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	w.WriteBatch(context.Background(), callEvents(time.Now())[:2])
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("WriteBatch took %v with the collector down", took)
	}
	w.Flush(context.Background())
	w.Close()
	if m := w.Metrics(); m.FailedSpans != 1 || m.Exported != 0 || m.LastError == "" {
		t.Errorf("metrics %+v: want the one span failed", m)
	}
}

func TestGRPCTarget(t *testing.T) {
	checkEndpoints(t, "GRPCTarget", GRPCTarget, map[string]string{
		"http://c:4317":       "http://c:4317",
		"https://c.example/":  "https://c.example",
		"https://c.example:1": "https://c.example:1",
	}, "", "c:4317", "grpc://c:4317", "http://c:4317/v1/traces")
	if _, err := New(Options{Protocol: "thrift", Endpoint: "http://c:4317"}); err == nil {
		t.Error("protocol thrift accepted")
	}
}
