package sink

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestCloseCutsBackoffShort: a store that has been down for a while leaves
// its writer in a long backoff (up to BackoffMax) between replay attempts.
// Close must not wait that out: the writer tries once more, spills, stops.
func TestCloseCutsBackoffShort(t *testing.T) {
	o := withSpill(t, testOptions(t), 1<<20)
	o.Attempts = 1
	o.BackoffMin, o.BackoffMax = 20*time.Second, 20*time.Second
	down := &fakeWriter{name: "store"}
	down.down.Store(true)
	p, err := NewPipeline(o, down)
	if err != nil {
		t.Fatal(err)
	}
	publishN(t, p, 0, 50)
	waitFor(t, "a failed replay attempt (the writer now backs off for 20 s)", func() bool {
		m := p.Metrics().Writers[0]
		return m.BacklogBytes > 0 && m.Retries >= 1
	})
	start := time.Now()
	err = p.Close(context.Background())
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Close took %s: it waited out the writer's backoff", took)
	}
	if err == nil || !strings.Contains(err.Error(), "next start") {
		t.Fatalf("Close: %v, want the spilled bytes reported", err)
	}
	if m := p.Metrics(); m.Dropped != 0 || m.Writers[0].BacklogBytes == 0 {
		t.Fatalf("metrics %+v: want nothing dropped and a backlog on disk", m)
	}
}
