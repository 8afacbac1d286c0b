package mockllm

import (
	"bufio"
	"net"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func benchmarkHandler(b *testing.B, path, body string) {
	s := New(Config{MaxRecorded: -1})
	h := s.Handler()
	var ctx fasthttp.RequestCtx
	if err := ctx.Request.Read(bufio.NewReader(strings.NewReader(rawPost("mock", path, body)))); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.Reset()
		h(&ctx)
	}
}

func BenchmarkHandlerChat(b *testing.B)      { benchmarkHandler(b, "/v1/chat/completions", chatBody) }
func BenchmarkHandlerMessages(b *testing.B)  { benchmarkHandler(b, "/v1/messages", chatBody) }
func BenchmarkHandlerResponses(b *testing.B) { benchmarkHandler(b, "/v1/responses", chatBody) }

// benchmarkInmemory measures whole requests through a fasthttp client over
// an in-memory listener, the way the benchmark suite talks to the mock.
func benchmarkInmemory(b *testing.B, body string) {
	s, ln := StartInmemory(Config{MaxRecorded: -1})
	defer s.Close()
	c := &fasthttp.HostClient{Addr: "mock", Dial: func(string) (net.Conn, error) { return ln.Dial() }}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	req.SetRequestURI("http://mock/v1/chat/completions")
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetBodyString(body)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Do(req, resp); err != nil || resp.StatusCode() != 200 {
			b.Fatal(err, resp.StatusCode())
		}
	}
}

func BenchmarkInmemoryChat(b *testing.B)       { benchmarkInmemory(b, chatBody) }
func BenchmarkInmemoryChatStream(b *testing.B) { benchmarkInmemory(b, streamChat) }

func TestInmemoryFasthttpClient(t *testing.T) {
	s, ln := StartInmemory(Config{Chunks: 4})
	defer s.Close()
	c := &fasthttp.HostClient{Addr: "mock", Dial: func(string) (net.Conn, error) { return ln.Dial() }}
	for _, body := range []string{chatBody, streamChat} {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI("http://mock/v1/chat/completions")
		req.Header.SetMethod(fasthttp.MethodPost)
		req.SetBodyString(body)
		if err := c.Do(req, resp); err != nil || resp.StatusCode() != 200 {
			t.Fatalf("%v %d", err, resp.StatusCode())
		}
		if !strings.Contains(string(resp.Body()), "Sure") {
			t.Fatalf("body %q", resp.Body())
		}
		if body == streamChat && !strings.HasSuffix(string(resp.Body()), "data: [DONE]\n\n") {
			t.Fatalf("stream body %q", resp.Body())
		}
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
	}
	if last, ok := s.LastRequest(); !ok || last.Index != 1 {
		t.Fatalf("LastRequest %+v", last)
	}
}
