//go:build !race

package capture

import (
	"context"
	"testing"

	"github.com/cylestio/perimeter/edge/provider"
	"github.com/cylestio/perimeter/session"
	"github.com/cylestio/perimeter/sink"
)

// Allocation tests run without the race detector, which makes sync.Pool
// drop items on purpose; make test runs them in a second, short pass.

// TestCaptureAllocations pins what capturing a call costs the heap: its
// events (session.start, tool.result, llm.call.start, llm.call.finish and
// two tool.execution here) take two allocations in all — one array of
// events, one block for every string and attribute object they carry.
func TestAllocsCapture(t *testing.T) {
	resp := provider.AcquireResponse()
	defer provider.ReleaseResponse(resp)
	if err := resp.Parse(provider.OpenAIChat, 200, toolAnswer); err != nil {
		t.Fatal(err)
	}
	rec := &countingPublisher{}
	c := New(session.New(session.DefaultConfig()), rec, "openai")
	t.Cleanup(func() { c.Close(context.Background()) })
	const runs = 50
	bodies := make([][]byte, runs+1)
	for i := range bodies {
		bodies[i] = conversationBody(i)
	}
	// The proxy keeps both in its pooled exchange.
	var conv session.Conversation
	var ci callInfo
	recordOnce(c, &conv, &ci, conversationBody(-1), resp) // warm the pools and the agent's cache
	i := 0
	allocs := testing.AllocsPerRun(runs, func() {
		recordOnce(c, &conv, &ci, bodies[i], resp)
		i++
	})
	if perCall := rec.n / (runs + 2); perCall != 6 {
		t.Fatalf("want 6 events per call, got %d in all", rec.n)
	}
	if allocs > 2 {
		t.Fatalf("capturing a call takes %.1f allocations, want at most 2", allocs)
	}
}

type countingPublisher struct{ n int }

func (p *countingPublisher) Publish(*sink.Event) bool { p.n++; return true }
