package capture

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/edge/provider"
	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/session"
	"github.com/cylestio/perimeter/sink"
)

const chatAnswer = `{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`

// testCall is a buffered chat call in session sid; done counts its Done.
func testCall(sid string, done *sync.WaitGroup) *Call {
	call := &Call{Kind: provider.OpenAIChat, Start: time.Now(), End: time.Now(), Status: 200,
		Method: []byte("POST"), Path: []byte("/v1/chat/completions"),
		Body:     []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}`),
		Response: &fasthttp.Response{}, MaxDecoded: 1 << 20}
	call.Header.Set("X-Cylestio-Session-Id", sid)
	call.Response.SetBody([]byte(chatAnswer))
	if done != nil {
		done.Add(1)
		call.Done = done.Done
	}
	return call
}

// loopRunning reports whether a goroutine runs c's loop (its receiver is
// in the goroutine's trace).
func loopRunning(c *Capture) bool {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Contains(string(buf), fmt.Sprintf("edge/capture.(*Capture).run(%p)", c))
}

// TestCloseEndsTheLoop: Close captures every call submitted before it,
// in order, each exactly once and handed back, and no goroutine of the
// capture outlives it; a call submitted after Close is still captured.
func TestCloseEndsTheLoop(t *testing.T) {
	rec := &sink.Recorder{}
	c := New(session.New(session.DefaultConfig()), rec, "openai")
	waitLoop(t, c, true)
	var done sync.WaitGroup
	const n = 50
	for i := range n {
		c.Submit(testCall(fmt.Sprintf("s-%d", i), &done))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	evs := rec.Events()
	if len(evs) != 3*n {
		t.Fatalf("%d events after Close, want %d", len(evs), 3*n)
	}
	for i := range n {
		if got, want := evs[3*i].SessionID, fmt.Sprintf("s-%d", i); got != want || evs[3*i+2].Name != sink.LLMCallFinish {
			t.Fatalf("call %d captured as %s in session %q, want %q (out of order)", i, evs[3*i+2].Name, got, want)
		}
	}
	waitDone(t, &done)
	waitLoop(t, c, false)

	c.Submit(testCall("late", &done))
	waitDone(t, &done)
	if evs := rec.Events(); len(evs) != 3*n+3 || evs[3*n].SessionID != "late" {
		t.Fatalf("a call submitted after Close: %d events in all", len(evs))
	}
	if err := c.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// waitLoop waits until c's loop runs or has ended.
func waitLoop(t *testing.T, c *Capture, running bool) {
	t.Helper()
	if !testkit.Eventually(5*time.Second, time.Millisecond, func() bool { return loopRunning(c) == running }) {
		buf := make([]byte, 1<<22)
		t.Fatalf("capture loop running: %v, want %v:\n%s", !running, running, buf[:runtime.Stack(buf, true)])
	}
}

func waitDone(t *testing.T, wg *sync.WaitGroup) {
	t.Helper()
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("not every call was handed back (Done)")
	}
}

// TestLoopSleepsAndWakes: once idle the loop stops polling and waits, and
// the next call wakes it at once.
func TestLoopSleepsAndWakes(t *testing.T) {
	rec := &sink.Recorder{}
	c := New(session.New(session.DefaultConfig()), rec, "openai")
	t.Cleanup(func() { c.Close(context.Background()) })
	testkit.WaitFor(t, 5*time.Second, "the capture loop to stop polling without calls (asleep)", c.q.asleep.Load)
	var done sync.WaitGroup
	begin := time.Now()
	c.Submit(testCall("s-1", &done))
	waitDone(t, &done)
	if d := time.Since(begin); d > 500*time.Millisecond {
		t.Fatalf("a call after idle was captured %v later: the loop was not woken", d)
	}
	if n := len(rec.Events()); n != 3 {
		t.Fatalf("%d events, want 3", n)
	}
}

// blockingPublisher holds every Publish until its gate opens.
type blockingPublisher struct {
	gate chan struct{}
	sink.Recorder
}

func (b *blockingPublisher) Publish(ev *sink.Event) bool {
	<-b.gate
	return b.Recorder.Publish(ev)
}

// TestFullQueueWaitsAndLosesNothing: with the loop stuck, Submit returns
// while the queue has room and waits once it is full; every call is
// captured once the loop moves again.
func TestFullQueueWaitsAndLosesNothing(t *testing.T) {
	pub := &blockingPublisher{gate: make(chan struct{})}
	c := New(session.New(session.DefaultConfig()), pub, "openai")
	var done sync.WaitGroup
	// The first call blocks the loop in Publish; the rest fill the queue.
	total := queueSize + 2
	submitted := make(chan int, 1)
	go func() {
		for i := range total {
			c.Submit(testCall(fmt.Sprintf("q-%d", i), &done))
		}
		submitted <- total
	}()
	select {
	case <-submitted:
		t.Fatal("Submit did not wait for room in a full queue")
	case <-time.After(300 * time.Millisecond):
	}
	close(pub.gate)
	select {
	case <-submitted:
	case <-time.After(10 * time.Second):
		t.Fatal("Submit still waits after the loop moved on")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitDone(t, &done)
	evs := pub.Events()
	if len(evs) != 3*total {
		t.Fatalf("%d events, want %d", len(evs), 3*total)
	}
	for i := range total {
		if got, want := evs[3*i].SessionID, fmt.Sprintf("q-%d", i); got != want {
			t.Fatalf("call %d in session %q, want %q", i, got, want)
		}
	}
}
