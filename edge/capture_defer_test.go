package edge

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/cylestio/perimeter/bench/mockllm"
	"github.com/cylestio/perimeter/edge/capture"
	"github.com/cylestio/perimeter/session"
	"github.com/cylestio/perimeter/sink"
)

// gatedPublisher holds every Publish until its gate opens.
type gatedPublisher struct {
	gate chan struct{}
	mu   sync.Mutex
	evs  []*sink.Event
}

func (g *gatedPublisher) Publish(ev *sink.Event) bool {
	<-g.gate
	g.mu.Lock()
	g.evs = append(g.evs, ev)
	g.mu.Unlock()
	return true
}

func (g *gatedPublisher) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.evs)
}

// TestBufferedCaptureIsAfterTheAnswer: a buffered call's answer reaches the
// client while its capture cannot proceed (the publisher is blocked), its
// events arrive once it can, with the call's request and answer, and
// closing the capture after Shutdown waits for them.
func TestBufferedCaptureIsAfterTheAnswer(t *testing.T) {
	pub := &gatedPublisher{gate: make(chan struct{})}
	c := capture.New(session.New(session.DefaultConfig()), pub, "openai")
	h := startWithMock(t, mockllm.Config{}, Options{Provider: OpenAI, Capture: c})
	answered := make(chan string, 1)
	go func() {
		resp := h.post("/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"deferred?"}]}`,
			"X-Cylestio-Session-Id", "defer-1")
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered <- string(b)
	}()
	select {
	case b := <-answered:
		if len(b) == 0 {
			t.Fatal("empty answer")
		}
	case <-time.After(waitLimit):
		t.Fatal("the answer waited for its capture")
	}
	if n := pub.count(); n != 0 {
		t.Fatalf("%d events published through a closed gate", n)
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		if err := h.srv.Shutdown(ctx); err != nil {
			shut <- err
			return
		}
		shut <- c.Close(ctx)
	}()
	select {
	case err := <-shut:
		t.Fatalf("shutdown returned (%v) before the capture was published", err)
	case <-time.After(700 * time.Millisecond): // longer than shutdownQuiet
	}
	close(pub.gate)
	select {
	case err := <-shut:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitLimit):
		t.Fatal("shutdown did not return after the capture")
	}
	pub.mu.Lock()
	defer pub.mu.Unlock()
	if got := names(pub.evs); got != "session.start llm.call.start llm.call.finish" {
		t.Fatalf("events: %s", got)
	}
	start := attrsOf(t, pub.evs[1])
	data, _ := start["llm.request.data"].(map[string]any)
	if msgs, _ := data["messages"].([]any); len(msgs) != 1 || pub.evs[1].SessionID != "defer-1" || start["http.path"] != "/v1/chat/completions" {
		t.Fatalf("llm.call.start kept the wrong request: %v (session %q)", start, pub.evs[1].SessionID)
	}
	if f := pub.evs[2]; f.Status != 200 || f.TotalTokens == 0 {
		t.Fatalf("llm.call.finish: status %d, tokens %d", f.Status, f.TotalTokens)
	}
}

// TestStreamedTurnAfterBufferedKeepsOrder: an agent sends a streamed turn
// right after a buffered one, sooner than the capture loop polls. Both
// pass the one queue in the order they ended, so both land in one
// session, in order.
func TestStreamedTurnAfterBufferedKeepsOrder(t *testing.T) {
	h, rec := startCapturing(t, OpenAI, Options{})
	for i := range 5 {
		sys := `{"role":"system","content":"Agent ` + fmt.Sprint(i) + `."}`
		user := `{"role":"user","content":"first turn"}`
		readAll(t, h.post("/v1/chat/completions", `{"model":"m","messages":[`+sys+`,`+user+`]}`).Body)
		readAll(t, h.post("/v1/chat/completions", `{"model":"m","stream":true,"messages":[`+sys+`,`+user+
			`,{"role":"assistant","content":"ok"},{"role":"user","content":"second turn"}]}`).Body)
		evs := waitEvents(t, rec, 5)
		if got := names(evs); got != "session.start llm.call.start llm.call.finish llm.call.start llm.call.finish" {
			t.Fatalf("round %d: events %s: the streamed turn overtook the buffered one", i, got)
		}
		for _, e := range evs {
			if e.SessionID != evs[0].SessionID {
				t.Fatalf("round %d: %s in session %s, want %s", i, e.Name, e.SessionID, evs[0].SessionID)
			}
		}
	}
}
