//go:build !race

package edge

import (
	"net"
	"testing"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"
)

// loopbackUpstream serves benchUpstream on 127.0.0.1.
func loopbackUpstream(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fasthttp.Server{Handler: benchUpstream}
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown() })
	return ln.Addr().String()
}

// callAllocs is the heap allocations of one call to addr, client and
// upstream included, averaged over many calls on warm connections.
func callAllocs(t *testing.T, addr string, body []byte, wantLen int) float64 {
	c := &fasthttp.HostClient{Addr: addr}
	req, resp := &fasthttp.Request{}, &fasthttp.Response{}
	req.SetRequestURI("http://" + addr + "/v1/chat/completions")
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/json")
	req.Header.Set("Authorization", "Bearer dummy")
	req.SetBody(body)
	call := func() {
		if err := c.Do(req, resp); err != nil || resp.StatusCode() != 200 || len(resp.Body()) != wantLen {
			t.Fatalf("%v: status %d, %d bytes", err, resp.StatusCode(), len(resp.Body()))
		}
	}
	for range 20 {
		call()
	}
	return testing.AllocsPerRun(500, call)
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
	up := loopbackUpstream(t)
	srv, err := NewServer(Options{Provider: OpenAI, BaseURL: "http://" + up, APIKey: "sk-test", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer ln.Close()
	proxy := ln.Addr().String()

	for _, tc := range []struct {
		name    string
		body    []byte
		wantLen int
		max     float64 // the proxy's allocations per call
	}{
		{"JSON", benchRequest, len(benchJSON), 1},
		{"20-event stream", benchStream, 20*len(benchChunk) + len("data: [DONE]\n\n"), 2},
	} {
		direct := callAllocs(t, up, tc.body, tc.wantLen)
		proxied := callAllocs(t, proxy, tc.body, tc.wantLen)
		t.Logf("%s: %.1f allocations per call direct, %.1f through the proxy", tc.name, direct, proxied)
		if proxied-direct > tc.max {
			t.Errorf("%s: the proxy allocates %.1f times per call, want at most %.0f", tc.name, proxied-direct, tc.max)
		}
	}
}
