package main

import (
	"encoding/hex"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cylestio/perimeter/sink/otel/oteltest"
)

// TestOTelExportOverGRPC: with telemetry.otel.protocol grpc the binary
// sends a call's span to an OTLP/gRPC collector, in the client's trace.
func TestOTelExportOverGRPC(t *testing.T) {
	col := oteltest.StartGRPC(t)
	upSrv := httptest.NewServer(&toolCallUpstream{})
	defer upSrv.Close()
	p := startPerimeter(t, upSrv.URL, "storage: {engine: none}\n"+
		"telemetry:\n  otel:\n    enabled: true\n    protocol: grpc\n    endpoint: http://"+col.Addr+"\n    batch_timeout_ms: 50\n")
	const clientTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	code, body, _ := postChat(t, p.url, `{"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Paris?"}]}`,
		"traceparent", "00-"+clientTrace+"-00f067aa0ba902b7-01")
	if code != 200 {
		t.Fatalf("call: %d %s", code, body)
	}
	p.stop(t, time.Minute)
	spans := col.Received().Spans
	if len(spans) != 1 || spans[0].Name != "chat gpt-4o" || hex.EncodeToString(spans[0].TraceId) != clientTrace ||
		hex.EncodeToString(spans[0].ParentSpanId) != "00f067aa0ba902b7" {
		t.Fatalf("received %v", spans)
	}
}
