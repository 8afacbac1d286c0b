package printer

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/sink"
)

func attrs(m map[string]any) json.RawMessage {
	b, _ := json.Marshal(m)
	return b
}

func TestPrinterFormats(t *testing.T) {
	sid := "0123456789abcdef"
	events := []*sink.Event{
		{Name: sink.SessionStart, SessionID: sid, Vendor: "openai", Model: "gpt-4o", Time: time.Now()},
		{Name: sink.ToolResult, SessionID: sid, SpanID: "aaaabbbbccccdddd", ToolName: "calc",
			Attributes: attrs(map[string]any{"tool.status": "success", "tool.result": "42"})},
		{Name: sink.LLMCallStart, SessionID: sid, Attributes: attrs(map[string]any{
			"http.method": "POST", "http.path": "/v1/chat/completions", "llm.request.stream": true,
			"llm.request.data": map[string]any{"model": "gpt-4o", "max_tokens": 50, "messages": []any{
				map[string]any{"role": "user", "content": strings.Repeat("x", 120)},
			}}})},
		{Name: sink.LLMCallFinish, SessionID: sid, Status: 200, DurationMs: 812.4, InputTokens: 10, OutputTokens: 5, TotalTokens: 15,
			Attributes: attrs(map[string]any{"llm.response.content": []any{map[string]any{"type": "text", "text": "hello"}}})},
		{Name: sink.ToolExecution, SessionID: sid, SpanID: "1111222233334444", ToolName: "calc",
			Attributes: attrs(map[string]any{"tool.params": map[string]any{"b": 2, "a": "x"}})},
		{Name: sink.LLMCallError, SessionID: sid, ErrorType: "rate_limit_error", ErrorMessage: "slow down"},
	}
	var out bytes.Buffer
	p := New(&out, Options{LogRequests: true, LogResponses: true, LogBody: true, ShowSessions: true, ShowTools: true})
	if err := p.WriteBatch(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"🚀 NEW SESSION: 01234567\n   Provider: openai\n   Model: gpt-4o\n",
		"🔧 TOOL RESULT [aaaabbbb] ✅\n      Result: 42\n",
		"📤 REQUEST [01234567]\n   POST /v1/chat/completions\n   🔄 Streaming: Yes\n",
		"   Messages: 1\n     1. user: " + strings.Repeat("x", 100) + "...\n   Model: gpt-4o\n   Max tokens: 50\n",
		"📥 RESPONSE [01234567] ✅\n   Status: 200\n   Duration: 812ms\n   Usage: 10+5=15 tokens\n   Choices: 1\n     1. hello\n",
		"🔧 TOOL USE: calc [11112222]\n      Input: a=x, b=2\n",
		"❌ ERROR [01234567]\n   rate_limit_error: slow down\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}

	out.Reset()
	p = New(&out, Options{LogRequests: false, LogResponses: true})
	p.WriteBatch(context.Background(), events)
	if strings.Contains(out.String(), "REQUEST") || strings.Contains(out.String(), "NEW SESSION") || !strings.Contains(out.String(), "RESPONSE") {
		t.Fatalf("log_requests false:\n%s", out.String())
	}
}
