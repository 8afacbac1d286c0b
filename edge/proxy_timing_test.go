package edge

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/edge/capture"
	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/session"
	"github.com/cylestio/perimeter/sink"
)

var (
	benchJSON    = []byte(`{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"` + strings.Repeat("Hello there, how may I assist you today? ", 16) + `","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_06737a9306"}`)
	benchChunk   = []byte(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}` + "\n\n")
	benchRequest = []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Hello!"}]}`)
	benchStream  = []byte(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hello!"}]}`)

	// benchSSELen is the length of benchUpstream's stream.
	benchSSELen = 20*len(benchChunk) + len("data: [DONE]\n\n")
)

// benchUpstream answers like a provider: 1 KB JSON, or 20 SSE chunks.
func benchUpstream(ctx *fasthttp.RequestCtx) {
	if ctx.IsPost() && bytes.Contains(ctx.PostBody(), []byte(`"stream":true`)) {
		ctx.SetContentType("text/event-stream")
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			for range 20 {
				w.Write(benchChunk)
				w.Flush()
			}
			w.WriteString("data: [DONE]\n\n")
		})
		return
	}
	ctx.SetContentType("application/json")
	ctx.SetBody(benchJSON)
}

// benchProxy starts upstream and proxy on in-memory listeners and returns a
// client bound to the proxy.
func benchProxy(b *testing.B) *fasthttp.HostClient { return benchProxyWith(b, nil) }

func benchProxyWith(b *testing.B, c *capture.Capture) *fasthttp.HostClient {
	return benchProxyOpts(b, Options{Capture: c})
}

func benchProxyOpts(b *testing.B, o Options) *fasthttp.HostClient {
	upLn := fasthttputil.NewInmemoryListener()
	go fasthttp.Serve(upLn, benchUpstream)
	o.BaseURL, o.Provider, o.APIKey, o.Logger = "http://upstream", OpenAI, "sk-bench", zerolog.Nop()
	p, err := NewServer(o)
	if err != nil {
		b.Fatal(err)
	}
	dial := func(string) (net.Conn, error) { return upLn.Dial() }
	p.proxy.up.buffered.Dial = dial
	p.proxy.up.streamed.Dial = dial
	ln := fasthttputil.NewInmemoryListener()
	go p.Serve(ln)
	b.Cleanup(func() { ln.Close(); upLn.Close() })
	return &fasthttp.HostClient{Addr: "proxy", Dial: func(string) (net.Conn, error) { return ln.Dial() }, MaxConns: 1024}
}

// benchProxyTCP is benchProxyOpts over 127.0.0.1: the upstream and the
// proxy listen on loopback TCP, as they do in production.
func benchProxyTCP(b *testing.B, o Options) *fasthttp.HostClient {
	o.BaseURL, o.Provider, o.APIKey, o.Logger = "http://"+serveUpstream(b, benchUpstream), OpenAI, "sk-bench", zerolog.Nop()
	p, err := NewServer(o)
	if err != nil {
		b.Fatal(err)
	}
	ln := testkit.Loopback(b)
	go p.Serve(ln)
	return &fasthttp.HostClient{Addr: ln.Addr().String(), MaxConns: 1024}
}

// setCall makes req the chat completion call with body that benchmarks and
// allocation tests send to uri.
func setCall(req *fasthttp.Request, uri string, body []byte) {
	req.SetRequestURI(uri)
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/json")
	req.Header.Set("Authorization", "Bearer dummy")
	req.SetBody(body)
}

// doCall sends req on c and checks that the answer is a 200 of wantLen
// bytes.
func doCall(c *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response, wantLen int) error {
	if err := c.Do(req, resp); err != nil {
		return err
	}
	if resp.StatusCode() != 200 || len(resp.Body()) != wantLen {
		return fmt.Errorf("status %d, %d bytes", resp.StatusCode(), len(resp.Body()))
	}
	return nil
}

func benchRun(b *testing.B, c *fasthttp.HostClient, body []byte, wantLen int) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := fasthttp.AcquireRequest()
		resp := fasthttp.AcquireResponse()
		setCall(req, "http://proxy/v1/chat/completions", body)
		req.Header.Set("X-Cylestio-Session-Id", "bench-session")
		for pb.Next() {
			if err := doCall(c, req, resp, wantLen); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkProxyJSON is one non-streaming 1 KB completion through the proxy.
// The client, proxy and upstream share the process, so the allocation count
// includes the client's and upstream's share; BenchmarkDirectJSON gives that
// floor.
func BenchmarkProxyJSON(b *testing.B) {
	benchRun(b, benchProxy(b), benchRequest, len(benchJSON))
}

// BenchmarkProxySSE is one 20-event stream through the proxy.
func BenchmarkProxySSE(b *testing.B) {
	benchRun(b, benchProxy(b), benchStream, benchSSELen)
}

// BenchmarkProxyJSONLoopback is BenchmarkProxyJSON over 127.0.0.1.
func BenchmarkProxyJSONLoopback(b *testing.B) {
	benchRun(b, benchProxyTCP(b, Options{}), benchRequest, len(benchJSON))
}

// BenchmarkProxySSELoopback is BenchmarkProxySSE over 127.0.0.1.
func BenchmarkProxySSELoopback(b *testing.B) {
	benchRun(b, benchProxyTCP(b, Options{}), benchStream, benchSSELen)
}

func benchCapture() *capture.Capture {
	return capture.New(session.New(session.DefaultConfig()), sink.Discard{}, "openai")
}

// BenchmarkProxyJSONCapture adds session detection and event capture.
func BenchmarkProxyJSONCapture(b *testing.B) {
	benchRun(b, benchProxyWith(b, benchCapture()), benchRequest, len(benchJSON))
}

// BenchmarkProxySSECapture captures a 20-event stream through the tap.
func BenchmarkProxySSECapture(b *testing.B) {
	benchRun(b, benchProxyWith(b, benchCapture()), benchStream, benchSSELen)
}

// BenchmarkProxyJSONGuard adds the inline guard (block mode) to the
// non-streaming exchange: the cost of scanning new input before forwarding.
func BenchmarkProxyJSONGuard(b *testing.B) {
	benchRun(b, benchProxyOpts(b, Options{Guard: NewGuard(GuardBlock, detect.SeverityHigh)}), benchRequest, len(benchJSON))
}

func benchDirect(b *testing.B) *fasthttp.HostClient {
	upLn := fasthttputil.NewInmemoryListener()
	go fasthttp.Serve(upLn, benchUpstream)
	b.Cleanup(func() { upLn.Close() })
	return &fasthttp.HostClient{Addr: "upstream", Dial: func(string) (net.Conn, error) { return upLn.Dial() }, MaxConns: 1024}
}

// BenchmarkDirectJSON is the same exchange without the proxy: the floor.
func BenchmarkDirectJSON(b *testing.B) {
	benchRun(b, benchDirect(b), benchRequest, len(benchJSON))
}

// BenchmarkDirectSSE is the streaming floor.
func BenchmarkDirectSSE(b *testing.B) {
	benchRun(b, benchDirect(b), benchStream, benchSSELen)
}
