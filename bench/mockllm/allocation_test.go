//go:build !race

package mockllm

import (
	"bufio"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestNonStreamAllocs keeps the benchmark floor honest: answering a
// non-streaming request allocates nothing once pools are warm.
func TestNonStreamAllocs(t *testing.T) {
	s := New(Config{MaxRecorded: -1})
	h := s.Handler()
	for _, path := range []string{"/v1/chat/completions", "/v1/responses", "/v1/messages"} {
		var ctx fasthttp.RequestCtx
		raw := rawPost("mock", path, chatBody, "x-mock-chunks", "20")
		if err := ctx.Request.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
			t.Fatal(err)
		}
		run := func() {
			ctx.Response.Reset()
			h(&ctx)
		}
		run()
		if ctx.Response.StatusCode() != 200 || len(ctx.Response.Body()) < 300 {
			t.Fatalf("%s: %d %q", path, ctx.Response.StatusCode(), ctx.Response.Body())
		}
		if n := testing.AllocsPerRun(200, run); n != 0 {
			t.Errorf("%s: %.1f allocations per request", path, n)
		}
	}
}
