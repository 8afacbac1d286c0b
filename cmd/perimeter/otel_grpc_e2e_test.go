package main

import (
	"context"
	"encoding/hex"
	"net"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
)

// grpcTraces is an OTLP/gRPC trace service in the test process.
type grpcTraces struct {
	coltracepb.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (g *grpcTraces) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			g.spans = append(g.spans, ss.Spans...)
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// TestOTelExportOverGRPC: with telemetry.otel.protocol grpc the binary
// sends a call's span to an OTLP/gRPC collector, in the client's trace.
func TestOTelExportOverGRPC(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	rcv := &grpcTraces{}
	coltracepb.RegisterTraceServiceServer(srv, rcv)
	go srv.Serve(ln)
	defer srv.Stop()
	upSrv := httptest.NewServer(&toolCallUpstream{})
	defer upSrv.Close()
	p := startPerimeter(t, upSrv.URL, "storage: {engine: none}\n"+
		"telemetry:\n  otel:\n    enabled: true\n    protocol: grpc\n    endpoint: http://"+ln.Addr().String()+"\n    batch_timeout_ms: 50\n")
	const clientTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	code, body, _ := postChat(t, p.url, `{"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Paris?"}]}`,
		"traceparent", "00-"+clientTrace+"-00f067aa0ba902b7-01")
	if code != 200 {
		t.Fatalf("call: %d %s", code, body)
	}
	p.stop(t, time.Minute)
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.spans) != 1 || rcv.spans[0].Name != "chat gpt-4o" || hex.EncodeToString(rcv.spans[0].TraceId) != clientTrace ||
		hex.EncodeToString(rcv.spans[0].ParentSpanId) != "00f067aa0ba902b7" {
		t.Fatalf("received %v", rcv.spans)
	}
}
