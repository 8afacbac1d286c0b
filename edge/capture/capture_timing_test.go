package capture

import (
	"context"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/cylestio/perimeter/edge/provider"
	"github.com/cylestio/perimeter/session"
	"github.com/cylestio/perimeter/sink"
)

// BenchmarkRecordBuffered: one buffered Chat call with two tool calls,
// from the Call to its six published events.
func BenchmarkRecordBuffered(b *testing.B) {
	c := New(session.New(session.DefaultConfig()), sink.Discard{}, "openai")
	b.Cleanup(func() { c.Close(context.Background()) })
	call := &Call{Kind: provider.OpenAIChat, Status: 200, Method: methodPOST, Path: chatPath,
		Response: &fasthttp.Response{}, MaxDecoded: 1 << 20}
	call.Response.SetBody(toolAnswer)
	benchRecord(b, c, call)
}

// benchRecord records call over and over, as one more call each time.
func benchRecord(b *testing.B, c *Capture, call *Call) {
	body := conversationBody(0)
	b.ReportAllocs()
	for b.Loop() {
		call.Start = time.Now()
		call.End = call.Start
		call.Body = body
		c.record(call)
	}
}

// BenchmarkRecordStreamed: one streamed Chat call read by the tap.
func BenchmarkRecordStreamed(b *testing.B) {
	c := New(session.New(session.DefaultConfig()), sink.Discard{}, "openai")
	b.Cleanup(func() { c.Close(context.Background()) })
	sp := provider.AcquireStreamParser(provider.OpenAIChat)
	for _, ev := range []string{
		`data: {"id":"c1","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"hi"}}]}`,
		`data: {"id":"c1","model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`,
		`data: [DONE]`,
	} {
		if err := sp.Event([]byte(ev)); err != nil {
			b.Fatal(err)
		}
	}
	call := &Call{Kind: provider.OpenAIChat, Status: 200, Method: methodPOST, Path: chatPath,
		Response: &fasthttp.Response{}, Streamed: true, SSE: true, Stream: sp}
	benchRecord(b, c, call)
}
