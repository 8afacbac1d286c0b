//go:build !race

package provider

import (
	"testing"
)

// Parsing must not allocate once a Request, Response or StreamParser has
// grown to the traffic's size: these run on the proxy's hot path for every
// request and every SSE event.

func TestAllocsRequest(t *testing.T) {
	type request struct {
		kind Kind
		body []byte
	}
	bodies := []request{
		{OpenAIChat, smallChatRequest()},
		{OpenAIChat, largeChatRequest()},
		{AnthropicMessages, largeAnthropicRequest()},
	}
	for _, file := range []string{"openai_chat_tool_loop", "openai_chat_parts", "openai_responses_items", "anthropic_tool_loop"} {
		bodies = append(bodies, request{kindOf(file), fixture(t, "requests/"+file+".json")})
	}
	r := AcquireRequest()
	defer ReleaseRequest(r)
	for _, b := range bodies {
		r.Parse(b.kind, b.body) // warm up
		if n := testing.AllocsPerRun(50, func() {
			if err := r.Parse(b.kind, b.body); err != nil {
				t.Fatal(err)
			}
			r.AppendSystemPrompt(make([]byte, 0, 4096)[:0])
			r.ToolResultsFrom(len(r.Messages) / 2)
			r.ToolCallsFrom(1)
		}); n > 1 { // the make above
			t.Errorf("%v request of %d bytes: %v allocations per Parse", b.kind, len(b.body), n-1)
		}
	}
}

func TestAllocsResponse(t *testing.T) {
	files := []string{"mock_chat_text", "mock_chat_tool", "mock_responses_text", "mock_anthropic_tool", "anthropic_thinking_tool", "openai_chat_multi_choice", "mock_chat_error_429"}
	r := AcquireResponse()
	defer ReleaseResponse(r)
	for _, file := range files {
		body := fixture(t, "responses/"+file+".json")
		kind, status := kindOf(file), responseStatus(file+".json")
		r.Parse(kind, status, body)
		if n := testing.AllocsPerRun(50, func() { r.Parse(kind, status, body) }); n != 0 {
			t.Errorf("%s: %v allocations per Parse", file, n)
		}
	}
}

func TestAllocsStream(t *testing.T) {
	files := []string{"mock_chat_text", "mock_chat_tool", "openai_chat_parallel_tools", "mock_responses_tool", "openai_responses_parallel_tools", "anthropic_thinking_tool", "openai_chat_unicode_multiline"}
	p := AcquireStreamParser(None)
	defer ReleaseStreamParser(p)
	for _, file := range files {
		evs := splitEvents(fixture(t, "streams/"+file+".sse"))
		kind := kindOf(file)
		run := func() {
			p.Reset(kind)
			for _, ev := range evs {
				p.Event(ev)
			}
			p.Result()
		}
		run()
		if n := testing.AllocsPerRun(50, run); n != 0 {
			t.Errorf("%s: %v allocations per stream", file, n)
		}
	}
}
