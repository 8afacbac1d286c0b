package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// stuckReceiver accepts requests and answers none until the test ends: a
// collector or webhook that takes far longer than any shutdown deadline.
func stuckReceiver(t *testing.T) (url string, got *atomic.Int64) {
	got = new(atomic.Int64)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv.URL, got
}

// TestShutdownKeepsOneDeadline: with nothing in flight but an OTel
// collector and an alert webhook that never answer, SIGTERM exits within
// server.shutdown_timeout (and a little): the pipeline, the exporter and
// the alerts share one deadline instead of taking one each.
func TestShutdownKeepsOneDeadline(t *testing.T) {
	collector, exports := stuckReceiver(t)
	webhook, deliveries := stuckReceiver(t)
	const deadline = 3 * time.Second
	p := startEdge(t, startMockLLM(t), fmt.Sprintf(`
server: {shutdown_timeout: %d}
telemetry:
  otel: {enabled: true, endpoint: %q, batch_timeout_ms: 50, export_timeout_ms: 20000}
policies:
  guard:
    - {name: block-keys, match: {categories: [secret]}, action: block}
alerts:
  decisions: true
  destinations:
    - {type: webhook, url: %q, timeout: 60}
`, int(deadline/time.Second), collector, webhook))
	key := "ghp_" + strings.Repeat("a1B2c3D4e5", 4)[:36]
	if c := postPolicy(t, p.url, "/v1/chat/completions", chatBody("user", "my token is "+key)); c.status != 403 {
		t.Fatalf("not blocked: %d %s", c.status, c.body)
	}
	waitUntil(t, 15*time.Second, "an export and a delivery under way", func() bool { return exports.Load() > 0 && deliveries.Load() > 0 })
	// The spans of the call queue behind the stuck export; the alert waits
	// on its delivery.
	if took := p.stop(t, time.Minute); took > deadline+3*time.Second {
		t.Fatalf("shutdown took %v with server.shutdown_timeout %v:\n%s", took.Round(100*time.Millisecond), deadline, p.logs.String())
	}
	if !strings.Contains(p.logs.String(), "alerts still queued") {
		t.Errorf("the undelivered alert was not reported:\n%s", p.logs.String())
	}
}
