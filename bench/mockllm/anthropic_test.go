package mockllm

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cylestio/perimeter/bench/llmreq"
)

var anthropicTools = llmreq.AnthropicTools([]llmreq.Tool{{Name: "get_stock", Description: "price", Parameters: json.RawMessage(`{"type":"object"}`)}})

func TestMessage(t *testing.T) {
	_, base := startServer(t, Config{})
	body := request(t, &llmreq.MessagesRequest{Model: "claude-opus-4-1", MaxTokens: 64,
		Messages: []llmreq.AnthropicMessage{{Role: "user", Text: "hello"}}})
	resp := post(t, base+"/v1/messages", body, "anthropic-version", "2023-06-01", HeaderCachedTokens, "3")
	m := decode(t, readBody(t, resp))
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("request-id"), "req_") {
		t.Fatalf("status %d headers %v", resp.StatusCode, resp.Header)
	}
	if !strings.HasPrefix(str(m, "id"), "msg_") || str(m, "type") != "message" || str(m, "role") != "assistant" ||
		str(m, "model") != "claude-opus-4-1" || str(m, "stop_reason") != "end_turn" || !has(m, "stop_sequence") {
		t.Fatalf("message %v", m)
	}
	if str(m, "content", 0, "type") != "text" || str(m, "content", 0, "text") != Content(20) {
		t.Fatalf("content %v", m["content"])
	}
	u := get(m, "usage")
	if num(u, "input_tokens") != len(body)/4-3 || num(u, "cache_read_input_tokens") != 3 ||
		num(u, "cache_creation_input_tokens") != 0 || num(u, "output_tokens") != 20 {
		t.Fatalf("usage %v", u)
	}
}

func TestMessageToolUse(t *testing.T) {
	_, base := startServer(t, Config{})
	m := decode(t, readBody(t, post(t, base+"/v1/messages", request(t, &llmreq.MessagesRequest{Model: "claude", MaxTokens: 64, Tools: anthropicTools,
		Messages: []llmreq.AnthropicMessage{{Role: "user", Blocks: []llmreq.Block{{Type: "text", Text: "check with the tool"}}}}}))))
	tu := get(m, "content", 1)
	if str(m, "stop_reason") != "tool_use" || str(m, "content", 0, "type") != "text" || str(tu, "type") != "tool_use" ||
		!strings.HasPrefix(str(tu, "id"), "toolu_") || str(tu, "name") != "get_stock" || str(tu, "input", "location") != "San Francisco, CA" {
		t.Fatalf("tool use %v", m)
	}

	// Returning the tool result ends the loop with a text answer.
	loop := llmreq.Conversation{Format: llmreq.Anthropic, Model: "claude", MaxTokens: 64}
	loop.User("use the tool")
	calls := []llmreq.Call{{ID: "toolu_1", Name: "get_stock", Arguments: `{}`}}
	loop.Assistant("", calls)
	loop.ToolResults(calls, "42")
	_, body, err := loop.Request([]llmreq.Tool{{Name: "get_stock", Description: "price", Parameters: json.RawMessage(`{"type":"object"}`)}}, false)
	if err != nil {
		t.Fatal(err)
	}
	m = decode(t, readBody(t, post(t, base+"/v1/messages", string(body))))
	if str(m, "stop_reason") != "end_turn" {
		t.Fatalf("after tool_result: %v", m)
	}
}

func TestMessagesStream(t *testing.T) {
	_, base := startServer(t, Config{})
	evs := mustStream(t, post(t, base+"/v1/messages", `{"model":"claude-x","stream":true,"max_tokens":9,"messages":[{"role":"user","content":"hi"}]}`, HeaderChunks, "4"))
	want := "message_start content_block_start ping " + strings.Repeat("content_block_delta ", 4) + "content_block_stop message_delta message_stop"
	if got := eventNames(evs); got != want {
		t.Fatalf("events\n got %s\nwant %s", got, want)
	}
	ms := make([]map[string]any, len(evs))
	for i, ev := range evs {
		ms[i] = decode(t, []byte(ev.data))
		if str(ms[i], "type") != ev.name {
			t.Fatalf("event %d: name %q, data type %q", i, ev.name, str(ms[i], "type"))
		}
	}
	start := get(ms[0], "message")
	if !strings.HasPrefix(str(start, "id"), "msg_") || str(start, "model") != "claude-x" || num(start, "usage", "input_tokens") <= 0 ||
		len(get(start, "content").([]any)) != 0 || get(start, "stop_reason") != nil {
		t.Fatalf("message_start %s", evs[0].data)
	}
	if str(ms[1], "content_block", "type") != "text" || num(ms[1], "index") != 0 {
		t.Fatalf("content_block_start %s", evs[1].data)
	}
	var text string
	for _, m := range ms[3:7] {
		if str(m, "delta", "type") != "text_delta" || num(m, "index") != 0 {
			t.Fatalf("delta %v", m)
		}
		text += str(m, "delta", "text")
	}
	if text != Content(4) {
		t.Errorf("text %q", text)
	}
	md := ms[len(ms)-2]
	if str(md, "delta", "stop_reason") != "end_turn" || num(md, "usage", "output_tokens") != 4 {
		t.Errorf("message_delta %v", md)
	}
}

func TestMessagesStreamToolUse(t *testing.T) {
	_, base := startServer(t, Config{})
	evs := mustStream(t, post(t, base+"/v1/messages", request(t, &llmreq.MessagesRequest{Model: "claude-x", Stream: true, MaxTokens: 9, Tools: anthropicTools,
		Messages: []llmreq.AnthropicMessage{{Role: "user", Text: "tool please"}}}), HeaderChunks, "5"))
	want := "message_start content_block_start ping content_block_delta content_block_stop content_block_start " +
		strings.Repeat("content_block_delta ", 6) + "content_block_stop message_delta message_stop"
	if got := eventNames(evs); got != want {
		t.Fatalf("events\n got %s\nwant %s", got, want)
	}
	start := decode(t, []byte(evs[5].data))
	if num(start, "index") != 1 || str(start, "content_block", "type") != "tool_use" || str(start, "content_block", "name") != "get_stock" {
		t.Fatalf("tool block start %s", evs[5].data)
	}
	var partial string
	for _, ev := range evs[6:12] {
		m := decode(t, []byte(ev.data))
		if num(m, "index") != 1 || str(m, "delta", "type") != "input_json_delta" {
			t.Fatalf("tool delta %s", ev.data)
		}
		partial += str(m, "delta", "partial_json")
	}
	if partial != ToolArguments {
		t.Errorf("partial_json joined %q", partial)
	}
	if md := decode(t, []byte(evs[len(evs)-2].data)); str(md, "delta", "stop_reason") != "tool_use" {
		t.Errorf("message_delta %s", evs[len(evs)-2].data)
	}
}
