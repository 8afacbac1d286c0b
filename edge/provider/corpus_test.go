package provider

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Benchmark and allocation-test bodies, generated deterministically so
// that their sizes are what the benchmark names say.

// fileText is tool output as agents send it back: source code, with the
// quotes, newlines and tabs that JSON must escape.
func fileText(i, size int) string {
	var b strings.Builder
	for n := 0; b.Len() < size; n++ {
		fmt.Fprintf(&b, "func handler%d_%d(w http.ResponseWriter, r *http.Request) {\n\tif r.Header.Get(\"X-Token\") == \"\" {\n\t\thttp.Error(w, \"missing token — café\", 401)\n\t}\n}\n", i, n)
	}
	return b.String()[:size]
}

const benchSystem = "You are a senior software engineer working in the user's repository. Use the tools to read files, run commands and edit code. Explain briefly what you do and why. Never invent file contents: read them first. Prefer small, reviewable changes and run the tests after each edit."

// smallChatRequest is a ~1 KB Chat Completions request: a system prompt,
// two turns and one tool offered.
func smallChatRequest() []byte {
	body := map[string]any{
		"model": "gpt-4o-mini",
		"messages": []any{
			map[string]any{"role": "system", "content": benchSystem},
			map[string]any{"role": "user", "content": "The build fails with \"undefined: handler\". Can you look at main.go and fix it?"},
			map[string]any{"role": "assistant", "content": "Sure — I'll read main.go first."},
			map[string]any{"role": "user", "content": "Go ahead."},
		},
		"tools": []any{map[string]any{"type": "function", "function": map[string]any{
			"name": "read_file", "description": "Read a file",
			"parameters": map[string]any{"type": "object", "properties": map[string]any{"path": map[string]any{"type": "string"}}, "required": []string{"path"}},
		}}},
		"stream":         true,
		"stream_options": map[string]any{"include_usage": true},
		"temperature":    0.2,
		"max_tokens":     1024,
	}
	return mustJSON(body)
}

// largeChatRequest is a ~200 KB Chat Completions request of an agent 100
// messages into a tool loop: 25 rounds of user / assistant tool call /
// tool result (~7 KB of file text) / assistant answer.
func largeChatRequest() []byte {
	msgs := []any{map[string]any{"role": "system", "content": benchSystem}}
	for i := 0; len(msgs) < 101; i++ {
		id := fmt.Sprintf("call_%024d", i)
		msgs = append(msgs,
			map[string]any{"role": "user", "content": fmt.Sprintf("Step %d: check handler%d and fix the token check.", i, i)},
			map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{
				"id": id, "type": "function",
				"function": map[string]any{"name": "read_file", "arguments": fmt.Sprintf(`{"path":"internal/api/handler%d.go"}`, i)},
			}}},
			map[string]any{"role": "tool", "tool_call_id": id, "content": fileText(i, 7200)},
			map[string]any{"role": "assistant", "content": fmt.Sprintf("handler%d returns 401 without a token; the check is correct. Moving on.", i)},
		)
	}
	return mustJSON(map[string]any{
		"model": "gpt-4.1", "messages": msgs[:101], "stream": true, "temperature": 0,
		"tools": []any{map[string]any{"type": "function", "function": map[string]any{"name": "read_file", "parameters": map[string]any{"type": "object"}}}},
	})
}

// largeAnthropicRequest is the same agent history in Anthropic's format:
// content blocks, tool_use and tool_result, a system block list.
func largeAnthropicRequest() []byte {
	var msgs []any
	for i := 0; len(msgs) < 100; i++ {
		id := fmt.Sprintf("toolu_%024d", i)
		msgs = append(msgs,
			map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": fmt.Sprintf("Step %d: check handler%d and fix the token check.", i, i)}}},
			map[string]any{"role": "assistant", "content": []any{
				map[string]any{"type": "text", "text": "Reading the file."},
				map[string]any{"type": "tool_use", "id": id, "name": "read_file", "input": map[string]any{"path": fmt.Sprintf("internal/api/handler%d.go", i)}},
			}},
			map[string]any{"role": "user", "content": []any{map[string]any{"type": "tool_result", "tool_use_id": id, "content": fileText(i, 7200)}}},
			map[string]any{"role": "assistant", "content": []any{map[string]any{"type": "text", "text": fmt.Sprintf("handler%d is fine. Moving on.", i)}}},
		)
	}
	return mustJSON(map[string]any{
		"model": "claude-sonnet-4-5", "max_tokens": 8192, "stream": true,
		"system":   []any{map[string]any{"type": "text", "text": benchSystem, "cache_control": map[string]any{"type": "ephemeral"}}},
		"messages": msgs,
		"tools":    []any{map[string]any{"name": "read_file", "input_schema": map[string]any{"type": "object"}}},
	})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// SSE events as providers send them (shapes from bench/mockllm).
var (
	chatDeltaEvent      = []byte(`data: {"id":"chatcmpl-08cc74fe000000000004","object":"chat.completion.chunk","created":1795858600,"model":"gpt-4o-mini","service_tier":"default","system_fingerprint":"fp_mock0001","choices":[{"index":0,"delta":{"content":" answer"},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n")
	chatToolDeltaEvent  = []byte(`data: {"id":"chatcmpl-08cc74fe000000000005","object":"chat.completion.chunk","created":1795858600,"model":"gpt-4o-mini","service_tier":"default","system_fingerprint":"fp_mock0001","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ion\":\"San"}}]},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n")
	anthropicDeltaEvent = []byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" answer\"}}\n\n")
	responsesDeltaEvent = []byte("event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":7,\"item_id\":\"msg_08cc74fe00000000000c\",\"output_index\":0,\"content_index\":0,\"delta\":\" answer\",\"logprobs\":[]}\n\n")
)
