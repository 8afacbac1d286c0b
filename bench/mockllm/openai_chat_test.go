package mockllm

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cylestio/perimeter/bench/llmreq"
)

const chatBody = `{"model":"gpt-4o-2024-08-06","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello"}]}`

// The constant above is what llmreq renders for this conversation.
func TestChatBodyIsTyped(t *testing.T) {
	c := llmreq.Conversation{Format: llmreq.Chat, Model: "gpt-4o-2024-08-06", System: "be brief"}
	c.User("hello")
	if _, b, err := c.Request(nil, false); err != nil || string(b) != chatBody {
		t.Fatalf("%s, %v", b, err)
	}
}

func TestChatCompletion(t *testing.T) {
	_, base := startServer(t, Config{})
	for _, path := range []string{"/v1/chat/completions", "/chat/completions", "/openai/v1/chat/completions"} {
		t.Run(path, func(t *testing.T) {
			resp := post(t, base+path, chatBody)
			b := readBody(t, resp)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d content-type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if len(b) < 700 || len(b) > 1400 {
				t.Errorf("body is %d bytes, want about 1 KB", len(b))
			}
			if !strings.HasPrefix(resp.Header.Get("x-request-id"), "req_") {
				t.Errorf("x-request-id %q", resp.Header.Get("x-request-id"))
			}
			m := decode(t, b)
			if id := str(m, "id"); !strings.HasPrefix(id, "chatcmpl-") {
				t.Errorf("id %q", id)
			}
			if str(m, "object") != "chat.completion" || num(m, "created") <= 0 || str(m, "model") != "gpt-4o-2024-08-06" {
				t.Errorf("object/created/model: %v %v %v", m["object"], m["created"], m["model"])
			}
			msg := get(m, "choices", 0, "message")
			if str(msg, "role") != "assistant" || str(msg, "content") != Content(20) {
				t.Errorf("message %v", msg)
			}
			if !has(msg, "refusal") || get(msg, "refusal") != nil {
				t.Errorf("refusal must be present and null: %v", msg)
			}
			if str(m, "choices", 0, "finish_reason") != "stop" || num(m, "choices", 0, "index") != 0 {
				t.Errorf("choice %v", get(m, "choices", 0))
			}
			u := get(m, "usage")
			p, c := num(u, "prompt_tokens"), num(u, "completion_tokens")
			if p != len(chatBody)/4 || c != 20 || num(u, "total_tokens") != p+c {
				t.Errorf("usage %v", u)
			}
			if num(u, "prompt_tokens_details", "cached_tokens") != 0 || num(u, "completion_tokens_details", "reasoning_tokens") != 0 {
				t.Errorf("usage details %v", u)
			}
			if !strings.HasPrefix(str(m, "system_fingerprint"), "fp_") {
				t.Errorf("system_fingerprint %v", m["system_fingerprint"])
			}
		})
	}
}

func TestChatCompletionDefaults(t *testing.T) {
	_, base := startServer(t, Config{Chunks: 5, Model: "local-model"})
	m := decode(t, readBody(t, post(t, base+"/v1/chat/completions", `{"messages":[]}`, HeaderCachedTokens, "2")))
	if str(m, "model") != "local-model" || str(m, "choices", 0, "message", "content") != Content(5) {
		t.Errorf("model %v content %q", m["model"], str(m, "choices", 0, "message", "content"))
	}
	if num(m, "usage", "prompt_tokens_details", "cached_tokens") != 2 {
		t.Errorf("cached tokens %v", get(m, "usage"))
	}
}

func TestChatStream(t *testing.T) {
	_, base := startServer(t, Config{})
	for _, tc := range []struct {
		name   string
		body   string
		chunks int
		usage  bool
	}{
		{"default", `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`, 20, false},
		{"usage", `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`, 7, true},
		{"no content", `{"model":"gpt-4o-mini","stream":true,"messages":[]}`, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, base+"/v1/chat/completions", tc.body, HeaderChunks, itoa(tc.chunks))
			evs := mustStream(t, resp)
			want := 1 + tc.chunks + 1 + 1 // role, content, finish, [DONE]
			if tc.usage {
				want++
			}
			if len(evs) != want {
				t.Fatalf("%d events, want %d", len(evs), want)
			}
			if last := evs[len(evs)-1]; last.data != "[DONE]" || last.name != "" {
				t.Fatalf("last event %+v, want data: [DONE]", last)
			}
			var id, text string
			for i, ev := range evs[:len(evs)-1] {
				if ev.name != "" {
					t.Fatalf("event %d has an event: line %q", i, ev.name)
				}
				m := decode(t, []byte(ev.data))
				if str(m, "object") != "chat.completion.chunk" || str(m, "model") != "gpt-4o-mini" {
					t.Fatalf("event %d: %s", i, ev.data)
				}
				if i == 0 {
					id = str(m, "id")
				} else if str(m, "id") != id {
					t.Fatalf("event %d id %q != %q", i, str(m, "id"), id)
				}
				if has(m, "usage") != tc.usage {
					t.Fatalf("event %d: usage key present=%v, want %v", i, has(m, "usage"), tc.usage)
				}
				switch {
				case i == 0:
					if str(m, "choices", 0, "delta", "role") != "assistant" || get(m, "choices", 0, "finish_reason") != nil {
						t.Fatalf("first chunk %s", ev.data)
					}
				case i <= tc.chunks:
					text += str(m, "choices", 0, "delta", "content")
				case i == tc.chunks+1:
					if str(m, "choices", 0, "finish_reason") != "stop" || len(get(m, "choices", 0, "delta").(map[string]any)) != 0 {
						t.Fatalf("finish chunk %s", ev.data)
					}
				default: // usage chunk
					if len(get(m, "choices").([]any)) != 0 || num(m, "usage", "completion_tokens") != tc.chunks || num(m, "usage", "total_tokens") <= tc.chunks {
						t.Fatalf("usage chunk %s", ev.data)
					}
				}
			}
			if text != Content(tc.chunks) {
				t.Errorf("streamed text %q, want %q", text, Content(tc.chunks))
			}
		})
	}
}

var chatTools = llmreq.ChatTools([]llmreq.Tool{{Name: "lookup_weather", Parameters: json.RawMessage(`{"type":"object"}`)}})

// chatUser is a user message of a chat request.
func chatUser(text string) llmreq.ChatMessage {
	return llmreq.ChatMessage{Role: "user", Content: llmreq.Text(text)}
}

func TestChatToolCall(t *testing.T) {
	_, base := startServer(t, Config{})
	toolResult := llmreq.ChatMessage{Role: "tool", ToolCallID: "call_1", Content: llmreq.Text("sunny")}
	for _, tc := range []struct {
		name     string
		req      llmreq.ChatRequest
		hdr      []string
		wantTool bool
		wantName string
	}{
		{"asked", llmreq.ChatRequest{Model: "m", Tools: chatTools, Messages: []llmreq.ChatMessage{chatUser("please use the Tool")}}, nil, true, "lookup_weather"},
		{"not asked", llmreq.ChatRequest{Model: "m", Tools: chatTools, Messages: []llmreq.ChatMessage{chatUser("hello")}}, nil, false, ""},
		{"no tools offered", llmreq.ChatRequest{Model: "m", Messages: []llmreq.ChatMessage{chatUser("use a tool")}}, nil, false, ""},
		{"after tool result", llmreq.ChatRequest{Model: "m", Tools: chatTools, Messages: []llmreq.ChatMessage{chatUser("use the tool"), toolResult}}, nil, false, ""},
		{"forced", llmreq.ChatRequest{Model: "m", Messages: []llmreq.ChatMessage{chatUser("hello")}}, []string{HeaderTool, "1"}, true, defaultToolName},
		{"suppressed", llmreq.ChatRequest{Model: "m", Tools: chatTools, Messages: []llmreq.ChatMessage{chatUser("use the tool")}}, []string{HeaderTool, "0"}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := decode(t, readBody(t, post(t, base+"/v1/chat/completions", request(t, &tc.req), tc.hdr...)))
			choice := get(m, "choices", 0)
			if !tc.wantTool {
				if str(choice, "finish_reason") != "stop" || has(choice, "message", "tool_calls") {
					t.Fatalf("want text answer, got %v", choice)
				}
				return
			}
			if str(choice, "finish_reason") != "tool_calls" || !has(choice, "message", "content") || get(choice, "message", "content") != nil {
				t.Fatalf("tool answer %v", choice)
			}
			call := get(choice, "message", "tool_calls", 0)
			if !strings.HasPrefix(str(call, "id"), "call_") || str(call, "type") != "function" ||
				str(call, "function", "name") != tc.wantName || str(call, "function", "arguments") != ToolArguments {
				t.Fatalf("tool call %v", call)
			}

			// The same request streamed.
			tc.req.Stream = true
			evs := mustStream(t, post(t, base+"/v1/chat/completions", request(t, &tc.req), append(tc.hdr, HeaderChunks, "6")...))
			if len(evs) != 1+6+1+1 {
				t.Fatalf("%d events", len(evs))
			}
			first := decode(t, []byte(evs[0].data))
			tcd := get(first, "choices", 0, "delta", "tool_calls", 0)
			if num(tcd, "index") != 0 || !strings.HasPrefix(str(tcd, "id"), "call_") || str(tcd, "function", "name") != tc.wantName || str(first, "choices", 0, "delta", "role") != "assistant" {
				t.Fatalf("first tool chunk %s", evs[0].data)
			}
			var args string
			for _, ev := range evs[1:7] {
				d := get(decode(t, []byte(ev.data)), "choices", 0, "delta", "tool_calls", 0)
				if num(d, "index") != 0 || has(d, "id") {
					t.Fatalf("argument chunk %s", ev.data)
				}
				args += str(d, "function", "arguments")
			}
			if args != ToolArguments {
				t.Errorf("streamed arguments %q", args)
			}
			if fin := decode(t, []byte(evs[7].data)); str(fin, "choices", 0, "finish_reason") != "tool_calls" {
				t.Errorf("finish chunk %s", evs[7].data)
			}
		})
	}
}
