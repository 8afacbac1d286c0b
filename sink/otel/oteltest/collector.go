// Package oteltest is an OTLP/gRPC trace collector for tests, in the
// spirit of net/http/httptest: it listens on 127.0.0.1 until the test
// ends and keeps what exporters send it. Test code only.
package oteltest

import (
	"context"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/cylestio/perimeter/internal/testkit"
)

// Collector is an OTLP/gRPC trace service in the test process.
type Collector struct {
	coltracepb.UnimplementedTraceServiceServer
	// Addr is the host:port it listens on.
	Addr string

	mu       sync.Mutex
	received Received
}

// Received is what a Collector has been sent so far.
type Received struct {
	Spans   []*tracepb.Span // every span of every request, in arrival order
	Service string          // the service.name resource attribute of the last request
	Auth    []string        // the authorization metadata of the last request
}

// StartGRPC serves a Collector on 127.0.0.1 until the test ends.
func StartGRPC(tb testing.TB) *Collector {
	tb.Helper()
	ln := testkit.Loopback(tb)
	c := &Collector{Addr: ln.Addr().String()}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, c)
	go srv.Serve(ln)
	tb.Cleanup(srv.Stop)
	return c
}

// Export keeps a request's spans, service name and authorization.
func (c *Collector) Export(ctx context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.received.Auth = md.Get("authorization")
	for _, rs := range req.ResourceSpans {
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.Key == "service.name" {
				c.received.Service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.ScopeSpans {
			c.received.Spans = append(c.received.Spans, ss.Spans...)
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// Received returns a copy of what has arrived so far.
func (c *Collector) Received() Received {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.received
	r.Spans = append([]*tracepb.Span(nil), r.Spans...)
	r.Auth = append([]string(nil), r.Auth...)
	return r
}
