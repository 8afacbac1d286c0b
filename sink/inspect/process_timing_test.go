package inspect

import (
	"testing"

	"github.com/cylestio/perimeter/detect"
	"github.com/cylestio/perimeter/sink"
)

// BenchmarkProcessTypicalCall scans the events of one small call.
func BenchmarkProcessTypicalCall(b *testing.B) {
	p := New(detect.Options{}, 1000)
	mk := func() []*sink.Event {
		return []*sink.Event{
			ev(sink.SessionStart, map[string]any{"prompt": "You are a helpful assistant."}),
			ev(sink.LLMCallStart, map[string]any{"llm.request.data": map[string]any{"model": "gpt-4o-mini", "messages": []any{map[string]any{"role": "system", "content": "You are a helpful assistant."}, map[string]any{"role": "user", "content": "Hello! Can you tell me about the weather in Paris in the spring, and what I should pack?"}}}}),
			ev(sink.LLMCallFinish, map[string]any{"llm.response.content": []any{map[string]any{"type": "text", "text": "Hello there, how may I assist you today? Paris in spring is mild, pack layers and an umbrella."}}}),
		}
	}
	batch := mk()
	b.ReportAllocs()
	for b.Loop() {
		p.Process(batch[:len(batch):len(batch)])
	}
}
