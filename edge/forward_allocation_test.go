//go:build !race

package edge

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/edge/capture"
	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/session"
	"github.com/cylestio/perimeter/sink"
)

// callAllocs is the heap allocations of one call to addr, client and
// upstream included, averaged over many calls on warm connections.
func callAllocs(t *testing.T, addr string, body []byte, wantLen int, after func()) float64 {
	c := &fasthttp.HostClient{Addr: addr}
	req, resp := &fasthttp.Request{}, &fasthttp.Response{}
	setCall(req, "http://"+addr+"/v1/chat/completions", body)
	call := func() {
		if err := doCall(c, req, resp, wantLen); err != nil {
			t.Fatal(err)
		}
		if after != nil {
			after()
		}
	}
	for range 20 {
		call()
	}
	runs := 500
	if after != nil {
		runs = 100
	}
	return testing.AllocsPerRun(runs, call)
}

// TestAllocsForwarding pins what the proxy allocates per forwarded call
// with capture off: the same calls are made directly to the upstream and
// through the proxy, and the difference is the proxy's.
//
// The one allocation left is fasthttp's, not the proxy's: after every
// request with a streamed body (server.go reads bodies itself, within the
// in-flight budget) fasthttp drains what the handler left through
// io.CopyN, whose LimitedReader escapes, even when the body was read to
// its end. A stream adds one more in fasthttp: the chunked writer it hands
// to the body's WriteTo.
func TestAllocsForwarding(t *testing.T) {
	if testing.Short() {
		t.Skip("thousands of calls over loopback")
	}
	up := serveUpstream(t, benchUpstream)
	proxy := startProxy(t, Options{BaseURL: "http://" + up, APIKey: "sk-test"}).addr()

	for _, tc := range []struct {
		name    string
		body    []byte
		wantLen int
		max     float64 // the proxy's allocations per call
	}{
		{"JSON", benchRequest, len(benchJSON), 1},
		{"20-event stream", benchStream, benchSSELen, 2},
	} {
		direct := callAllocs(t, up, tc.body, tc.wantLen, nil)
		proxied := callAllocs(t, proxy, tc.body, tc.wantLen, nil)
		t.Logf("%s: %.1f allocations per call direct, %.1f through the proxy", tc.name, direct, proxied)
		if proxied-direct > tc.max {
			t.Errorf("%s: the proxy allocates %.1f times per call, want at most %.0f", tc.name, proxied-direct, tc.max)
		}
	}
}

// finishCounter counts the llm.call.finish events published: one per call.
type finishCounter struct{ n atomic.Int64 }

func (f *finishCounter) Publish(ev *sink.Event) bool {
	if ev.Name == sink.LLMCallFinish {
		f.n.Add(1)
	}
	return true
}

// TestAllocsCaptureHook pins what handing calls to capture costs the heap:
// with capture on, a call allocates what it does with capture off plus
// the two allocations capture makes for its events (TestAllocsCapture in
// edge/capture); the hook itself — copying the request headers, method
// and path into the pooled exchange's Call, queueing it and releasing the
// exchange when capture hands it back — allocates nothing once warm. Each
// call waits for its capture, so that its exchange is back in the pool
// for the next (under load the pool holds as many exchanges as a poll
// interval's calls).
func TestAllocsCaptureHook(t *testing.T) {
	if testing.Short() {
		t.Skip("thousands of calls over loopback")
	}
	up := serveUpstream(t, benchUpstream)
	pub := &finishCounter{}
	cp := capture.New(session.New(session.DefaultConfig()), pub, "openai")
	serve := func(c *capture.Capture) string {
		return startProxy(t, Options{BaseURL: "http://" + up, APIKey: "sk-test", Capture: c}).addr()
	}
	off, on := serve(nil), serve(cp)
	for _, tc := range []struct {
		name    string
		body    []byte
		wantLen int
	}{
		{"JSON", benchRequest, len(benchJSON)},
		{"20-event stream", benchStream, benchSSELen},
	} {
		without := callAllocs(t, off, tc.body, tc.wantLen, nil)
		var want int64
		wait := func() {
			want++
			if !testkit.Eventually(5*time.Second, 200*time.Microsecond, func() bool { return pub.n.Load() >= want }) {
				t.Fatalf("call %d was not captured", want)
			}
		}
		want = pub.n.Load()
		with := callAllocs(t, on, tc.body, tc.wantLen, wait)
		t.Logf("%s: %.1f allocations per call without capture, %.1f with", tc.name, without, with)
		if with-without > 2 {
			t.Errorf("%s: capture adds %.1f allocations per call, want at most 2 (its events)", tc.name, with-without)
		}
	}
}
