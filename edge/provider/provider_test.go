package provider

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		llmType, method, path string
		want                  Kind
	}{
		{"openai", "POST", "/v1/chat/completions", OpenAIChat},
		{"openai", "POST", "/chat/completions", OpenAIChat},
		{"openai", "POST", "chat/completions", OpenAIChat},
		{"openai", "POST", "/v1/chat/completions/", OpenAIChat},
		{"openai", "POST", "/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21", OpenAIChat},
		{"anthropic", "POST", "/v1/chat/completions", OpenAIChat}, // Anthropic's OpenAI compatibility layer
		{"openai", "GET", "/v1/chat/completions", None},
		{"openai", "POST", "/v1/xchat/completions", None},
		{"openai", "POST", "/v1/completions", None},
		{"openai", "POST", "/v1/responses", OpenAIResponses},
		{"openai", "POST", "/v1/responses?stream=true", OpenAIResponses},
		{"openai", "GET", "/v1/responses/resp_123", None},
		{"openai", "DELETE", "/v1/responses/resp_123", None},
		{"openai", "POST", "/v1/responses/resp_123/cancel", None},
		{"openai", "GET", "/v1/responses/resp_123/input_items", None},
		{"openai", "POST", "/v1/embeddings", None},
		{"openai", "GET", "/v1/models", None},
		{"openai", "POST", "/v1/files", None},
		{"openai", "POST", "/v1/threads/thread_abc/messages", None},
		{"anthropic", "POST", "/v1/messages", AnthropicMessages},
		{"openai", "POST", "/v1/messages", AnthropicMessages}, // gateways serve it under any type
		{"anthropic", "POST", "/api/anthropic/v1/messages", AnthropicMessages},
		{"anthropic", "POST", "/v1/messages/count_tokens", None},
		{"anthropic", "POST", "/v1/messages/batches", None},
		{"anthropic", "GET", "/v1/messages", None},
		{"", "POST", "", None},
		{"", "POST", "/", None},
	}
	for _, tt := range tests {
		if got := Detect(tt.llmType, []byte(tt.method), []byte(tt.path)); got != tt.want {
			t.Errorf("Detect(%q, %s %s) = %v, want %v", tt.llmType, tt.method, tt.path, got, tt.want)
		}
	}
}

func TestStr(t *testing.T) {
	tests := []struct {
		raw  string
		esc  bool
		want string
	}{
		{`plain`, false, "plain"},
		{`caf\u00e9 \"q\" \\ \/ \b\f\n\r\t`, true, "café \"q\" \\ / \b\f\n\r\t"},
		{`\ud83d\ude00`, true, "😀"},
		{`\ud83d`, true, "\uFFFD"},            // lone high surrogate
		{`\ude00x`, true, "\uFFFDx"},          // lone low surrogate
		{`\ud83d\u0041`, true, "\uFFFDA"},     // high surrogate then a non-surrogate
		{`a\`, true, "a\uFFFD"},               // malformed: never produced by the scanner
		{`\x`, true, "\uFFFD"},                // malformed escape
		{`\u12`, true, "\uFFFD12"},            // short \u
		{"caf\xc3\xa9", false, "caf\xc3\xa9"}, // raw UTF-8
	}
	for _, tt := range tests {
		s := Str{Raw: []byte(tt.raw), Escaped: tt.esc}
		if got := s.String(); got != tt.want {
			t.Errorf("%q: String %q, want %q", tt.raw, got, tt.want)
		}
		if got := string(s.Append([]byte("x"))); got != "x"+tt.want {
			t.Errorf("%q: Append %q", tt.raw, got)
		}
		if !s.Equal(tt.want) {
			t.Errorf("%q: Equal(%q) false", tt.raw, tt.want)
		}
		if s.Equal(tt.want+"!") || (len(tt.want) > 0 && s.Equal(tt.want[:len(tt.want)-1])) {
			t.Errorf("%q: Equal accepts a different text", tt.raw)
		}
		plain := Str{Raw: []byte(tt.want)}
		if !s.EqualStr(plain) || !plain.EqualStr(s) || !s.EqualStr(s) {
			t.Errorf("%q: EqualStr false against itself or its decoded form", tt.raw)
		}
	}
	a := Str{Raw: []byte(`call_\u0031`), Escaped: true}
	b := Str{Raw: []byte(`call\u005f1`), Escaped: true}
	if !a.EqualStr(b) {
		t.Error("two escapings of one text differ")
	}
	if a.EqualStr(Str{Raw: []byte(`call_2`)}) {
		t.Error("different texts are equal")
	}
	var absent Str
	if absent.Present() || !absent.IsEmpty() || !(Str{Raw: []byte{}}).Present() {
		t.Error("Present/IsEmpty")
	}
}

// TestScannerValidity checks that the scanner accepts exactly what
// encoding/json accepts, on documents built to hit each grammar rule.
func TestScannerValidity(t *testing.T) {
	docs := []string{
		`{}`, ` { } `, `{"a":1}`, `{"a":1,}`, `{,"a":1}`, `{"a" 1}`, `{"a":}`, `{a:1}`, `{"a":1 "b":2}`,
		`{"a":[1,2,3]}`, `{"a":[1,2,]}`, `{"a":[,1]}`, `{"a":[1 2]}`, `{"a":[}`, `{"a":]}`,
		`{"n":-0}`, `{"n":-}`, `{"n":01}`, `{"n":1.}`, `{"n":.5}`, `{"n":1.5e}`, `{"n":1.5e+}`, `{"n":1.5E-7}`,
		`{"n":1e5}`, `{"n":-1.0e-0}`, `{"n":+1}`, `{"n":0x10}`, `{"n":Infinity}`, `{"n":NaN}`,
		`{"t":true,"f":false,"z":null}`, `{"t":tru}`, `{"t":truex}`, `{"z":nul}`, `{"z":None}`,
		`{"s":"\u00e9\n\t\"\\\/"}`, `{"s":"\x"}`, `{"s":"\u00g0"}`, `{"s":"\u00e"}`, "{\"s\":\"tab\tinside\"}",
		"{\"s\":\"nl\ninside\"}", `{"s":"unterminated}`, `{"s":"ok"} x`, `{"s":"ok"}{}`, `{"a":{"b":{"c":[{"d":[]}]}}}`,
		"{\"s\":\"\x7f del is fine\"}", "{\"s\":\"caf\xc3\xa9\"}", `"str"`, `[1]`, `1`, `null`, ``, ` `, `{"a":1}` + "\n",
		`{"s":"12345678\"9"}`, `{"s":"1234567\\"}`, `{"s":"1234567\\\""}`, `{"long":"` + strings.Repeat(`abcdefgh\"`, 20) + `"}`,
		`{"k\u0065y":1}`, `{"":""}`,
	}
	for _, doc := range docs {
		var r Request
		err := r.Parse(OpenAIChat, []byte(doc))
		ok := err == nil || errors.Is(err, ErrNotObject)
		if ok != json.Valid([]byte(doc)) {
			t.Errorf("%q: Parse error %v, json.Valid %v", doc, err, json.Valid([]byte(doc)))
		}
		if err == nil != (json.Valid([]byte(doc)) && strings.HasPrefix(strings.TrimSpace(doc), "{")) {
			t.Errorf("%q: Parse error %v", doc, err)
		}
	}
	deep := strings.Repeat("[", 1200) + strings.Repeat("]", 1200)
	var r Request
	if err := r.Parse(OpenAIChat, []byte(`{"a":`+deep+`}`)); !errors.Is(err, ErrTooDeep) {
		t.Errorf("deep nesting: %v, want ErrTooDeep", err)
	}
	var se *SyntaxError
	if err := r.Parse(OpenAIChat, []byte(`{"a":1,}`)); !errors.As(err, &se) || se.Offset != 7 || !errors.Is(err, ErrInvalidJSON) {
		t.Errorf("syntax error %v, want offset 7 wrapping ErrInvalidJSON", err)
	}
}

func TestPyStr(t *testing.T) {
	for _, tt := range pyStrCases {
		got, err := AppendPyStr([]byte("x"), []byte(tt.in))
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if string(got) != "x"+tt.want {
			t.Errorf("str(json.loads(%s))\n got %s\nwant %s", tt.in, got[1:], tt.want)
		}
	}
	if got, err := AppendPyStr([]byte("keep"), []byte(`[1,`)); err == nil || string(got) != "keep" {
		t.Errorf("invalid JSON: %q, %v", got, err)
	}
}

func md5Agent(prompt []byte) string {
	sum := md5.Sum(prompt)
	return "prompt-" + hex.EncodeToString(sum[:])[:12]
}

// TestSystemPrompt pins the original's _extract_system_prompt cases through
// AppendSystemPrompt.
func TestSystemPrompt(t *testing.T) {
	tests := []struct {
		name   string
		kind   Kind
		body   string
		prompt string
		source SystemSource
		text   string // Request.System
	}{
		{"no system", OpenAIChat, `{"messages":[{"role":"user","content":"hi"}]}`, "default-system", SystemNone, ""},
		{"first system wins", OpenAIChat, `{"messages":[{"role":"system","content":"A"},{"role":"user","content":"u"},{"role":"system","content":"B"}]}`, "A", SystemMessage, "A"},
		{"empty system", OpenAIChat, `{"messages":[{"role":"system","content":""}]}`, "", SystemMessage, ""},
		{"list system", OpenAIChat, `{"messages":[{"role":"system","content":["You are a helpful assistant."]}]}`, "['You are a helpful assistant.']", SystemMessage, ""},
		{"parts system", OpenAIChat, `{"messages":[{"role":"system","content":[{"type":"text","text":"A"},{"type":"text","text":"B"}]}]}`, "[{'type': 'text', 'text': 'A'}, {'type': 'text', 'text': 'B'}]", SystemMessage, "AB"},
		{"null system", OpenAIChat, `{"messages":[{"role":"system","content":null}]}`, "None", SystemMessage, ""},
		{"developer", OpenAIChat, `{"messages":[{"role":"developer","content":"D"},{"role":"user","content":"u"}]}`, "D", DeveloperMessage, "D"},
		{"system beats developer", OpenAIChat, `{"messages":[{"role":"developer","content":"D"},{"role":"system","content":"S"}]}`, "S", SystemMessage, "S"},
		{"responses input before instructions", OpenAIResponses, `{"instructions":"I","input":[{"role":"system","content":"S"}]}`, "S", SystemMessage, "S"},
		{"responses instructions", OpenAIResponses, `{"instructions":"I","input":"hello"}`, "I", Instructions, "I"},
		{"responses empty instructions", OpenAIResponses, `{"instructions":"","input":"hello"}`, "", Instructions, ""},
		{"responses null instructions", OpenAIResponses, `{"instructions":null,"input":"hello"}`, "default-system", SystemNone, ""},
		{"chat ignores instructions", OpenAIChat, `{"instructions":"I","messages":[]}`, "default-system", SystemNone, ""},
		{"anthropic string", AnthropicMessages, `{"system":"You are Claude.","messages":[]}`, "You are Claude.", SystemField, "You are Claude."},
		{"anthropic empty", AnthropicMessages, `{"system":"","messages":[]}`, "default-system", SystemNone, ""},
		{"anthropic whitespace kept", AnthropicMessages, `{"system":"  ","messages":[]}`, "  ", SystemField, "  "},
		{"anthropic empty list", AnthropicMessages, `{"system":[],"messages":[]}`, "default-system", SystemNone, ""},
		{"anthropic list repr", AnthropicMessages, `{"system":["You are a helpful assistant."]}`, "['You are a helpful assistant.']", SystemField, ""},
		{"anthropic blocks", AnthropicMessages, `{"system":[{"type":"text","text":"A\n"},{"type":"text","text":"B","cache_control":{"type":"ephemeral"}}]}`,
			"[{'type': 'text', 'text': 'A\\n'}, {'type': 'text', 'text': 'B', 'cache_control': {'type': 'ephemeral'}}]", SystemField, "A\nB"},
		{"unicode escapes", AnthropicMessages, `{"system":"caf\u00e9 \ud83d\ude00"}`, "café 😀", SystemField, "café 😀"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Request
			if err := r.Parse(tt.kind, []byte(tt.body)); err != nil {
				t.Fatal(err)
			}
			if got := string(r.AppendSystemPrompt(nil)); got != tt.prompt {
				t.Errorf("system prompt %q, want %q", got, tt.prompt)
			}
			if r.SystemSource != tt.source {
				t.Errorf("source %v, want %v", r.SystemSource, tt.source)
			}
			if got := r.System.String(); got != tt.text {
				t.Errorf("System %q, want %q", got, tt.text)
			}
			if r.HasSystem() != r.System.Present() {
				t.Errorf("HasSystem %v but System present %v", r.HasSystem(), r.System.Present())
			}
		})
	}
	// The original's reference agent ids.
	var r Request
	r.Parse(OpenAIChat, []byte(`{"messages":[{"role":"user","content":"hi"}]}`))
	if got := md5Agent(r.AppendSystemPrompt(nil)); got != "prompt-7077bd40d00f" {
		t.Errorf("default agent id %s", got)
	}
	r.Parse(OpenAIChat, []byte(`{"messages":[{"role":"system","content":""}]}`))
	if got := md5Agent(r.AppendSystemPrompt(nil)); got != "prompt-d41d8cd98f00" {
		t.Errorf("empty-prompt agent id %s", got)
	}
}

// TestToolResultCounts pins the original's tool-result counts: the tool results the
// original turns into tool.result events, and their names.
func TestToolResultCounts(t *testing.T) {
	chat := `{"model":"gpt-4o","messages":[
		{"role":"system","content":"s"},{"role":"user","content":"u"},
		{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"calc","arguments":"{}"}}]},
		{"role":"tool","tool_call_id":"c1","content":"1"},
		{"role":"assistant","content":"a"},{"role":"user","content":"u2"},
		{"role":"assistant","content":null,"tool_calls":[{"id":"c2","type":"function","function":{"name":"search","arguments":"{}"}}]},
		{"role":"tool","tool_call_id":"c2","content":"2"},
		{"role":"assistant","content":"done"}]}`
	responses := `{"model":"gpt-4.1","input":[
		{"role":"user","content":"u"},
		{"type":"function_call","call_id":"f1","name":"calc","arguments":"{}"},
		{"type":"function_call_output","call_id":"f1","output":"1"},
		{"role":"assistant","content":"a"},
		{"type":"function_call","call_id":"f2","name":"search","arguments":"{}"},
		{"type":"function_call_output","call_id":"f2","output":"2"},
		{"role":"user","content":"thanks"}]}`
	anthropic := `{"model":"claude","messages":[
		{"role":"user","content":"u"},
		{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"calc","input":{"x":1}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"1","is_error":true}]},
		{"role":"assistant","content":"ok"}]}`
	tests := []struct {
		kind     Kind
		body     string
		messages int
		results  []string // tool names, in order
		errors   []bool
	}{
		{OpenAIChat, chat, 9, []string{"calc", "search"}, []bool{false, false}},
		{OpenAIResponses, responses, 7, []string{"calc", "search"}, []bool{false, false}},
		{AnthropicMessages, anthropic, 4, []string{"calc"}, []bool{true}},
	}
	for _, tt := range tests {
		var r Request
		if err := r.Parse(tt.kind, []byte(tt.body)); err != nil {
			t.Fatalf("%v: %v", tt.kind, err)
		}
		if len(r.Messages) != tt.messages {
			t.Errorf("%v: %d messages, want %d", tt.kind, len(r.Messages), tt.messages)
		}
		if len(r.ToolResults) != len(tt.results) {
			t.Fatalf("%v: %d tool results, want %d", tt.kind, len(r.ToolResults), len(tt.results))
		}
		for i, tr := range r.ToolResults {
			if tr.Name.String() != tt.results[i] || tr.IsError != tt.errors[i] || tr.Call < 0 {
				t.Errorf("%v: result %d = %q (error %v, call %d), want %q", tt.kind, i, tr.Name.String(), tr.IsError, tr.Call, tt.results[i])
			}
			if !r.ToolCalls[tr.Call].ID.EqualStr(tr.CallID) || r.ToolCalls[tr.Call].Message >= tr.Message {
				t.Errorf("%v: result %d linked to the wrong call", tt.kind, i)
			}
		}
	}
}

func TestContentText(t *testing.T) {
	tests := []struct {
		content string
		text    string
		present bool
		kind    ContentKind
	}{
		{`"hello"`, "hello", true, ContentString},
		{`""`, "", true, ContentString},
		{`null`, "", false, ContentNull},
		{`[]`, "", false, ContentArray},
		{`[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"b\u00e9"}]`, "abé", true, ContentArray},
		{`[{"text":"type after text","type":"text"}]`, "type after text", true, ContentArray},
		{`[{"type":"input_text","text":"in"},{"type":"output_text","text":"out"}]`, "inout", true, ContentArray},
		{`["bare strings are not blocks", {"type":"text","text":42}]`, "", false, ContentArray},
		{`[{"type":"tool_result","tool_use_id":"x","content":[{"type":"text","text":"inner"}]},{"type":"text","text":"outer"}]`, "outer", true, ContentArray},
		{`{"type":"text","text":"an object"}`, "{'type': 'text', 'text': 'an object'}", true, ContentOther},
		{`42`, "42", true, ContentOther},
		{`true`, "True", true, ContentOther},
	}
	for _, tt := range tests {
		var r Request
		body := `{"messages":[{"role":"user","content":` + tt.content + `}]}`
		if err := r.Parse(AnthropicMessages, []byte(body)); err != nil {
			t.Fatalf("%s: %v", tt.content, err)
		}
		m := r.Messages[0]
		if m.Text.String() != tt.text || m.Text.Present() != tt.present || m.Content != tt.kind {
			t.Errorf("%s: text %q present %v kind %v, want %q %v %v", tt.content, m.Text.String(), m.Text.Present(), m.Content, tt.text, tt.present, tt.kind)
		}
		if string(m.ContentRaw) != tt.content {
			t.Errorf("%s: ContentRaw %s", tt.content, m.ContentRaw)
		}
	}
}

// TestAnthropicUsage pins the original's Anthropic usage reading.
func TestAnthropicUsage(t *testing.T) {
	tests := []struct {
		usage        string
		in, out, tot int64
		hasTotal     bool
	}{
		{`{"input_tokens":100,"output_tokens":50}`, 100, 50, 150, true},
		{`{"input_tokens":100}`, 100, 0, 0, false},
		{`null`, 0, 0, 0, false},
	}
	for _, tt := range tests {
		var r Response
		if err := r.Parse(AnthropicMessages, 200, []byte(`{"type":"message","usage":`+tt.usage+`}`)); err != nil {
			t.Fatal(err)
		}
		tot, ok := r.Usage.Total()
		if r.Usage.InputTokens != tt.in || r.Usage.OutputTokens != tt.out || tot != tt.tot || ok != tt.hasTotal {
			t.Errorf("%s: %+v total %d %v", tt.usage, r.Usage, tot, ok)
		}
	}
}

func TestResponseErrors(t *testing.T) {
	tests := []struct {
		kind   Kind
		status int
		body   string
		isErr  bool
		typ    string
	}{
		{OpenAIChat, 200, `{"id":"x","choices":[]}`, false, ""},
		{OpenAIChat, 200, `{"error":{"message":"m","type":"server_error"}}`, true, "server_error"},
		{OpenAIChat, 200, `{"error":{"message":"m","code":"rate_limit_exceeded"}}`, true, "rate_limit_exceeded"},
		{OpenAIResponses, 200, `{"id":"resp","status":"completed","error":null}`, false, ""},
		{OpenAIResponses, 200, `{"id":"resp","status":"failed","error":{"code":"server_error","message":"m"}}`, true, "server_error"},
		{AnthropicMessages, 200, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, true, "overloaded_error"},
		{AnthropicMessages, 401, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`, true, "authentication_error"},
		{AnthropicMessages, 404, ``, true, ""},
		{OpenAIChat, 502, `<html>bad gateway</html>`, true, ""},
	}
	for _, tt := range tests {
		var r Response
		r.Parse(tt.kind, tt.status, []byte(tt.body))
		if r.IsError != tt.isErr || r.Error.TypeOrCode().String() != tt.typ {
			t.Errorf("%v %d %s: IsError %v type %q", tt.kind, tt.status, tt.body, r.IsError, r.Error.TypeOrCode().String())
		}
	}
	if DefaultErrorType(OpenAIChat, 429) != "rate_limit_error" || DefaultErrorType(AnthropicMessages, 529) != "overloaded_error" ||
		DefaultErrorType(OpenAIChat, 418) != "http_418" || DefaultErrorType(AnthropicMessages, 500) != "api_error" {
		t.Error("DefaultErrorType")
	}
}

// TestStreamPartialAndReuse feeds a recorded stream event by event: the
// partial result grows monotonically, and a reused parser gives the same
// result as a fresh one.
func TestStreamPartialAndReuse(t *testing.T) {
	body := fixture(t, "streams/anthropic_thinking_tool.sse")
	evs := splitEvents(body)
	p := AcquireStreamParser(AnthropicMessages)
	defer ReleaseStreamParser(p)
	prevText := 0
	for i, ev := range evs {
		if err := p.Event(ev); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		r := p.Result()
		if n := len(r.Text.String()); n < prevText {
			t.Fatalf("event %d: text shrank", i)
		} else {
			prevText = n
		}
		if i == 0 && (r.Usage.InputTokens != 472 || r.ID.String() != "msg_014p7gG3wDgGV9EUtLvnow3U") {
			t.Errorf("after message_start: %+v %q", r.Usage, r.ID.String())
		}
		if r.Complete != (i == len(evs)-1) {
			t.Errorf("event %d: Complete %v", i, r.Complete)
		}
	}
	want := summarizeResponse(p.Result(), nil)

	// Reuse for another kind, then for this stream again.
	p.Reset(OpenAIChat)
	feed(p, fixture(t, "streams/openai_chat_parallel_tools.sse"))
	if got := p.Result(); len(got.ToolCalls) != 2 || got.Text.Present() {
		t.Errorf("chat stream after reuse: %d calls, text %q", len(got.ToolCalls), got.Text.String())
	}
	p.Reset(AnthropicMessages)
	feed(p, body)
	got := summarizeResponse(p.Result(), nil)
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	if string(a) != string(b) {
		t.Errorf("reused parser differs:\n%s\n%s", a, b)
	}
}

func TestStreamLimits(t *testing.T) {
	p := AcquireStreamParser(OpenAIChat)
	defer ReleaseStreamParser(p)
	p.MaxText = 10
	for i := 0; i < 5; i++ {
		p.Event([]byte(`data: {"choices":[{"index":0,"delta":{"content":"abcd"}}]}` + "\n\n"))
	}
	if r := p.Result(); r.Text.String() != "abcdabcd" || !p.Truncated() {
		t.Errorf("text %q truncated %v", r.Text.String(), p.Truncated())
	}
	for i := 0; i < 2*maxStreamCalls; i++ {
		p.Event([]byte(`data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":` + itoa(i) + `,"id":"c","function":{"name":"f","arguments":"{}"}}]}}]}` + "\n\n"))
	}
	if n := len(p.Result().ToolCalls); n != maxStreamCalls {
		t.Errorf("%d tool calls kept, want %d", n, maxStreamCalls)
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// TestRequestReuse parses a large request then a small one into the same
// Request: nothing of the first may show through.
func TestRequestReuse(t *testing.T) {
	big := fixture(t, "requests/anthropic_tool_loop.json")
	small := []byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
	r := AcquireRequest()
	defer ReleaseRequest(r)
	if err := r.Parse(AnthropicMessages, big); err != nil {
		t.Fatal(err)
	}
	if err := r.Parse(AnthropicMessages, small); err != nil {
		t.Fatal(err)
	}
	var fresh Request
	fresh.Parse(AnthropicMessages, small)
	a, _ := json.Marshal(summarizeRequest(r, nil))
	b, _ := json.Marshal(summarizeRequest(&fresh, nil))
	if string(a) != string(b) {
		t.Errorf("reused request differs from a fresh one:\n%s\n%s", a, b)
	}
}

func TestValidAndFrom(t *testing.T) {
	for _, doc := range []string{`{"a":1}`, ` [1, "x"] `, `"s"`, `1e5`, `{"a":1,}`, ``, `nul`, `{} {}`, `"\x"`} {
		if Valid([]byte(doc)) != json.Valid([]byte(doc)) {
			t.Errorf("Valid(%q) = %v", doc, Valid([]byte(doc)))
		}
	}
	body := fixture(t, "requests/openai_chat_tool_loop.json")
	var r Request
	if err := r.Parse(OpenAIChat, body); err != nil {
		t.Fatal(err)
	}
	for from, want := range map[int][2]int{0: {3, 3}, 3: {3, 1}, 4: {2, 1}, 8: {1, 0}, 9: {0, 0}, 50: {0, 0}} {
		if got := [2]int{len(r.ToolResultsFrom(from)), len(r.ToolCallsFrom(from))}; got != want {
			t.Errorf("from %d: %d results, %d calls; want %v", from, got[0], got[1], want)
		}
	}
}

func TestUsageMerge(t *testing.T) {
	// Each reported field, alone, replaces only its own count.
	fields := []struct {
		has UsageFields
		get func(*Usage) int64
	}{
		{HasInput, func(u *Usage) int64 { return u.InputTokens }},
		{HasOutput, func(u *Usage) int64 { return u.OutputTokens }},
		{HasTotal, func(u *Usage) int64 { return u.TotalTokens }},
		{HasCached, func(u *Usage) int64 { return u.CachedTokens }},
		{HasCacheCreation, func(u *Usage) int64 { return u.CacheCreationTokens }},
		{HasReasoning, func(u *Usage) int64 { return u.ReasoningTokens }},
		{HasCacheCreation1h, func(u *Usage) int64 { return u.CacheCreation1hTokens }},
	}
	all := Usage{1, 1, 1, 1, 1, 1, 1, HasInput}
	for _, f := range fields {
		o := Usage{9, 9, 9, 9, 9, 9, 9, f.has}
		u := all
		u.merge(&o)
		if u.Has != HasInput|f.has {
			t.Errorf("merge of %b: Has %b", f.has, u.Has)
		}
		for _, g := range fields {
			want := int64(1)
			if g.has == f.has {
				want = 9
			}
			if got := g.get(&u); got != want {
				t.Errorf("merge of field %b: field %b is %d, want %d", f.has, g.has, got, want)
			}
		}
	}
}

// A stream's tool calls are read by the same code as a whole answer's:
// custom tools and arguments sent as JSON rather than a string come out
// the same either way.
func TestStreamToolCallsMatchAnswer(t *testing.T) {
	cases := []struct {
		kind   Kind
		answer string
		events []string
	}{
		{OpenAIChat,
			`{"choices":[{"index":0,"message":{"tool_calls":[{"id":"c1","custom":{"name":"sh","input":"ls -l"}},{"id":"c2","function":{"name":"f","arguments":{"a":1}}}]}}]}`,
			[]string{
				`data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","custom":{"name":"sh","input":"ls -l"}}]}}]}`,
				`data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"c2","function":{"name":"f","arguments":{"a":1}}}]}}]}`,
			}},
		{OpenAIResponses,
			`{"status":"completed","output":[{"type":"custom_tool_call","call_id":"c1","name":"sh","input":"ls -l"}]}`,
			[]string{
				`data: {"type":"response.output_item.done","output_index":0,"item":{"type":"custom_tool_call","call_id":"c1","name":"sh","input":"ls -l"}}`,
			}},
		{AnthropicMessages,
			`{"content":[{"type":"tool_use","id":"t1","name":"get","input":{"q":"x"}}]}`,
			[]string{
				`event: content_block_start` + "\n" + `data: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t1","name":"get","input":{"q":"x"}}}`,
			}},
	}
	type call struct{ ID, Name, Args string }
	calls := func(r *Response) (out []call) {
		for _, c := range r.ToolCalls {
			out = append(out, call{c.ID.String(), c.Name.String(), c.Arguments.String()})
		}
		return out
	}
	for _, c := range cases {
		r := AcquireResponse()
		if err := r.Parse(c.kind, 200, []byte(c.answer)); err != nil {
			t.Fatal(err)
		}
		want := calls(r)
		ReleaseResponse(r)
		if len(want) == 0 {
			t.Fatalf("%v: the answer has no tool call", c.kind)
		}
		p := AcquireStreamParser(c.kind)
		for _, ev := range c.events {
			if err := p.Event([]byte(ev + "\n\n")); err != nil {
				t.Fatalf("%v: %v", c.kind, err)
			}
		}
		got := calls(p.Result())
		ReleaseStreamParser(p)
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(want)
		if string(a) != string(b) {
			t.Errorf("%v: stream gives %s, answer %s", c.kind, a, b)
		}
	}
}
