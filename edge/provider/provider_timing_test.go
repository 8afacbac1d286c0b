package provider

import (
	"encoding/json"
	"testing"
)

// Benchmarks: this package's scanner against encoding/json, on the same
// bodies, extracting the same facts. Run with
// go test ./edge/provider -run '^$' -bench . -benchmem -benchtime 200ms.
//
// "std/typed" decodes into structs holding only what Parse reports (the
// fairest encoding/json can do); "std/map" decodes into map[string]any as
// the Python original's json.loads does.

// stdMessage is what encoding/json needs to extract what Parse extracts.
type stdMessage struct {
	Role       string          `json:"role"`
	Type       string          `json:"type"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name"`
	ToolCallID string          `json:"tool_call_id"`
	CallID     string          `json:"call_id"`
	ToolCalls  []stdToolCall   `json:"tool_calls"`
}

// stdToolCall is a Chat tool call, in a message or (with an index) in a
// chunk's delta.
type stdToolCall struct {
	ID       string `json:"id"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type stdBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
	IsError   bool            `json:"is_error"`
}

type stdRequest struct {
	Model         string `json:"model"`
	Stream        bool   `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens   *int64          `json:"max_tokens"`
	Temperature *float64        `json:"temperature"`
	System      json.RawMessage `json:"system"`
	Messages    []stdMessage    `json:"messages"`
	Tools       []struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
}

// stdText decodes a content value to its text, as Parse does.
func stdText(raw json.RawMessage, blocks *[]stdBlock) string {
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		var s string
		json.Unmarshal(raw, &s)
		return s
	}
	if raw[0] != '[' {
		return ""
	}
	*blocks = (*blocks)[:0]
	json.Unmarshal(raw, blocks)
	text := ""
	for _, b := range *blocks {
		if b.Type == "text" {
			text += b.Text
		}
		if b.Type == "tool_result" {
			var inner []stdBlock
			stdText(b.Content, &inner)
		}
	}
	return text
}

func stdParse(body []byte) error {
	var r stdRequest
	if err := json.Unmarshal(body, &r); err != nil {
		return err
	}
	var blocks []stdBlock
	stdText(r.System, &blocks)
	for _, m := range r.Messages {
		stdText(m.Content, &blocks)
	}
	return nil
}

func benchRequest(b *testing.B, kind Kind, body []byte) {
	b.Run("provider", func(b *testing.B) {
		r := AcquireRequest()
		defer ReleaseRequest(r)
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if err := r.Parse(kind, body); err != nil {
				b.Fatal(err)
			}
		}
	})
	benchStd(b, "std/typed", len(body), body, stdParse)
	benchStd(b, "std/map", len(body), body, func(body []byte) error {
		var m map[string]any
		return json.Unmarshal(body, &m)
	})
}

// benchStd runs an encoding/json baseline: decode reads in, the JSON of a
// body of size bytes (the body itself, or an event's data line).
func benchStd(b *testing.B, name string, size int, in []byte, decode func([]byte) error) {
	b.Run(name, func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			if err := decode(in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRequestSmall(b *testing.B) { benchRequest(b, OpenAIChat, smallChatRequest()) }

func BenchmarkRequestLargeChat(b *testing.B) { benchRequest(b, OpenAIChat, largeChatRequest()) }

func BenchmarkRequestLargeAnthropic(b *testing.B) {
	benchRequest(b, AnthropicMessages, largeAnthropicRequest())
}

// stdResponse is the typed baseline for a Chat answer.
type stdResponse struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Choices []struct {
		Message      stdMessage `json:"message"`
		FinishReason string     `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens        int64 `json:"prompt_tokens"`
		CompletionTokens    int64 `json:"completion_tokens"`
		TotalTokens         int64 `json:"total_tokens"`
		PromptTokensDetails struct {
			CachedTokens int64 `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
	} `json:"usage"`
	Error json.RawMessage `json:"error"`
}

func BenchmarkResponseChat(b *testing.B) {
	body := fixture(b, "responses/mock_chat_text.json")
	b.Run("provider", func(b *testing.B) {
		r := AcquireResponse()
		defer ReleaseResponse(r)
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if err := r.Parse(OpenAIChat, 200, body); err != nil {
				b.Fatal(err)
			}
		}
	})
	benchStd(b, "std/typed", len(body), body, func(body []byte) error {
		var r stdResponse
		return json.Unmarshal(body, &r)
	})
}

// stdChunk is the typed baseline for one Chat chunk.
type stdChunk struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Content   *string `json:"content"`
			ToolCalls []struct {
				Index int `json:"index"`
				stdToolCall
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage json.RawMessage `json:"usage"`
}

type stdAnthropicEvent struct {
	Type  string `json:"type"`
	Index int    `json:"index"`
	Delta struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		PartialJSON string `json:"partial_json"`
	} `json:"delta"`
}

type stdResponsesEvent struct {
	Type        string `json:"type"`
	OutputIndex int    `json:"output_index"`
	Delta       string `json:"delta"`
}

// BenchmarkStreamEvent is the per-event cost of a tap: one content delta.
// The parser is reset every 1,000 events so the text it keeps stays small.
func BenchmarkStreamEvent(b *testing.B) {
	cases := []struct {
		name string
		kind Kind
		ev   []byte
		std  func([]byte) error
	}{
		{"chat", OpenAIChat, chatDeltaEvent, func(d []byte) error { var c stdChunk; return json.Unmarshal(d, &c) }},
		{"chat-tool", OpenAIChat, chatToolDeltaEvent, func(d []byte) error { var c stdChunk; return json.Unmarshal(d, &c) }},
		{"anthropic", AnthropicMessages, anthropicDeltaEvent, func(d []byte) error { var c stdAnthropicEvent; return json.Unmarshal(d, &c) }},
		{"responses", OpenAIResponses, responsesDeltaEvent, func(d []byte) error { var c stdResponsesEvent; return json.Unmarshal(d, &c) }},
	}
	for _, c := range cases {
		b.Run(c.name+"/provider", func(b *testing.B) {
			p := AcquireStreamParser(c.kind)
			defer ReleaseStreamParser(p)
			b.SetBytes(int64(len(c.ev)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i++; i%1000 == 0 {
					p.Reset(c.kind)
				}
				if err := p.Event(c.ev); err != nil {
					b.Fatal(err)
				}
			}
		})
		benchStd(b, c.name+"/std/typed", len(c.ev), dataOf(c.ev), c.std)
	}
}

// dataOf returns the data line of a one-line SSE event.
func dataOf(ev []byte) []byte {
	for _, line := range splitLines(ev) {
		if len(line) > 6 && string(line[:6]) == "data: " {
			return line[6:]
		}
	}
	return nil
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != '\n' {
			i++
		}
		out = append(out, b[:i])
		if i == len(b) {
			break
		}
		b = b[i+1:]
	}
	return out
}
