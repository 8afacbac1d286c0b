//go:build !race

package sink

import (
	"context"
	"testing"
	"time"
)

// Publish must not allocate: the event is the caller's only allocation.
func TestPublishDoesNotAllocate(t *testing.T) {
	const runs = 1000
	p, err := NewPipeline(Options{MaxRows: 10 * runs, MaxDelay: time.Hour, QueueSize: 10 * runs}, &fakeWriter{name: "w"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	events := make([]*Event, runs+1)
	for i := range events {
		events[i] = seqEvent(i)
	}
	i := 0
	allocs := testing.AllocsPerRun(runs, func() {
		p.Publish(events[i])
		i++
	})
	if allocs != 0 {
		t.Fatalf("Publish allocates %.1f times per event", allocs)
	}
}
